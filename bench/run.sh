#!/usr/bin/env bash
# The Foundation speed budget: starts a release server on a throwaway database (rate limits
# off, access log off), then measures GET /health and an authenticated admin list with 32
# keep-alive connections, and the server's peak RSS. Loopback only; every run is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
source bench/lib.sh
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
start_server --demo
load=./target/release/examples/loadgen
$load --url "$base/health" --connections 32 --seconds "$SECONDS_PER_RUN"
$load --url "$base/api/admin/v1/courses" --header "Authorization: JWT $token" --connections 32 --seconds "$SECONDS_PER_RUN"
echo "server peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MB"}')"
