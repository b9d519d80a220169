#!/usr/bin/env bash
# Benchmark of the LTI tool on loopback: full launches per second (OIDC login, then an RS256
# id_token the tool verifies, then the launch row) and session page throughput within a launch.
# Bounded: at most LAUNCHES launches and PAGES page fetches, each phase at most MAX_SECONDS.
# Run by hand (not part of the tests):
#
#   bash bench/lti.sh                       # SQLite in a temp data dir
#   DATABASE=postgres://... bash bench/lti.sh
#
# Needs the test venv (bash tests/lti/run.sh creates it). The client runs on the same machine
# and shares its cores with the tool, so figures are a floor, not a ceiling.
set -euo pipefail
cd "$(dirname "$0")/.."

LAUNCHES=${LAUNCHES:-2000}
PAGES=${PAGES:-20000}
MAX_SECONDS=${MAX_SECONDS:-20}
WORKERS=${WORKERS:-4}
venv=tests/.venv
[ -x "$venv/bin/python" ] || { echo "run bash tests/lti/run.sh once to create $venv" >&2; exit 1; }

cargo build --release --quiet --bin coursepack
bin=$PWD/target/release/coursepack
work=$(mktemp -d)
tool_pid=""
cleanup() { [ -n "$tool_pid" ] && kill "$tool_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$venv/bin/python" bench/lti_client.py --port "$port" --platform-file "$work/platforms.toml" \
  --ready-file "$work/ready" --workers "$WORKERS" --launches "$LAUNCHES" --pages "$PAGES" \
  --seconds "$MAX_SECONDS" --pid-file "$work/tool.pid" &
client=$!
for _ in $(seq 100); do [ -f "$work/ready" ] && break; sleep 0.1; done
db=()
[ -n "${DATABASE:-}" ] && db=(--database "$DATABASE")
RUST_LOG=warn "$bin" serve tests/lti/fixture/course --listen "127.0.0.1:$port" \
  --public-url "http://127.0.0.1:$port" --data "$work/data" --platforms "$work/platforms.toml" \
  "${db[@]}" 2>"$work/tool.log" &
tool_pid=$!
echo "$tool_pid" >"$work/tool.pid"
backend=SQLite
[ -n "${DATABASE:-}" ] && backend=PostgreSQL
echo "backend: $backend; cores: $(nproc)"
wait "$client"
