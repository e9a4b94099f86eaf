#!/usr/bin/env bash
# The Foundation speed budget: starts a release server on a throwaway database (rate limits
# off, access log off), then measures GET /health and an authenticated admin list with 32
# keep-alive connections, and the server's peak RSS. Loopback only; every run is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
cargo build --release --quiet --bin rollcall --example loadgen
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
ROLLCALL_RATE_LIMITS_ENABLED=false RUST_LOG=warn ./target/release/rollcall --listen 127.0.0.1:0 --db "$dir/bench.db" --demo >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$dir/out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$dir/out")
id=$(sed -n 's/^client_id: //p' "$dir/out"); secret=$(sed -n 's/^client_secret: //p' "$dir/out")
token=$(curl -s -X POST "$base/oauth2/access_token" -d grant_type=client_credentials -d client_id="$id" -d client_secret="$secret" -d token_type=jwt | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
load=./target/release/examples/loadgen
$load --url "$base/health" --connections 32 --seconds "$SECONDS_PER_RUN"
$load --url "$base/api/admin/v1/courses" --header "Authorization: JWT $token" --connections 32 --seconds "$SECONDS_PER_RUN"
echo "server peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MB"}')"
