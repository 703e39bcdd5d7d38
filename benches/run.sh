#!/usr/bin/env bash
# Every benchmark of docs/performance.md, each beside its baseline measured in the
# same run, on this machine. Prints a Markdown table and writes it to $OUT.
#
#   benches/run.sh
#
# Environment (all optional):
#   PG_URL           an administrative PostgreSQL URL; throwaway databases are created beside it
#                    (default postgres://postgres@127.0.0.1:5432/postgres)
#   PG_LEARNERS      learners seeded into PostgreSQL (1000000)
#   SQLITE_LEARNERS  learners seeded into SQLite (100000)
#   COHORT_ROWS      rows of the cohort CSV import (100000)
#   TOKENS           learners logged in for the HTTP load (1000)
#   DURATION         seconds of each measured load run (15)
#   OUT              where the table is written (target/benchmarks.md)
#   ONLY             the parts to run, of: engine city import notify (all of them)
# Needs curl, psql and /usr/bin/time; installs wrk from the distribution's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_LEARNERS=${PG_LEARNERS:-1000000}
SQLITE_LEARNERS=${SQLITE_LEARNERS:-100000}
COHORT_ROWS=${COHORT_ROWS:-100000}
TOKENS=${TOKENS:-1000}
DURATION=${DURATION:-15}
OUT=${OUT:-target/benchmarks.md}
THREADS=2          # wrk threads
SAT_CONNECTIONS=32 # connections at saturation
RATE_CONNECTIONS=64 # connections of a fixed-rate run: enough that one is always free
ONLY=${ONLY:-engine city import notify}
part() { [[ " $ONLY " == *" $1 "* ]]; } # part NAME: whether this run measures NAME

