# Shared by the bench scripts: build, start a release server on a throwaway database with
# rate limits and the access log off, and get a JWT for its bootstrap client.
# Arguments go to `rollcall serve`; export ROLLCALL_* variables before calling to set more.
# Sets $dir, $pid, $base and $token; the caller's EXIT trap stops the server.
start_server() {
  cargo build --release --quiet --bin rollcall --example loadgen
  dir=$(mktemp -d)
  ROLLCALL_RATE_LIMITS_ENABLED=false RUST_LOG=warn ./target/release/rollcall --listen 127.0.0.1:0 --db "$dir/bench.db" "$@" >"$dir/out" 2>"$dir/err" &
  pid=$!
  for _ in $(seq 100); do grep -q '^listening on' "$dir/out" 2>/dev/null && break; sleep 0.1; done
  base=$(sed -n 's/^listening on //p' "$dir/out")
  local id secret
  # stdout is not a terminal: the first start's secrets are in a file beside the database.
  id=$(sed -n 's/^client_id: //p' "$dir/bench.db.first-start-credentials"); secret=$(sed -n 's/^client_secret: //p' "$dir/bench.db.first-start-credentials")
  token=$(curl -s -X POST "$base/oauth2/access_token" -d grant_type=client_credentials -d client_id="$id" -d client_secret="$secret" -d token_type=jwt | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
}
