#!/usr/bin/env bash
# LTI 1.3 tool tests: unit tests of crates/lti, then the end-to-end suite against the independent
# Python test platform, on SQLite and on a throwaway PostgreSQL cluster (loopback only).
# Headless Chromium (third-party cookies blocked) launches the tool inside an LMS page on
# another site, and runs the real page runtime.
# Sets up what a fresh Debian machine lacks (apt-get as root, or through sudo).
# Ends with "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv="$root/tests/.venv"
work=$(mktemp -d /tmp/coursepack-lti.XXXXXX)
passed=0
failed=0
pgdata=""
pgbin=""

log() { printf '== %s\n' "$*"; }

# PostgreSQL refuses to run as root: as root, the throwaway cluster belongs to `postgres`.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- set-up ---------------------------------------------------------------------------------
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null ||
    { echo "apt-get failed"; echo "0 passed, 1 failed"; exit 1; }
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$venv/.requirements.txt"; then
  log "creating $venv"
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv" || exit 1
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" || exit 1
  cp "$here/requirements.txt" "$venv/.requirements.txt"
fi

log "building"
(cd "$root" && cargo build -q --bin coursepack) || { echo "0 passed, 1 failed"; exit 1; }
bin="${CARGO_TARGET_DIR:-$root/target}/debug/coursepack"

# --- unit tests of the LTI modules ----------------------------------------------------------
log "unit tests (crates/lti)"
unit=$(cd "$root" && cargo test -q -p coursepack-lti --lib 2>&1)
echo "$unit" | tail -n 5
if [[ "$unit" =~ test\ result:\ [a-zA-Z]+\.\ ([0-9]+)\ passed\;\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
else
  failed=$((failed + 1))
fi

run_suite() { # label db-url
  local out
  out=$("$venv/bin/python" "$here/test_lti.py" --bin "$bin" --db "$2" --work "$work/$1" 2>&1)
  local rc=$?
  echo "$out" | grep -E '^(PASS|FAIL|SKIP)|Error|assert' | sed 's/^/  /'
  if [[ "$out" =~ RESULT\ passed=([0-9]+)\ failed=([0-9]+) ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
  else
    echo "$out" | tail -n 30
    failed=$((failed + 1))
  fi
  if [ $rc -ne 0 ]; then
    for f in "$work/$1"/tool-*.log; do [ -f "$f" ] && { echo "--- $f (tail)"; tail -n 20 "$f"; }; done
  fi
}

log "end-to-end on SQLite"
run_suite sqlite sqlite

# --- throwaway PostgreSQL cluster on a loopback port ------------------------------------------
log "end-to-end on PostgreSQL"
pgdata="$work/pg"
mkdir -p "$pgdata" && chmod 700 "$pgdata"
[ "$(id -u)" -eq 0 ] && chown postgres: "$pgdata"
chmod 755 "$work"
pgport=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U postgres >"$work/initdb.log" 2>&1 &&
   as_pg "$pgbin/pg_ctl" -D "$pgdata" -w -l "$pgdata/server.log" \
     -o "-c listen_addresses=127.0.0.1 -p $pgport -k $pgdata -c fsync=off" start >/dev/null 2>&1; then
  psql -q -h 127.0.0.1 -p "$pgport" -U postgres -c 'CREATE DATABASE coursepack_lti' postgres
  run_suite postgres "postgres://postgres@127.0.0.1:$pgport/coursepack_lti"
else
  echo "could not start PostgreSQL:"; tail -n 20 "$work/initdb.log" "$pgdata/server.log" 2>/dev/null
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
