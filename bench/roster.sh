#!/usr/bin/env bash
# Roster paging at scale: seeds one course with 1,000,000 enrollments straight into a
# throwaway database (python3's sqlite3), then times page 1 and page 40,000 of
# GET /api/enrollment/v2/courses/{course}/enrollments. They should cost about the same:
# the list seeks on (course_id, course_seq) instead of skipping rows.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
source bench/lib.sh
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
start_server
course=course-v1:Bench+Roster+2026
curl -s -o /dev/null -X POST "$base/api/admin/v1/courses" -H "Authorization: JWT $token" -H 'Content-Type: application/json' -d "{\"course_key\": \"$course\", \"title\": \"Roster\"}"
python3 - "$dir/bench.db" "$N" <<'PY'
import sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db, timeout=30)
course = c.execute("SELECT id FROM courses WHERE course_key = 'course-v1:Bench+Roster+2026'").fetchone()[0]
c.execute("BEGIN")
c.executemany("INSERT INTO users (username, email, date_joined) VALUES (?, ?, 0)", ((f"r{i}", f"r{i}@example.org") for i in range(n)))
first = c.execute("SELECT id FROM users WHERE username = 'r0'").fetchone()[0]
c.executemany("INSERT INTO enrollments (user_id, course_id, mode, is_active, course_seq, created, updated) VALUES (?, ?, 'audit', 1, ?, 0, 0)",
              ((first + i, course, i + 1) for i in range(n)))
c.commit()
PY
echo "seeded $N enrollments"
last=$(( N / 25 ))
for page in 1 $(( last / 2 )) $last; do
  t=$(curl -s -o /dev/null -w '%{time_total}' "$base/api/enrollment/v2/courses/$course/enrollments?page=$page&page_size=25" -H "Authorization: JWT $token")
  echo "page $page: ${t}s (one request, includes the count)"
done
./target/release/examples/loadgen --url "$base/api/enrollment/v2/courses/$course/enrollments?page=1&page_size=25" --header "Authorization: JWT $token" --connections 8 --seconds 5
./target/release/examples/loadgen --url "$base/api/enrollment/v2/courses/$course/enrollments?page=$last&page_size=25" --header "Authorization: JWT $token" --connections 8 --seconds 5
