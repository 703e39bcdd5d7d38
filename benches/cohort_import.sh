#!/usr/bin/env bash
# Times the import of a cohort CSV of N rows (default 100,000) through the HTTP API against a
# release build, on SQLite (a temporary file) and, when PG_URL is given, on PostgreSQL (a
# throwaway database created from it). Prints the seconds and the server's peak resident memory.
#   benches/cohort_import.sh [rows]          PG_URL=postgres://postgres@127.0.0.1:5432/postgres benches/cohort_import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-100000}
cargo build --release --quiet --bin skillpath --example cohort_csv
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
target/release/examples/cohort_csv "$ROWS" > "$WORK/cohort.csv"
echo "file: $ROWS rows, $(du -h "$WORK/cohort.csv" | cut -f1)"

json() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }

run() {
    local label=$1 url=$2 port=$3
    DATABASE_URL=$url SKILLPATH_BIND=127.0.0.1:$port SKILLPATH_LOG_FORMAT=text RUST_LOG=warn \
    SKILLPATH_JWT_SECRET=benchmark-secret-of-more-than-32-bytes SKILLPATH_DATA_KEY=benchmark-data-key-of-more-than-32-bytes \
    SKILLPATH_ADMIN_EMAIL=admin@bench.example SKILLPATH_ADMIN_PASSWORD='benchmark password' \
        target/release/skillpath serve > "$WORK/$label.log" 2>&1 &
    local pid=$! base="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do curl -sf "$base/ready" >/dev/null && break; sleep 0.1; done
    local token
    token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
        -d '{"email":"admin@bench.example","password":"benchmark password"}' | json access_token | tr -d '"')
    local auth=(-H "authorization: Bearer $token" -H 'content-type: application/json')
    curl -sf "$base/api/v1/occupations" "${auth[@]}" -d '{"code":"6-18-02-04","name":"电工","source":"bench"}' >/dev/null
    local inst prog cohort
    inst=$(curl -sf "$base/api/v1/institutions" "${auth[@]}" -d '{"name":"Bench College","kind":"technician_college"}' | json id)
    prog=$(curl -sf "$base/api/v1/institutions/$inst/programs" "${auth[@]}" -d '{"name":"电气","occupation_code":"6-18-02-04"}' | json id)
    cohort=$(curl -sf "$base/api/v1/cohorts" "${auth[@]}" -d "{\"program_id\":$prog,\"name\":\"bench\",\"intake_year\":2024}" | json id)
    local rss_before start end report
    rss_before=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
    start=$(date +%s.%N)
    report=$(curl -sf "$base/api/v1/cohorts/$cohort/enrollments/import" -H "authorization: Bearer $token" \
        -H 'content-type: text/csv' --data-binary "@$WORK/cohort.csv")
    end=$(date +%s.%N)
    local peak
    peak=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
    printf '%-10s %7.2f s   created %s   rejected %s   RSS before %d MB, peak %d MB\n' "$label" \
        "$(echo "$end - $start" | bc)" "$(echo "$report" | json created)" "$(echo "$report" | json rejected_count)" \
        $((rss_before / 1024)) $((peak / 1024))
    kill $pid; wait $pid 2>/dev/null || true
}

if [ -z "${SKIP_SQLITE:-}" ]; then run sqlite "$WORK/bench.db" 18181; fi
if [ -n "${PG_URL:-}" ]; then
    DB="skillpath_bench_$$"
    psql "$PG_URL" -qc "CREATE DATABASE $DB"
    run postgres "${PG_URL%/*}/$DB" 18182
    psql "$PG_URL" -qc "DROP DATABASE $DB WITH (FORCE)"
fi
