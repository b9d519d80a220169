'use strict';
// Generates the fixture video and captions with ffmpeg (no binaries are committed).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const SECONDS = 4;

/** Writes `<dir>/<name>.mp4` (H.264/AAC, 4 s) and `<dir>/<name>.en.vtt`. */
function makeVideo(dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const mp4 = path.join(dir, `${name}.mp4`);
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=320x180:rate=25:duration=${SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${SECONDS}`,
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast',
    '-c:a', 'aac', '-b:a', '64k', '-shortest', '-movflags', '+faststart',
    mp4,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const vtt = path.join(dir, `${name}.en.vtt`);
  fs.writeFileSync(vtt, [
    'WEBVTT', '',
    '00:00:00.000 --> 00:00:02.000', 'A test pattern appears.', '',
    '00:00:02.000 --> 00:00:04.000', 'A steady tone plays.', '',
  ].join('\n'));
  return { mp4, vtt, seconds: SECONDS };
}

/** Writes `<dir>/<name>.m4a` (AAC, 4 s of a tone). */
function makeAudio(dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const m4a = path.join(dir, `${name}.m4a`);
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `sine=frequency=330:sample_rate=44100:duration=${SECONDS}`,
    '-c:a', 'aac', '-b:a', '64k', '-movflags', '+faststart', m4a,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { m4a, seconds: SECONDS };
}

module.exports = { makeVideo, makeAudio, SECONDS };
