#!/usr/bin/env bash
# Property-based fuzzing of every documented route with schemathesis (from PyPI): a
# release server on a throwaway demo database, an admin JWT, and the checks the test suite
# runs (tests/api/docs.rs, with tests/schemathesis.toml), at more examples per operation.
# Any 500 or any valid request refused is a bug.
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=${EXAMPLES:-25}
command -v st >/dev/null || pip install --quiet schemathesis
source bench/lib.sh
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
start_server --demo
st --config-file tests/schemathesis.toml run "$base/api-docs/openapi.json" -H "Authorization: JWT $token" \
  --checks all --exclude-checks negative_data_rejection --phases examples,coverage,fuzzing \
  --max-examples "$EXAMPLES" --workers 4
