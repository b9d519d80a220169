#!/usr/bin/env bash
# Checks that a change left the packages byte-identical: builds the seed
# course and the test fixtures with coursepack as it was at BASE and as it
# is in the working tree, in every target and packaging option, and
# compares every file byte for byte. For a package that differs it names
# the entries that differ.
#
#   bash tests/same-packages.sh [BASE]          # BASE defaults to main
#   BASE_BIN=path/to/coursepack bash tests/same-packages.sh
#
# BASE_BIN skips building BASE (a cold build) when its binary is at hand;
# HEAD_BIN likewise skips building the working tree.
# RUNTIME_FROM_HEAD=1 builds BASE with the working tree's runtime.js, for a
# change that rewrites the runtime on purpose (the browser suite checks it)
# and must leave every other byte as it was.
# Exit status: 0 when every package is identical, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
base=${1:-main}
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

if [ -z "${BASE_BIN:-}" ]; then
  echo "building coursepack at $base"
  git worktree add --detach -q "$work/base" "$base"
  if [ -n "${RUNTIME_FROM_HEAD:-}" ]; then
    cp templates/coursepack/runtime.js "$work/base/templates/coursepack/runtime.js"
  fi
  (cd "$work/base" && CARGO_TARGET_DIR="$work/target" cargo build --release --quiet --bin coursepack)
  BASE_BIN=$work/target/release/coursepack
fi
if [ -z "${HEAD_BIN:-}" ]; then
  echo "building coursepack from the working tree"
  cargo build --release --quiet --bin coursepack
  HEAD_BIN=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/coursepack
fi
head_bin=$HEAD_BIN

# Every target with each packaging option that changes what is written.
configs=(
  "course|--tool-url https://tool.example.org"
  "course|--tool-url https://tool.example.org/base --cc-flavour lti"
  "course|--sco session"
  "course|--sco course"
  "tests/fixtures/quiz-course|--tool-url https://tool.example.org"
  "tests/fixtures/quiz-course|--sco session --cc-flavour web"
)

status=0
n=0
for config in "${configs[@]}"; do
  dir=${config%%|*}
  read -r -a opts <<<"${config#*|}"
  n=$((n + 1))
  for side in base head; do
    bin=$BASE_BIN
    [ $side = head ] && bin=$head_bin
    "$bin" build "$dir" --out "$work/$n-$side" --quiet "${opts[@]}" >/dev/null
  done
  for pkg in "$work/$n-base"/*; do
    name=$(basename "$pkg")
    [ -e "$work/$n-head/$name" ] || continue
    if ! cmp -s "$pkg" "$work/$n-head/$name"; then
      status=1
      echo "DIFFERS: $dir ${opts[*]}: $name"
      python3 - "$pkg" "$work/$n-head/$name" <<'EOF'
import sys, zipfile
a, b = (zipfile.ZipFile(p) for p in sys.argv[1:3])
names = sorted(set(a.namelist()) | set(b.namelist()))
for n in names:
    if n not in a.namelist() or n not in b.namelist():
        print(f"  only in {'head' if n in b.namelist() else 'base'}: {n}")
    elif a.read(n) != b.read(n):
        print(f"  content differs: {n}")
    elif a.getinfo(n).date_time != b.getinfo(n).date_time or a.getinfo(n).compress_type != b.getinfo(n).compress_type:
        print(f"  entry header differs: {n}")
EOF
    fi
  done
  # A package BASE did not write (a new target) is listed, not compared; one
  # it wrote and the working tree does not is a difference.
  for pkg in "$work/$n-head"/*; do
    [ -e "$work/$n-base/$(basename "$pkg")" ] || echo "new: $dir ${opts[*]}: $(basename "$pkg")"
  done
  for pkg in "$work/$n-base"/*; do
    if [ ! -e "$work/$n-head/$(basename "$pkg")" ]; then
      status=1
      echo "DIFFERS: $dir ${opts[*]}: $(basename "$pkg") is no longer written"
    fi
  done
done
total=$(find "$work" -maxdepth 2 -path "$work/*-base/*" -type f | wc -l)
if [ $status = 0 ]; then
  echo "identical: $total packages in ${#configs[@]} configurations"
fi
exit $status