STARTED=$(date +%s)
WORK=$(mktemp -d)
drop_pg_databases() { # this run's throwaway databases, or those named $1
    local db
    local pattern=${1:-skillpath_bench_%_$$}
    pattern=${pattern//_/\\_} # LIKE's _ is a wildcard
    for db in $(psql "$PG_URL" -tAc "SELECT datname FROM pg_database WHERE datname LIKE '$pattern'"); do
        psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
cleanup() {
    kill $(jobs -p) $(cat "$WORK/pids" 2>/dev/null) 2>/dev/null || true
    wait 2>/dev/null || true
    drop_pg_databases
    rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n== %s (%ds)\n' "$*" $(($(date +%s) - STARTED)) >&2; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; } # a key=value of a RESULT line
json() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,}\"]*\).*/\1/p"; }
met() { awk "BEGIN { exit !($1) }" && echo yes || echo "**no**"; }

# ------------------------------------------------------------------ tools
for tool in curl psql /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "benches/run.sh needs $tool" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
    say "installing wrk"
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi

say "building (release)"
cargo build --release --quiet --bin skillpath --example baseline_server --example cohort_csv
cargo bench --quiet --no-run --bench engine --bench notify 2>/dev/null

# The service's settings for every run; secrets are fixed so seeded accounts can log in.
export SKILLPATH_JWT_SECRET=benchmark-secret-of-more-than-32-bytes
export SKILLPATH_DATA_KEY=benchmark-data-key-of-more-than-32-bytes
export SKILLPATH_ADMIN_EMAIL=admin@bench.example
export SKILLPATH_ADMIN_PASSWORD='benchmark password'
export SKILLPATH_ACCESS_TOKEN_TTL_SECS=7200
export SKILLPATH_WORKER_IN_SERVE=false
export SKILLPATH_LOG_FORMAT=text
export RUST_LOG=warn
BIN=target/release/skillpath

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 |"); }

# timed LABEL CMD…: runs CMD, leaves seconds and peak resident MB in $SECONDS_TAKEN and $PEAK_MB.
timed() {
    local label=$1; shift
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" > "$WORK/$label.out" 2>&1 \
        || { cat "$WORK/$label.out" >&2; exit 1; }
    read -r SECONDS_TAKEN peak_kb < "$WORK/time"
    PEAK_MB=$((peak_kb / 1024))
}

new_pg_database() { # a throwaway database → its URL
    local name="skillpath_bench_$1_$$"
    psql "$PG_URL" -qc "CREATE DATABASE $name" >/dev/null
    echo "${PG_URL%/*}/$name"
}

start() { # start BINARY PORT DATABASE_URL → $SERVER_PID, waits until it answers
    if curl -s -o /dev/null "http://127.0.0.1:$2/"; then
        echo "port $2 is taken by another server" >&2
        exit 1
    fi
    DATABASE_URL=$3 SKILLPATH_BIND=127.0.0.1:$2 "$1" >> "$WORK/server-$2.log" 2>&1 &
    SERVER_PID=$!
    echo "$SERVER_PID" >> "$WORK/pids" # servers started in a subshell are not this shell's jobs
    for _ in $(seq 1 300); do
        curl -s -o /dev/null "http://127.0.0.1:$2/" && kill -0 $SERVER_PID 2>/dev/null && return 0
        kill -0 $SERVER_PID 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/server-$2.log" >&2
    echo "server on port $2 did not start" >&2
    exit 1
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }
rss_mb() { awk -v k="$2" '$1 == k":" { printf "%d", $2 / 1024 }' "/proc/$1/status"; }

load() { # load PORT [RATE] (env: TOKENS_FILE or MAX_ID) → RESULT line
    local port=$1 rate=${2:-} connections=$SAT_CONNECTIONS
    [ -n "$rate" ] && connections=$RATE_CONNECTIONS
    RATE=$rate THREADS=$THREADS wrk -t$THREADS -c$connections -d"${DURATION}s" --timeout 10s \
        -s benches/load.lua "http://127.0.0.1:$port" | grep '^RESULT'
}
warm() { DURATION=5 load "$@" >/dev/null; }
checked() { # a RESULT line of a run without errors, else stop
    local errors
    errors=$(($(echo "$1" | field socket_errors) + $(echo "$1" | field non_2xx)))
    if [ "$errors" != 0 ] || [ "$(echo "$1" | field requests)" = 0 ]; then
        echo "errors under load: $1" >&2
        exit 1
    fi
}
describe() { # describe RESULT [RATE]: the line in words; a fixed rate not kept is said so
    local rps
    rps=$(echo "$1" | field rps)
    echo -n "$rps req/s, p50 $(echo "$1" | field p50_ms) ms, p99 $(echo "$1" | field p99_ms) ms"
    if [ -n "${2:-}" ] && awk "BEGIN { exit !($rps < 0.95 * $2) }"; then
        echo -n " (rate not kept: past saturation, the wait for a free connection is not counted)"
    fi
    echo
}

login_sample() { # login_sample PORT LEARNERS → a file of access tokens, one a line
    mkdir -p "$WORK/logins"
    rm -f "$WORK/logins/"*
    shuf -i "1-$2" -n "$TOKENS" > "$WORK/learner_ids"
    xargs -P 4 -I{} curl < "$WORK/learner_ids" -sf -o "$WORK/logins/{}" \
        "http://127.0.0.1:$1/api/v1/auth/login" -H 'content-type: application/json' \
        -d '{"email":"learner{}@seed.example","password":"seeded learner password"}' || true
    for answer in "$WORK/logins/"*; do json access_token < "$answer"; echo; done | grep . > "$WORK/tokens"
    local have
    have=$(wc -l < "$WORK/tokens")
    [ "$have" -eq "$TOKENS" ] || { echo "only $have of $TOKENS seeded learners could log in" >&2; exit 1; }
    echo "$WORK/tokens"
}

page_sessions() { # page_sessions PORT TOKENS_FILE → a file of page-session cookies, one a line
    # The same learners log in through the login form (its CSRF cookie and token) as a browser does.
    local port=$1 n=0
    mkdir -p "$WORK/jars"
    rm -f "$WORK/jars/"* "$WORK/sessions"
    while [ "$n" -lt "$(wc -l < "$2")" ]; do
        n=$((n + 1))
        local jar="$WORK/jars/$n" csrf
        csrf=$(curl -sf -c "$jar" "http://127.0.0.1:$port/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
        curl -sf -o /dev/null -b "$jar" -c "$jar" "http://127.0.0.1:$port/login" \
            --data-urlencode "email=learner$(sed -n "${n}p" "$WORK/learner_ids")@seed.example" \
            --data-urlencode "password=seeded learner password" --data-urlencode "csrf=$csrf" || true
        awk '$6 == "sp_session" { print $7 }' "$jar" >> "$WORK/sessions"
    done
    echo "$WORK/sessions"
}

# ------------------------------------------------------------------ the rules engine
if part engine; then
say "rules engine (criterion)"
cargo bench --quiet --bench engine -- --warm-up-time 2 --measurement-time 5 > "$WORK/engine.out" 2>&1
mean_ns=$(sed -n 's/.*"mean":{"confidence_interval":{[^}]*},"point_estimate":\([0-9.e+-]*\).*/\1/p' \
    target/criterion/engine/evaluate_realistic_learner/new/estimates.json)
eps=$(calc "1e9 / $mean_ns" 0)
row "rules engine: one evaluation of a learner with 3 certificates, 2 enrollments, 3 jobs (all rules, traces)" \
    "—" "$eps evaluations/s on one core ($(calc "$mean_ns / 1000" 1) µs)" "—" "—" "≥ 200,000/s" "$(met "$eps >= 200000")"
fi

# ------------------------------------------------------------------ one backend at scale
city_scale() { # city_scale BACKEND DATABASE_URL LEARNERS PORT
    local backend=$1 url=$2 learners=$3 port=$4 base_port=$(($4 + 1))
    say "$backend: seeding $learners learners"
    DATABASE_URL=$url timed seed "$BIN" seed --learners "$learners" --accounts
    row "write $learners synthetic learners with their records and accounts (\`skillpath seed\`)" "$backend" \
        "$SECONDS_TAKEN s, peak RSS $PEAK_MB MB" "—" "—" "a few minutes for 1,000,000" "—"

    say "$backend: first recomputation"
    DATABASE_URL=$url timed recompute1 "$BIN" recompute
    local changes
    changes=$(sed -n 's/.*; \([0-9]*\) change.*/\1/p' "$WORK/recompute1.out")
    row "first recomputation of all milestones ($changes changes stored with their notices)" "$backend" \
        "$SECONDS_TAKEN s, peak RSS $PEAK_MB MB" "—" "—" "—" "—"
    if [ "$backend" = PostgreSQL ]; then
        # By the next night autovacuum has processed the rows the first run wrote; here it would
        # still be at work, taking a core from the measurement.
        say "$backend: VACUUM (ANALYZE)"
        psql "$url" -qc "VACUUM (ANALYZE)"
    fi
    say "$backend: nightly recomputation"
    DATABASE_URL=$url timed recompute2 "$BIN" recompute
    local nightly=$SECONDS_TAKEN target="—" verdict="—"
    if [ "$backend" = PostgreSQL ]; then target="≤ 60 s for 1,000,000"; verdict=$(met "$nightly <= 60 * $learners / 1000000"); fi
    local after=""
    [ "$backend" = PostgreSQL ] && after=" (after VACUUM (ANALYZE))"
    row "nightly recomputation of all milestones, nothing changed$after" "$backend" \
        "$nightly s, peak RSS $PEAK_MB MB" "—" "—" "$target" "$verdict"

    say "$backend: baseline server under load"
    start target/release/examples/baseline_server "$base_port" "$url"
    export MAX_ID=$learners
    warm "$base_port"
    local base_sat base_rps half
    base_sat=$(load "$base_port")
    base_rps=$(echo "$base_sat" | field rps)
    half=$(calc "$base_rps / 2" 0)
    local base_half
    base_half=$(load "$base_port" "$half")
    stop
    unset MAX_ID

    say "$backend: GET /api/v1/me/progress under load"
    start "$BIN" "$port" "$url"
    local idle_mb
    idle_mb=$(rss_mb "$SERVER_PID" VmRSS)
    export TOKENS_FILE
    TOKENS_FILE=$(login_sample "$port" "$learners")
    local token_count
    token_count=$(wc -l < "$TOKENS_FILE")
    # The same learners' progress page, as their browsers ask for it (a page session each).
    local sessions_file page_sat page_bytes page_gzip
    sessions_file=$(page_sessions "$port" "$TOKENS_FILE")
    warm "$port"
    # The logins' password hashing (19 MiB each, four at a time) is not the load: reset the peak.
    echo 5 > "/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
    local sat sat_rps own_half at_half
    sat=$(load "$port")
    sat_rps=$(echo "$sat" | field rps)
    at_half=$(load "$port" "$half")
    own_half=$(load "$port" "$(calc "$sat_rps / 2" 0)")
    page_bytes=$(curl -sf -b "sp_session=$(head -1 "$sessions_file")" "http://127.0.0.1:$port/progress" | wc -c)
    page_gzip=$(curl -sf -b "sp_session=$(head -1 "$sessions_file")" "http://127.0.0.1:$port/progress" | gzip -9 | wc -c)
    unset TOKENS_FILE
    SESSIONS_FILE=$sessions_file warm "$port"
    page_sat=$(SESSIONS_FILE=$sessions_file load "$port")
    export TOKENS_FILE=$WORK/tokens
    local peak_mb
    peak_mb=$(rss_mb "$SERVER_PID" VmHWM)
    stop
    unset TOKENS_FILE
    for result in "$sat" "$at_half" "$own_half" "$base_sat" "$base_half" "$page_sat"; do
        checked "$result"
    done

    row "GET /api/v1/me/progress at saturation, $token_count learners' tokens ($SAT_CONNECTIONS connections) — baseline: one learner row by primary key" \
        "$backend" "$(describe "$sat")" "$(describe "$base_sat")" "$(calc "$sat_rps / $base_rps" 2)" \
        "≥ 1.0" "$(met "$sat_rps >= $base_rps")"
    local p99
    p99=$(echo "$at_half" | field p99_ms)
    row "GET /api/v1/me/progress at a fixed $half req/s (half the baseline's saturation; p50 / p99)" \
        "$backend" "$(describe "$at_half" "$half")" "$(describe "$base_half" "$half")" "—" "p99 ≤ 10 ms" \
        "$(met "$p99 <= 10 && $(echo "$at_half" | field rps) >= 0.95 * $half")"
    row "GET /api/v1/me/progress at a fixed $(calc "$sat_rps / 2" 0) req/s (half its own saturation; p50 / p99)" \
        "$backend" "$(describe "$own_half" "$(calc "$sat_rps / 2" 0)")" "—" "—" "—" "—"
    row "GET /progress, the learner's page (session cookie, HTML), at saturation — beside: GET /api/v1/me/progress above" \
        "$backend" "$(describe "$page_sat")" "$(describe "$sat")" "$(calc "$(echo "$page_sat" | field rps) / $sat_rps" 2)" "—" "—"
    row "size of the learner's progress page (HTML; gzip -9)" "$backend" \
        "$page_bytes bytes; $page_gzip bytes compressed" "—" "—" "< 30 KB compressed" "$(met "$page_gzip < 30720")"
    row "resident memory of \`skillpath serve\`: idle after start / peak under the load above" "$backend" \
        "$idle_mb MB / $peak_mb MB" "—" "—" "≤ 50 MB / ≤ 300 MB" "$(met "$idle_mb <= 50 && $peak_mb <= 300")"
}

if part city; then
say "PostgreSQL"
city_scale PostgreSQL "$(new_pg_database city)" "$PG_LEARNERS" 18100
drop_pg_databases "skillpath_bench_city_$$" # its autovacuum would run into the next measurements
say "SQLite"
city_scale SQLite "$WORK/city.db" "$SQLITE_LEARNERS" 18110
fi

# ------------------------------------------------------------------ cohort import beside COPY
if part import; then
say "cohort import of $COHORT_ROWS rows"
target/release/examples/cohort_csv "$COHORT_ROWS" > "$WORK/cohort.csv"
import_cohort() { # import_cohort BACKEND DATABASE_URL PORT → "seconds peak_mb created"
    start "$BIN" "$3" "$2"
    local base="http://127.0.0.1:$3" token
    token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$SKILLPATH_ADMIN_EMAIL\",\"password\":\"$SKILLPATH_ADMIN_PASSWORD\"}" | json access_token)
    local auth=(-H "authorization: Bearer $token" -H 'content-type: application/json')
    curl -sf "$base/api/v1/occupations" "${auth[@]}" -d '{"code":"6-18-02-04","name":"电工","source":"bench"}' >/dev/null
    local inst prog cohort
    inst=$(curl -sf "$base/api/v1/institutions" "${auth[@]}" -d '{"name":"Bench College","kind":"technician_college"}' | json id)
    prog=$(curl -sf "$base/api/v1/institutions/$inst/programs" "${auth[@]}" -d '{"name":"电气","occupation_code":"6-18-02-04"}' | json id)
    cohort=$(curl -sf "$base/api/v1/cohorts" "${auth[@]}" -d "{\"program_id\":$prog,\"name\":\"bench\",\"intake_year\":2024}" | json id)
    local start end report
    start=$(date +%s.%N)
    report=$(curl -sf "$base/api/v1/cohorts/$cohort/enrollments/import" -H "authorization: Bearer $token" \
        -H 'content-type: text/csv' --data-binary "@$WORK/cohort.csv")
    end=$(date +%s.%N)
    echo "$(calc "$end - $start" 2) $(rss_mb "$SERVER_PID" VmHWM) $(echo "$report" | json created)"
    stop
}
read -r pg_import pg_import_mb pg_created <<< "$(import_cohort PostgreSQL "$(new_pg_database import)" 18120)"
[ "$pg_created" = "$COHORT_ROWS" ] || { echo "the import created $pg_created enrollments" >&2; exit 1; }
copy_url=$(new_pg_database copy)
psql "$copy_url" -qc "CREATE TABLE cohort_rows (name text NOT NULL, id_number text NOT NULL, email text,
    start_date date NOT NULL, end_date date, class_type text NOT NULL, hukou text)"
