'use strict';
// Drives the test LMS page (lms/lms.html) and reads what the SCO reported.
const assert = require('node:assert/strict');

const TIME12 = /^\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?$/;
const TIME12_EXACT = /^\d{4}:\d{2}:\d{2}\.\d{2}$/;
const TIME2004 = /^P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d{1,2})?S)?)?$/;

const EL = {
  '1.2': {
    status: 'cmi.core.lesson_status', location: 'cmi.core.lesson_location', time: 'cmi.core.session_time',
    exit: 'cmi.core.exit', entry: 'cmi.core.entry', finish: 'LMSFinish', commit: 'LMSCommit', set: 'LMSSetValue',
  },
  2004: {
    status: 'cmi.completion_status', location: 'cmi.location', time: 'cmi.session_time', exit: 'cmi.exit',
    entry: 'cmi.entry', progress: 'cmi.progress_measure', finish: 'Terminate', commit: 'Commit', set: 'SetValue',
  },
};

/** Opens the LMS page with the SCO in its iframe; resolves with the SCO frame once it runs. */
async function openSco(page, origin, { version, launch, init, fail }) {
  const cfg = { version, launch, init, fail };
  await page.goto(`${origin}/lms/lms.html#${encodeURIComponent(JSON.stringify(cfg))}`);
  const frame = await scoFrame(page);
  await frame.waitForFunction(() => {
    const s = document.getElementById('cp-status');
    return s && s.textContent.trim() !== '';
  }, null, { timeout: 10000 });
  return frame;
}

/**
 * Opens the test LMS as a player of several SCOs (see lms/harness.js for what it models):
 * {version, scos, start, store, mode, profile}. Resolves once the first SCO frame loaded.
 */
async function openPlayer(page, origin, cfg) {
  await page.goto(`${origin}/lms/lms.html#${encodeURIComponent(JSON.stringify(cfg))}`);
  return scoFrame(page);
}

/** What the LMS kept and recorded, its call log and any frame that loaded the wrong page. */
async function lmsState(page) {
  return page.evaluate(() => ({
    store: JSON.parse(JSON.stringify(window.__store)),
    record: JSON.parse(JSON.stringify(window.__record)),
    log: window.__lms.slice(),
    violations: window.__violations.slice(),
    current: window.__player.current(),
  }));
}

async function scoFrame(page) {
  const handle = await page.waitForSelector('#sco');
  for (let i = 0; i < 100; i++) {
    const f = await handle.contentFrame();
    if (f && f.url().includes('/pkg/')) {
      await f.waitForLoadState('load');
      return f;
    }
    await page.waitForTimeout(50);
  }
  throw new Error('SCO frame did not load');
}

/** The learner leaves: the LMS navigates the SCO frame away (pagehide fires there). */
async function leave(page, version) {
  await page.evaluate(() => { document.getElementById('sco').src = '/lms/blank.html'; });
  const fin = EL[version].finish;
  await page.waitForFunction((f) => window.__lms.some((c) => c.fn === f), fin, { timeout: 5000 });
}

/** The call log and a copy of scorm-again's CMI object. */
async function snapshot(page) {
  return page.evaluate(() => ({
    log: window.__lms.slice(),
    cmi: JSON.parse(JSON.stringify(window.__api.cmi)),
  }));
}

/** Values the SCO set, element -> list of values in order. */
function setValues(log, version) {
  const out = {};
  for (const c of log) {
    if (c.fn !== EL[version].set) continue;
    (out[c.args[0]] = out[c.args[0]] || []).push(c.args[1]);
  }
  return out;
}

function lastSet(log, version, element) {
  const v = setValues(log, version)[element];
  return v ? v[v.length - 1] : undefined;
}

/** Fails on any call the LMS answered with an error code (injected failures excepted). */
function assertNoLmsErrors(log) {
  // SCORM 2004: reading a value the LMS never stored answers "" with 403; that is how a SCO
  // learns there is none.
  const unset = (c) => c.kind === 'get' && c.err === '403' && ['cmi.suspend_data', 'cmi.location'].includes(c.args[0]);
  const bad = log.filter((c) => c.err !== '0' && c.err !== 'injected' && !unset(c) && !['lasterror', 'errorstring', 'diagnostic'].includes(c.kind));
  assert.deepEqual(bad, [], `LMS reported errors: ${JSON.stringify(bad)}`);
  const refused = log.filter((c) => c.err === '0' && ['init', 'set', 'commit', 'finish'].includes(c.kind) && c.ret !== 'true');
  assert.deepEqual(refused, [], `LMS refused calls: ${JSON.stringify(refused)}`);
}

/** Seconds in a session time value of either version. */
function timeSeconds(value, version) {
  if (version === '1.2') {
    const m = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(value);
    return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  }
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  return Number(m[1] || 0) * 86400 + Number(m[2] || 0) * 3600 + Number(m[3] || 0) * 60 + Number(m[4] || 0);
}

function assertSessionTime(log, version, minSeconds) {
  const t = lastSet(log, version, EL[version].time);
  assert.ok(t !== undefined, 'session time was set');
  assert.match(t, version === '1.2' ? TIME12_EXACT : TIME2004, `session time format: ${t}`);
  if (version === '1.2') assert.match(t, TIME12);
  const s = timeSeconds(t, version);
  assert.ok(s >= minSeconds && s < 600, `session time ${t} (${s}s) should be at least ${minSeconds}s`);
  // Set once, right before the final commit and finish.
  const i = log.findIndex((c) => c.fn === EL[version].set && c.args[0] === EL[version].time);
  const fin = log.findIndex((c) => c.fn === EL[version].finish);
  assert.ok(i >= 0 && fin > i, 'session time set before finishing');
}

/** Initial values for a new attempt that resumes a previous one. */
function resumeInit(version, cmi) {
  if (version === '1.2') {
    return {
      'cmi.core.entry': 'resume', 'cmi.core.lesson_status': cmi.core.lesson_status,
      'cmi.core.lesson_location': cmi.core.lesson_location, 'cmi.suspend_data': cmi.suspend_data,
    };
  }
  return {
    'cmi.entry': 'resume', 'cmi.completion_status': cmi.completion_status,
    'cmi.location': cmi.location, 'cmi.suspend_data': cmi.suspend_data,
  };
}

module.exports = {
  EL, openSco, openPlayer, lmsState, scoFrame, leave, snapshot, setValues, lastSet, assertNoLmsErrors, assertSessionTime,
  timeSeconds, resumeInit, TIME12_EXACT, TIME2004,
};
