#!/usr/bin/env bash
# Installs what the browser tests need, when it is missing: chromium, ffmpeg and unzip from
# Debian (as root), and the npm packages of tests/browser (npm ci). Quiet when all is there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing ${missing[*]}; run as root to install them with apt-get" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "setup.sh: node and npm are needed (Node 20 or newer)" >&2
  exit 1
fi

# npm ci only when node_modules is missing or older than the lock file.
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
  echo "setup.sh: installing npm packages"
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
