#!/usr/bin/env bash
# Bulk enrollment speed: 10,000 existing learners (seeded straight into a throwaway
# database) enrolled by one v2 request (202 + background task, emails to the outbox),
# polled until the task succeeds. Prints the wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
source bench/lib.sh
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
export ROLLCALL_SERVER_MAX_BODY_BYTES=16777216
start_server
course=course-v1:Bench+Bulk+2026
curl -s -o /dev/null -X POST "$base/api/admin/v1/courses" -H "Authorization: JWT $token" -H 'Content-Type: application/json' -d "{\"course_key\": \"$course\", \"title\": \"Bulk\"}"
python3 - "$dir/bench.db" "$N" "$dir/body.json" <<'PY'
import json, sqlite3, sys
db, n, body = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(db, timeout=30)
c.executemany("INSERT INTO users (username, email, date_joined) VALUES (?, ?, 0)", ((f"b{i}", f"b{i}@example.org") for i in range(n)))
c.commit()
json.dump({"identifiers": [f"b{i}" for i in range(n)], "email_students": True}, open(body, "w"))
PY
start=$(date +%s.%N)
url=$(curl -s -X POST "$base/api/enrollment/v2/courses/$course/enrollments" -H "Authorization: JWT $token" -H 'Content-Type: application/json' --data-binary @"$dir/body.json" | sed 's/.*"status_url":"\([^"]*\)".*/\1/')
until curl -s "$base$url?page_size=1" -H "Authorization: JWT $token" | grep -q '"status":"succeeded","task_id"'; do sleep 0.1; done
end=$(date +%s.%N)
echo "enrolled $N learners (history + outbox email each) in $(echo "$end - $start" | bc) s"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(\"enrollments:\", c.execute(\"SELECT COUNT(*) FROM enrollments WHERE is_active=1\").fetchone()[0], \"history:\", c.execute(\"SELECT COUNT(*) FROM enrollment_history\").fetchone()[0], \"emails:\", c.execute(\"SELECT COUNT(*) FROM outbox\").fetchone()[0])" "$dir/bench.db"
