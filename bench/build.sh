#!/usr/bin/env bash
# Benchmark: `coursepack build` against `zip -r` and `zip -r -n` on the same
# files, for a synthetic course of 200 sessions and about 1 GiB of media.
# Prints wall time and peak memory side by side, at two media sizes, so it
# shows whether memory stays flat as the media grows. Run by hand:
#
#   bash bench/build.sh            # 1 GiB of media (and a 256 MiB run)
#   MEDIA_MIB=2048 bash bench/build.sh
#
# Needs: zip, unzip, GNU time (`apt-get install zip unzip time`).
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS=${SESSIONS:-200}
MEDIA_MIB=${MEDIA_MIB:-1024}
for tool in zip unzip /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install zip unzip time)" >&2; exit 1; }
done

cargo build --release --quiet
BIN=$PWD/target/release/coursepack
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

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

# measure LABEL CMD...: prints "LABEL  seconds  peak-MiB"
measure() {
  local label=$1; shift
  local log="$WORK/time.log"
  /usr/bin/time -f '%e %M' -o "$log" "$@" >/dev/null 2>&1
  read -r secs kib < "$log"
  printf '%-34s %8.2f s %9.1f MiB\n' "$label" "$secs" "$(echo "$kib / 1024" | bc -l)"
}

run_size() {
  local mib=$1 course="$WORK/course-$1" out="$WORK/out-$1" stage="$WORK/stage-$1"
  make_course "$course" "$mib"
  sync
  echo "== $SESSIONS sessions, $(du -sm "$course/media" | cut -f1) MiB of media =="
  measure "coursepack build (scorm12)" "$BIN" build "$course" --target scorm12 --out "$out" --quiet
  # Stage exactly the files of the package, then zip them the usual ways.
  mkdir -p "$stage"
  (cd "$stage" && unzip -q "$out/bench-1.0.0-scorm12.zip")
  measure "zip -r (deflate everything)" sh -c "cd '$stage' && zip -q -r -X '$WORK/plain.zip' ."
  measure "zip -r -n mp4:jpg (store media)" sh -c "cd '$stage' && zip -q -r -X -n .mp4:.jpg:.png:.webm:.mp3 '$WORK/stored.zip' ."
  printf '%-34s %8s   %s\n' "package size" "" "$(du -m "$out/bench-1.0.0-scorm12.zip" | cut -f1) MiB (zip -r -n: $(du -m "$WORK/stored.zip" | cut -f1) MiB)"
  rm -rf "$course" "$out" "$stage" "$WORK/plain.zip" "$WORK/stored.zip"
}

run_size $(( MEDIA_MIB / 4 ))
run_size "$MEDIA_MIB"
