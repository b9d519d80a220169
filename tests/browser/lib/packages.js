'use strict';
// Package directories for the tests: the hand-written contract pages, and packages built by the
// real coursepack binary (unzipped).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { RUNTIME_PATH, FIXTURES_DIR } = require('./paths');
const { makeVideo } = require('./media');

const made = [];
process.on('exit', () => {
  if (process.env.COURSEPACK_KEEP_TMP) return;
  for (const d of made) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch (e) { /* best effort */ }
  }
});

/** A temp dir removed when the test process exits (unless COURSEPACK_KEEP_TMP is set). */
function tmpDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `coursepack-${prefix}-`));
  made.push(d);
  return d;
}

/** The contract pages with the current runtime and a generated video. */
function contractPages() {
  const dir = tmpDir('contract');
  fs.cpSync(path.join(FIXTURES_DIR, 'contract-pages'), dir, { recursive: true });
  fs.copyFileSync(RUNTIME_PATH, path.join(dir, 'coursepack', 'runtime.js'));
  makeVideo(path.join(dir, 'media'), 'clip');
  return dir;
}

/** SCO launch files from imsmanifest.xml, in document order. */
function launchFiles(pkgDir) {
  const xml = fs.readFileSync(path.join(pkgDir, 'imsmanifest.xml'), 'utf8');
  const out = [];
  for (const m of xml.matchAll(/<resource\b[^>]*>/g)) {
    const tag = m[0];
    if (!/adlcp:scorm[tT]ype\s*=\s*"sco"/.test(tag)) continue;
    const href = /\bhref\s*=\s*"([^"]+)"/.exec(tag);
    if (href) out.push(href[1].replace(/&amp;/g, '&'));
  }
  return out;
}

module.exports = { contractPages, launchFiles, tmpDir };
