'use strict';
// The package sets the browser tests run on:
//   - "contract-pages": hand-written pages that follow the page <-> runtime contract (used when
//     the binary cannot build yet, or with COURSEPACK_CONTRACT_PAGES=1);
//   - "seed-course": the repository's course/ built by the coursepack binary;
//   - "video-course": a fixture course with a generated local video, built by the binary.
// Built packages are required as soon as the repository has course/course.toml.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { REPO_ROOT, FIXTURES_DIR } = require('./paths');
const { contractPages, launchFiles, tmpDir } = require('./packages');
const { makeVideo, makeAudio } = require('./media');

const SEED = path.join(REPO_ROOT, 'course');
let cache = null;

function binary() {
  return path.join(process.env.CARGO_TARGET_DIR || path.join(REPO_ROOT, 'target'), 'debug', 'coursepack');
}

function cargoBuild() {
  execFileSync('cargo', ['build', '--quiet'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

/**
 * Builds one course folder for both SCORM versions and unzips the packages. `extra` are more
 * build arguments (e.g. `--sco session`).
 */
function buildCourse(courseDir, name, extra = []) {
  const out = tmpDir(`${name}-zip`);
  execFileSync(binary(), ['build', courseDir, '--quiet', '--target', 'scorm12,scorm2004', '--out', out, ...extra], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const zips = fs.readdirSync(out);
  const dirs = {};
  for (const [version, suffix] of [['1.2', '-scorm12.zip'], ['2004', '-scorm2004.zip']]) {
    const zip = zips.find((z) => z.endsWith(suffix));
    if (!zip) throw new Error(`no *${suffix} in ${out}: ${zips.join(', ')}`);
    const dir = tmpDir(`${name}-${version}`);
    execFileSync('unzip', ['-q', path.join(out, zip), '-d', dir]);
    dirs[version] = dir;
  }
  return dirs;
}

/** The video fixture course: its course.toml is committed, the media is generated here. */
function videoCourse() {
  const dir = tmpDir('video-course');
  fs.cpSync(path.join(FIXTURES_DIR, 'video-course'), dir, { recursive: true });
  makeVideo(path.join(dir, 'media'), 'clip');
  makeAudio(path.join(dir, 'media'), 'talk');
  return dir;
}

function describeSet(name, dirs) {
  const launches = launchFiles(dirs['1.2']);
  const launches2004 = launchFiles(dirs['2004']);
  if (launches.length === 0) throw new Error(`${name}: no SCO in imsmanifest.xml`);
  if (launches.join() !== launches2004.join()) throw new Error(`${name}: SCORM 1.2 and 2004 SCOs differ`);
  return { name, dirs, launches };
}

/**
 * All package sets. `built` says whether the coursepack binary built the real packages;
 * `skipped` explains why it did not.
 */
function packageSets() {
  if (cache) return cache;
  const sets = [];
  let skipped = null;
  if (fs.existsSync(path.join(SEED, 'course.toml')) && !process.env.COURSEPACK_SKIP_BUILD) {
    cargoBuild();
    // One SCO per session in both versions: the scenarios below launch each session's SCO.
    sets.push(describeSet('seed-course', buildCourse(SEED, 'seed', ['--sco', 'session'])));
    if (fs.existsSync(path.join(FIXTURES_DIR, 'video-course', 'course.toml'))) {
      sets.push(describeSet('video-course', buildCourse(videoCourse(), 'video', ['--sco', 'session'])));
    }
  }
  // The hand-written pages stand in until the binary builds packages (and on request).
  if (sets.length === 0 || process.env.COURSEPACK_CONTRACT_PAGES) {
    const cp = contractPages();
    sets.unshift(describeSet('contract-pages', { '1.2': cp, 2004: cp }));
  }
  if (!fs.existsSync(path.join(SEED, 'course.toml')) || process.env.COURSEPACK_SKIP_BUILD) {
    skipped = 'course/course.toml is not in this checkout yet (or COURSEPACK_SKIP_BUILD is set): only the contract pages are tested';
  }
  cache = { sets, skipped };
  return cache;
}

/**
 * Every SCORM packaging of a course, for the LMS-behaviour tests: {label, version, sco, dir,
 * scos: [{id, href}]}. `default` marks the packages a build without options writes.
 */
function packagings(courseDir, name) {
  cargoBuild();
  const defaults = buildCourse(courseDir, `${name}-default`);
  const bySco = { session: buildCourse(courseDir, `${name}-session`, ['--sco', 'session']),
    course: buildCourse(courseDir, `${name}-course`, ['--sco', 'course']) };
  const out = [];
  for (const version of ['1.2', '2004']) {
    for (const sco of ['session', 'course']) {
      const dir = bySco[sco][version];
      const isDefault = fs.readFileSync(path.join(defaults[version], 'imsmanifest.xml'), 'utf8')
        === fs.readFileSync(path.join(dir, 'imsmanifest.xml'), 'utf8');
      out.push({ label: `${name}, SCORM ${version}, sco = ${sco}${isDefault ? ' (default)' : ''}`, version, sco, dir, isDefault, scos: scoItems(dir) });
    }
  }
  return out;
}

/** The launchable items of a manifest, in order: [{id, href}]. */
function scoItems(dir) {
  const xml = fs.readFileSync(path.join(dir, 'imsmanifest.xml'), 'utf8');
  const hrefs = {};
  for (const m of xml.matchAll(/<resource\b[^>]*>/g)) {
    const id = /\bidentifier="([^"]+)"/.exec(m[0]);
    const href = /\bhref="([^"]+)"/.exec(m[0]);
    if (id && href && /scorm[tT]ype="sco"/.test(m[0])) hrefs[id[1]] = href[1];
  }
  const out = [];
  for (const m of xml.matchAll(/<item\b[^>]*identifierref="([^"]+)"[^>]*>/g)) {
    const id = /\bidentifier="([^"]+)"/.exec(m[0])[1];
    if (hrefs[m[1]]) out.push({ id, href: hrefs[m[1]] });
  }
  return out;
}

module.exports = { packageSets, buildCourse, binary, cargoBuild, packagings, SEED };
