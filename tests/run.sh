#!/usr/bin/env bash
# The whole test suite, as a newcomer and CI run it:
#
#   bash tests/run.sh
#
# On a fresh Debian machine it first installs what the tests need and is
# missing (Debian packages as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local missing=()
  for pair in "$@"; do
    local cmd=${pair%%:*} pkg=${pair#*:}
    # A command, or the absolute path of a file the package installs.
    if [[ $cmd == /* ]]; then
      [ -e "$cmd" ] || missing+=("$pkg")
    else
      command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    fi
  done
  ((${#missing[@]})) || return 0
  echo "installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

# xmllint validates every manifest against the official schemas.
apt_install xmllint:libxml2-utils
# translate-toolkit reads and writes the translation files independently
# (tests/suite/variants.rs: xliff2po, po2xliff, pocount).
apt_install xliff2po:translate-toolkit
# PHP and HTML Purifier clean the cartridges' pages as Moodle does
# (tests/moodle/page.php).
apt_install php:php-cli /usr/share/php/HTMLPurifier.auto.php:php-htmlpurifier

if [ ! -f ../shared/schemas/catalog.xml ]; then
  echo "error: the official schemas are expected in ../shared/schemas (beside this checkout)" >&2
  exit 1
fi

echo "== cargo test"
cargo test --workspace --locked

echo "== browser tests (runtime unit tests, SCORM scenarios against an LMS runtime, accessibility)"
bash tests/browser/setup.sh
npm test --prefix tests/browser

echo "== cmi5 (independent test LMS + LRS checking every statement against the spec)"
bash tests/cmi5/run.sh

echo "== LTI 1.3 tool (independent test platform; SQLite and PostgreSQL)"
bash tests/lti/run.sh
