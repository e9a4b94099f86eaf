#!/usr/bin/env bash
# The server's RSS after a burst of 50 concurrent password logins at the default argon2
# cost (each takes its working memory), and again after 3 s idle: the memory must come back.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
start_server
password=$(sed -n 's/^password: //p' "$dir/bench.db.first-start-credentials")
rss() { grep VmRSS "/proc/$pid/status" | awk '{print $2 " kB"}'; }
echo "idle before:  $(rss)"
jobs=()
for _ in $(seq 50); do
  curl -s -o /dev/null -X POST "$base/login" -d username=admin -d password="$password" & jobs+=($!)
done
wait "${jobs[@]}"
echo "after logins: $(rss) (peak $(grep VmHWM "/proc/$pid/status" | awk '{print $2 " kB"}'))"
sleep 3
echo "idle after:   $(rss)"