copy_start=$(date +%s.%N)
psql "$copy_url" -qc "\\copy cohort_rows FROM '$WORK/cohort.csv' WITH (FORMAT csv, HEADER true)"
copy_end=$(date +%s.%N)
copy_s=$(calc "$copy_end - $copy_start" 2)
row "import a $COHORT_ROWS-row cohort CSV over HTTP (learners created and enrolled) — baseline: psql's \\copy of the same file into one table" \
    PostgreSQL "$pg_import s, peak RSS $pg_import_mb MB" "$copy_s s" "$(calc "$copy_s / $pg_import" 2)" \
    "≤ 10 s; ≥ 0.3" "$(met "$pg_import <= 10 && $copy_s / $pg_import >= 0.3")"
read -r sq_import sq_import_mb sq_created <<< "$(import_cohort SQLite "$WORK/import.db" 18121)"
[ "$sq_created" = "$COHORT_ROWS" ] || { echo "the SQLite import created $sq_created enrollments" >&2; exit 1; }
row "import a $COHORT_ROWS-row cohort CSV over HTTP" SQLite "$sq_import s, peak RSS $sq_import_mb MB" "—" "—" \
    "≤ 10 s" "$(met "$sq_import <= 10")"
fi

# ------------------------------------------------------------------ notifications
if part notify; then
say "notifications (benches/notify.rs)"
PG_URL=$PG_URL cargo bench --quiet --bench notify > "$WORK/notify.out" 2>&1 || { cat "$WORK/notify.out" >&2; exit 1; }
while IFS='|' read -r _ backend _ p50 p99 share _ worker lettre ratio _; do
    backend=$(echo $backend); worker=$(echo $worker); share=$(echo $share)
    [ "$backend" = sqlite ] && backend=SQLite
    [ "$backend" = postgres ] && backend=PostgreSQL
    row "notification delivery: one worker emailing the queue to a local SMTP server — baseline: lettre alone, same pool" \
        "$backend" "$worker emails/s" "$(echo $lettre) emails/s" "$(echo $ratio)" "≥ 200/s" "$(met "$worker >= 200")"
    row "a certificate verification's notices: their share of the request (p50 $(echo $p50), p99 $(echo $p99))" \
        "$backend" "$share" "—" "—" "≤ 20 %" "$(met "${share% %} <= 20")"
done < <(grep -E '^\| (sqlite|postgres) ' "$WORK/notify.out")
fi

# ------------------------------------------------------------------ the table
cores=$(nproc)
memory=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mkdir -p "$(dirname "$OUT")"
{
    echo "Measured $(date -u +%Y-%m-%d) on $cores cores ($cpu), $memory, $(psql "$PG_URL" -tAc 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /'), \`benches/run.sh\` in $(( ($(date +%s) - STARTED) / 60 )) min; load by wrk ($THREADS threads) on the same cores, $DURATION s a run."
    echo
    echo "| what | backend | result | baseline, same run | ratio | target | met |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
} > "$OUT"
echo
cat "$OUT"
echo
echo "written to $OUT"
