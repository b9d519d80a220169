#!/usr/bin/env bash
# Benchmark: `coursepack build` against `cp -r`, `zip -r -n` and `zip -r`
# on the same files, for a synthetic course of 200 sessions, at two media
# sizes (a quarter of MEDIA_MIB, then MEDIA_MIB), so it shows whether
# memory stays flat as the media grows.
#
# Each command runs RUNS times after one warm-up round (the page cache is
# warm: the floor is copying, not the disk), the commands taking turns
# within a round so that a machine whose speed drifts slows them alike;
# the figures are medians. `cp -r` copies exactly the files of the
# one-target package; the zips are made of them too. A package is on the
# disk when `coursepack build` ends (it is flushed before it replaces the
# old one), while `cp -r` ends with the copy in the page cache: `cp -r,
# then sync -f` is the same copy made as durable, for comparison. All targets are
# compared with as many one-target builds as they write packages. Run by
# hand:
#
#   bash bench/build.sh            # 256 MiB and 1 GiB of media, 5 runs each
#   MEDIA_MIB=2048 RUNS=7 bash bench/build.sh
#   COURSEPACK=path/to/coursepack bash bench/build.sh   # another build of it
#
# Needs: zip, unzip, GNU time (`apt-get install zip unzip time`).
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS=${SESSIONS:-200}
MEDIA_MIB=${MEDIA_MIB:-1024}
RUNS=${RUNS:-5}
for tool in zip unzip /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install zip unzip time)" >&2; exit 1; }
done

if [ -n "${COURSEPACK:-}" ]; then
  BIN=$(realpath "$COURSEPACK")
else
  cargo build --release --quiet --bin coursepack
  # Wherever cargo puts it (CARGO_TARGET_DIR, a workspace setting).
  BIN=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/coursepack
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# The CRC-32 floor: every byte of the package's files read once and run
# through zlib's CRC-32, the user time it takes being the least a packager
# that stores media can spend.
cat > "$WORK/crc.py" <<'PY'
import os, sys, zlib
for root, _, files in os.walk(sys.argv[1]):
    for name in files:
        crc = 0
        with open(os.path.join(root, name), "rb", buffering=0) as f:
            while chunk := f.read(1 << 18):
                crc = zlib.crc32(chunk, crc)
PY

# make_course DIR MIB: 200 sessions, each a video (mp4) and an image (jpg)
# of random, incompressible bytes, adding up to MIB mebibytes.
make_course() {
  local dir=$1 mib=$2
  mkdir -p "$dir/media"
  local per_session_kib=$(( mib * 1024 / SESSIONS ))
  local video_kib=$(( per_session_kib * 7 / 8 )) image_kib=$(( per_session_kib / 8 ))
  {
    printf '[course]\nid = "bench"\ntitle = "Benchmark course"\n\n'
    for i in $(seq 1 "$SESSIONS"); do
      head -c "${video_kib}K" /dev/urandom > "$dir/media/video-$i.mp4"
      head -c "${image_kib}K" /dev/urandom > "$dir/media/image-$i.jpg"
      printf 'WEBVTT\n\n00:00.000 --> 00:02.000\nSession %s\n' "$i" > "$dir/media/video-$i.vtt"
      printf '[[session]]\nid = "s%s"\ntitle = "Session %s"\n\n' "$i" "$i"
      printf '[[session.block]]\ntype = "text"\nbody = "![Figure %s](media/image-%s.jpg)"\n\n' "$i" "$i"
      printf '[[session.block]]\ntype = "video"\nid = "v%s"\nfile = "media/video-%s.mp4"\ncaptions = "media/video-%s.vtt"\nminutes = 5\n\n' "$i" "$i" "$i"
      printf '[[session.block]]\ntype = "reflection"\nid = "r%s"\nquestion = "What did you notice in session %s?"\n\n' "$i" "$i"
    done
  } > "$dir/course.toml"
}

# once NAME CMD...: runs CMD, appending "wall user sys peak-KiB" to NAME's log.
once() {
  local name=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.log" "$@" >/dev/null 2>&1
  cat "$WORK/time.log" >> "$WORK/$name.times"
}

