#!/usr/bin/env bash
# Benchmark: `coursepack check` and `coursepack build` of big courses, with
# wall time and peak memory (RSS). Shows that load and check grow linearly
# with the number of sessions and blocks. Run by hand:
#
#   bash bench/big.sh                 # the shapes below
#   SHAPES="20000x5" bash bench/big.sh
#
# A shape is SESSIONSxBLOCKS-PER-SESSION. Each block is a reflection with an
# id (ids are what made check superlinear), every tenth a text block, and
# each session requires its first block. Needs GNU time (`apt-get install time`).
set -euo pipefail
cd "$(dirname "$0")/.."

SHAPES=${SHAPES:-"1000x10 10000x1 10000x10 100x1000"}
TARGET=${TARGET:-scorm12}
LIMIT=${LIMIT:-120}   # seconds; a command still running then is stopped
command -v /usr/bin/time >/dev/null || { echo "bench needs GNU time (apt-get install time)" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --quiet --bin coursepack
BIN=$CARGO_TARGET_DIR/release/coursepack
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# make_course DIR SESSIONS BLOCKS
make_course() {
  mkdir -p "$1"
  awk -v sessions="$2" -v blocks="$3" 'BEGIN {
    printf "[course]\nid = \"big\"\ntitle = \"A big course\"\nsummary = \"Many sessions.\"\n\n"
    for (s = 1; s <= sessions; s++) {
      printf "[[session]]\nid = \"s%d\"\ntitle = \"Session %d\"\nintro = \"What session %d is about.\"\n\n", s, s, s
      for (b = 1; b <= blocks; b++) {
        if (b % 10 == 0) {
          printf "[[session.block]]\ntype = \"text\"\nbody = \"Some *text* for block %d.\"\n\n", b
        } else {
          printf "[[session.block]]\ntype = \"reflection\"\nid = \"s%d-b%d\"\nquestion = \"What did you notice in block %d?\"\nmax_chars = 200\n\n", s, b, b
        }
      }
      printf "[session.completion]\nrequire = [\"s%d-b1\"]\n\n", s
    }
  }' > "$1/course.toml"
}

# measure LABEL CMD...: prints "LABEL  seconds  peak-MiB"
measure() {
  local label=$1; shift
  local log="$WORK/time.log"
  if ! /usr/bin/time -f '%e %M' -o "$log" timeout "$LIMIT" "$@" >/dev/null 2>"$WORK/stderr"; then
    printf '%-44s %8s   (stopped after %s s, or failed: %s)\n' "$label" "-" "$LIMIT" "$(tail -1 "$WORK/stderr")"
    return 0
  fi
  read -r secs kib < "$log"
  printf '%-44s %8.2f s %9.1f MiB\n' "$label" "$secs" "$(echo "$kib / 1024" | bc -l)"
}

for shape in $SHAPES; do
  sessions=${shape%x*} per=${shape#*x}
  course="$WORK/course-$shape"
  make_course "$course" "$sessions" "$per"
  blocks=$(( sessions * per ))
  size=$(du -k "$course/course.toml" | cut -f1)
  echo "== $sessions sessions, $blocks blocks (course.toml $(( size / 1024 )) MiB) =="
  measure "coursepack check" "$BIN" check "$course"
  measure "coursepack build --target $TARGET" "$BIN" build "$course" --target "$TARGET" --out "$WORK/out" --quiet
  rm -rf "$course" "$WORK/out"
done
