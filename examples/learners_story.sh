#!/usr/bin/env bash
# "A learner's story" from the README, from an empty database: the administrator sets up the
# catalog, a designated college and its staff; the college registers and enrolls Wang Fang; she
# submits her 高级工 certificate; an evaluator verifies it; then her milestones, progress and a
# what-if. Run it against a fresh server started with the first administrator:
#
#   SKILLPATH_ADMIN_EMAIL=admin@example.org SKILLPATH_ADMIN_PASSWORD='a long passphrase' \
#       cargo run --release
#   bash examples/learners_story.sh            # BASE=http://127.0.0.1:8080 by default
#
# Needs curl and python3 (to read fields of the JSON answers).
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8080}
ADMIN_EMAIL=${ADMIN_EMAIL:-admin@example.org}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-a long passphrase}
PASSWORD="a long enough password"

field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
call() { # method path token [body]
    local method=$1 path=$2 token=$3 body=${4:-}
    curl -fsS -X "$method" "$BASE/api/v1$path" \
        ${token:+-H "authorization: Bearer $token"} \
        ${body:+-H "content-type: application/json" -d "$body"}
}
login() { call POST /auth/login "" "{\"email\":\"$1\",\"password\":\"$2\"}" | field '["access_token"]'; }

admin=$(login "$ADMIN_EMAIL" "$ADMIN_PASSWORD")

# 1. The catalog: the occupation, in the technician catalog.
call POST /occupations "$admin" '{"code": "6-18-02-04", "name": "电工", "technician_catalog": true,
  "high_skill_catalog": true, "source": "国家职业分类大典（2022年版）"}' >/dev/null
# 2. The college, designated a new-type technician college from 2021-12-13.
college=$(call POST /institutions "$admin" '{"name": "上海某技师学院", "kind": "technician_college"}' | field '["id"]')
call POST "/institutions/$college/designations" "$admin" \
  '{"batch": "第一批", "designated_from": "2021-12-13"}' >/dev/null
# 3. Its staff account, and an evaluator.
call POST /users "$admin" "{\"email\": \"staff@college.example\", \"password\": \"$PASSWORD\",
  \"role\": \"college_staff\", \"institution_id\": $college}" >/dev/null
call POST /users "$admin" "{\"email\": \"evaluator@example.org\", \"password\": \"$PASSWORD\",
  \"role\": \"evaluator\"}" >/dev/null
staff=$(login staff@college.example "$PASSWORD")
evaluator=$(login evaluator@example.org "$PASSWORD")
# 4. The program; Wang Fang registered and enrolled 2022-09-01 – 2025-06-30.
program=$(call POST "/institutions/$college/programs" "$staff" \
  '{"name": "电气自动化", "occupation_code": "6-18-02-04"}' | field '["id"]')
learner=$(call POST /learners "$staff" \
  '{"name": "王芳", "kind": "student", "email": "wangfang@example.org", "hukou": "other"}' | field '["id"]')
call POST "/learners/$learner/enrollments" "$staff" \
  "{\"program_id\": $program, \"start_date\": \"2022-09-01\", \"end_date\": \"2025-06-30\"}" >/dev/null
# 5. Her own account.
call POST /users "$admin" "{\"email\": \"wangfang@example.org\", \"password\": \"$PASSWORD\",
  \"role\": \"learner\", \"learner_id\": $learner}" >/dev/null
me=$(login wangfang@example.org "$PASSWORD")

# She submits her 高级工 certificate; an evaluator verifies it.
certificate=$(call POST "/learners/$learner/certificates" "$me" \
  '{"number": "Y310000000000024300012", "kind": "skill_level", "level": "senior_worker",
    "occupation_code": "6-18-02-04", "issuer": "上海某职业技能等级认定机构", "issued_on": "2024-06-28"}' \
  | field '["id"]')
call POST "/certificates/$certificate/verification" "$evaluator" \
  '{"decision": "verify", "reason": "与全国联网查询结果一致"}' | field '["status"]'

echo "-- her milestones the day before the second anniversary"
call GET "/learners/$learner/milestones?as_of=2026-06-27" "$me" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["milestones"]:
    print("%-40s %-12s %-12s target %s" % (m["rule_id"], m["status"], m.get("eligible_from") or "", m.get("target")))'

echo "-- her progress: the next steps"
call GET /me/progress "$me" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["next_steps"]:
    print(s["kind"], "|", s["text"]["en"])'

echo "-- if she passes 技师 on 2027-06-30"
call POST /me/what-if "$me" \
  '{"certificates": [{"level": "technician", "occupation_code": "6-18-02-04", "issued_on": "2027-06-30"}]}' \
  | python3 -c '
import json, sys
for c in json.load(sys.stdin)["changes"]:
    before = (c.get("before") or {}).get("status", "-")
    after = (c.get("after") or {}).get("status", "gone")
    print("%-60s %s -> %s" % (c["milestone_key"], before, after))'