# median NAME COLUMN: the median of one column of NAME's log.
median() {
  awk -v c="$2" '{print $c}' "$WORK/$1.times" | sort -g |
    awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'
}

# row LABEL NAME [PER]: a line of medians, with the wall time against
# `cp -r`'s (or, given PER, against PER one-target builds).
row() {
  local label=$1 name=$2 per=${3:-}
  local wall user sys kib base ratio
  wall=$(median "$name" 1) user=$(median "$name" 2) sys=$(median "$name" 3) kib=$(median "$name" 4)
  if [ -n "$per" ]; then
    base=$(median one 1)
    ratio=$(awk -v a="$wall" -v b="$base" -v n="$per" 'BEGIN {printf "%.2fx %d x one target", a / (n * b), n}')
  else
    base=$(median cp 1)
    ratio=$(awk -v a="$wall" -v b="$base" 'BEGIN {printf "%.2fx cp -r", a / b}')
  fi
  printf '%-36s %7.2f %7.2f %7.2f %9.1f   %s\n' "$label" "$wall" "$user" "$sys" \
    "$(awk -v k="$kib" 'BEGIN {print k / 1024}')" "$ratio"
}

run_size() {
  local mib=$1 course="$WORK/course-$1" stage="$WORK/stage-$1"
  make_course "$course" "$mib"
  "$BIN" build "$course" --target scorm12 --out "$WORK/one" --quiet >/dev/null
  # Stage exactly the files of the package, then copy and zip them.
  mkdir -p "$stage"
  (cd "$stage" && unzip -q "$WORK/one/bench-1.0.0-scorm12.zip")
  "$BIN" build "$course" --out "$WORK/all" --quiet >/dev/null
  local packages
  packages=$(find "$WORK/all" -maxdepth 1 -type f | wc -l)
  sync
  rm -f "$WORK"/*.times
  local round
  for round in $(seq 0 "$RUNS"); do
    once one "$BIN" build "$course" --target scorm12 --out "$WORK/one" --quiet
    once cp sh -c "rm -rf '$WORK/copy' && cp -r '$stage' '$WORK/copy'"
    once cpsync sh -c "rm -rf '$WORK/copy' && cp -r '$stage' '$WORK/copy' && sync -f '$WORK/copy'"
    once stored sh -c "rm -f '$WORK/stored.zip' && cd '$stage' && zip -q -r -X -n .mp4:.jpg:.png:.webm:.mp3 '$WORK/stored.zip' ."
    once deflated sh -c "rm -f '$WORK/plain.zip' && cd '$stage' && zip -q -r -X '$WORK/plain.zip' ."
    once all "$BIN" build "$course" --out "$WORK/all" --quiet
    once crc python3 "$WORK/crc.py" "$stage"
    # The first round warms the page cache and is not counted.
    [ "$round" = 0 ] && rm -f "$WORK"/*.times
  done
  echo "== $SESSIONS sessions, $(du -sm "$course/media" | cut -f1) MiB of media: medians of $RUNS runs, load average $(cut -d' ' -f1-3 /proc/loadavg) =="
  printf '%-36s %7s %7s %7s %9s\n' "" "wall s" "user s" "sys s" "peak MiB"
  row "coursepack build --target scorm12" one
  row "cp -r (the package's files)" cp
  row "cp -r, then sync -f (on the disk)" cpsync
  row "zip -r -n mp4:jpg (store media)" stored
  row "zip -r (deflate everything)" deflated
  row "coursepack build ($packages packages)" all "$packages"
  row "CRC-32 of the files (zlib, the floor)" crc
  printf '%-36s %s\n' "one target against cp -r, sync -f" \
    "$(awk -v a="$(median one 1)" -v b="$(median cpsync 1)" 'BEGIN {printf "%.2fx", a / b}')"
  printf '%-36s %s\n' "package size" "$(du -m "$WORK/one/bench-1.0.0-scorm12.zip" | cut -f1) MiB (zip -r -n: $(du -m "$WORK/stored.zip" | cut -f1) MiB)"
  rm -rf "$course" "$stage" "$WORK/one" "$WORK/all" "$WORK/copy" "$WORK/plain.zip" "$WORK/stored.zip"
}

run_size $(( MEDIA_MIB / 4 ))
run_size "$MEDIA_MIB"
