#!/usr/bin/env bash
# cmi5 tests: builds the quiz fixture's cmi5 packages (one AU per session, and the course as one
# AU), then runs tests/cmi5/cmi5.test.js: headless Chromium launches each AU from the
# independent test LMS + LRS (lms.py, Python standard library), which checks every request and
# statement against the cmi5 specification.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/coursepack-cmi5.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$root"
cargo build --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/debug/coursepack"
"$bin" build tests/fixtures/quiz-course --quiet --target cmi5 --out "$work/zip1" >/dev/null
"$bin" build tests/fixtures/quiz-course --quiet --target cmi5 --sco course --out "$work/zip2" >/dev/null
"$bin" build tests/fixtures/every-block --quiet --target cmi5 --out "$work/zip3" >/dev/null
unzip -q "$work"/zip1/*-cmi5.zip -d "$work/quiz"
unzip -q "$work"/zip3/*-cmi5.zip -d "$work/every-block"
unzip -q "$work"/zip2/*-cmi5.zip -d "$work/quiz-course-au"
# The browser tests' node_modules (playwright-core) serve these tests too.
[ -d tests/browser/node_modules/playwright-core ] || bash tests/browser/setup.sh
COURSEPACK_CMI5_PACKAGES="$work" node --test --test-concurrency=1 tests/cmi5/
