// Unit tests of the runtime's backends, in Node: each one against a fake of its environment
// (a SCORM API object, the course player's coursepackHost, fetch, localStorage). How real LMSs
// take these calls is the browser suites' business.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { RUNTIME_PATH } = require('../lib/paths');
const rt = require(RUNTIME_PATH);

const NO_SCORE = { raw: 0, max: 0, scored: false, passed: null, any: false };

/** A window with timers run by hand: `run()` fires every timer due, in order of due time. */
function fakeWindow(extra) {
  let now = 0;
  let next = 1;
  const timers = new Map();
  const win = {
    setTimeout(fn, ms) { const id = next++; timers.set(id, { fn, at: now + ms, ms }); return id; },
    clearTimeout(id) { timers.delete(id); },
    pending() { return [...timers.values()].map((t) => t.ms); },
    run(ms = Infinity) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at);
        if (!due.length) break;
        const [id, t] = due[0];
        timers.delete(id);
        now = t.at;
        t.fn();
      }
      if (until !== Infinity) now = until;
    },
    ...extra,
  };
  return win;
}

/** A SCORM API object under either version's names, keeping values and recording every call. */
function fakeApi(version, data = {}) {
  const n = version === '1.2'
    ? { init: 'LMSInitialize', fin: 'LMSFinish', get: 'LMSGetValue', set: 'LMSSetValue', commit: 'LMSCommit' }
    : { init: 'Initialize', fin: 'Terminate', get: 'GetValue', set: 'SetValue', commit: 'Commit' };
  const calls = [];
  const fail = {}; // function name -> how many of its next calls fail
  const failing = (fn) => { if (fail[fn] > 0) { fail[fn]--; return true; } return false; };
  const api = {
    [n.init]: (a) => { calls.push([n.init, a]); return failing(n.init) ? 'false' : 'true'; },
    [n.fin]: (a) => { calls.push([n.fin, a]); return 'true'; },
    [n.commit]: (a) => { calls.push([n.commit, a]); return failing(n.commit) ? 'false' : 'true'; },
    [n.get]: (name) => { calls.push([n.get, name]); return Object.hasOwn(data, name) ? data[name] : ''; },
    [n.set]: (name, v) => {
      calls.push([n.set, name, v]);
      if (failing(n.set)) return 'false';
      data[name] = v;
      return 'true';
    },
  };
  return {
    api, data, calls, fail, n,
    sets: () => calls.filter((c) => c[0] === n.set).map((c) => [c[1], c[2]]),
    gets: () => calls.filter((c) => c[0] === n.get).map((c) => c[1]),
    names: () => calls.map((c) => c[0]),
    clear: () => { calls.length = 0; },
  };
}

/** The snapshot a Runtime hands its backend. */
function snapshotOf(fields) {
  const s = {
    state: rt.decodeState('{}'),
    location: '',
    progress: 0,
    score: NO_SCORE,
    elapsed: 5250,
    ...fields,
  };
  if (typeof s.state === 'string') s.state = rt.decodeState(s.state);
  return () => s;
}

// --- SCORM 1.2 ------------------------------------------------------------------------------

test('SCORM 1.2 backend: open initialises, restore reads the launch and what was kept', () => {
  const lms = fakeApi('1.2', {
    'cmi.core.entry': '', 'cmi.core.lesson_mode': 'normal', 'cmi.core.lesson_status': 'incomplete',
    'cmi.suspend_data': '{"d":["r1"],"a":{"q1":"An answer"}}', 'cmi.core.lesson_location': 'q1',
  });
  const b = rt.backends.scorm12(lms.api, fakeWindow());
  assert.equal(b.mode, 'scorm12');
  assert.equal(b.ownsFrame, true);
  assert.equal(b.open(snapshotOf()), true);
  assert.deepEqual(lms.calls, [['LMSInitialize', '']]);
  lms.clear();
  const kept = b.restore(null);
  // SCORM 1.2 hands back suspend_data on every launch, not only on a resume.
  assert.deepEqual(lms.gets(), ['cmi.core.entry', 'cmi.core.lesson_mode', 'cmi.core.lesson_status',
    'cmi.suspend_data', 'cmi.core.lesson_location']);
  assert.deepEqual(kept.state.d, ['r1']);
  assert.equal(kept.state.a.q1, 'An answer');
  assert.equal(kept.location, 'q1');
  assert.equal(kept.readOnly, false);
  assert.equal(kept.complete, false);
});

test('SCORM 1.2 backend: a truncated answer is completed from the local copy, completion kept', () => {
  const lms = fakeApi('1.2', {
    'cmi.core.lesson_status': 'passed', 'cmi.suspend_data': '{"a":{"q1":"An ans"},"t":["q1"]}',
  });
  const b = rt.backends.scorm12(lms.api, fakeWindow());
  b.open(snapshotOf());
  const local = rt.decodeState('{"a":{"q1":"An answer in full"}}');
  const kept = b.restore(local);
  assert.equal(kept.state.a.q1, 'An answer in full');
  assert.equal(kept.complete, true, 'passed counts as complete under 1.2');
});

test('SCORM 1.2 backend: save writes status, exit, suspend_data and location, then commits once', () => {
  const lms = fakeApi('1.2', { 'cmi.core.lesson_status': 'not attempted' });
  const win = fakeWindow();
  const b = rt.backends.scorm12(lms.api, win);
  b.open(snapshotOf({ state: '{"c":1,"d":["r1"]}', location: 'r1', progress: 1 }));
  b.restore(null);
  lms.clear();
  b.save('complete');
  assert.deepEqual(lms.sets(), [
    ['cmi.core.lesson_status', 'completed'],
    ['cmi.core.exit', 'suspend'],
    ['cmi.suspend_data', '{"c":1,"d":["r1"]}'],
    ['cmi.core.lesson_location', 'r1'],
  ]);
  assert.deepEqual(lms.names().slice(-1), ['LMSCommit']);
  lms.clear();
  b.save('submit');
  assert.deepEqual(lms.sets(), [], 'values the LMS already took are not sent again');
  assert.deepEqual(lms.names(), ['LMSCommit']);
});

test('SCORM 1.2 backend: a pass mark makes the status passed/failed, the score a percentage', () => {
  const lms = fakeApi('1.2');
  const b = rt.backends.scorm12(lms.api, fakeWindow());
  b.open(snapshotOf({ state: '{"d":["k"]}', score: { raw: 1, max: 4, scored: true, passed: false, any: true } }));
  b.restore(null);
  lms.clear();
  b.save('start');
  assert.deepEqual(lms.sets().slice(0, 4), [
    ['cmi.core.lesson_status', 'failed'],
    ['cmi.core.score.raw', '25'],
    ['cmi.core.score.min', '0'],
    ['cmi.core.score.max', '100'],
  ]);
});

test('SCORM 1.2 backend: edits wait (1 s for values, 15 s for Commit)', () => {
  const lms = fakeApi('1.2');
  const win = fakeWindow();
  const b = rt.backends.scorm12(lms.api, win);
  b.open(snapshotOf({ state: '{"d":["r1"]}', progress: 0.5 }));
  b.restore(null);
  lms.clear();
  b.save('edit');
  b.save('edit');
  assert.deepEqual(lms.calls, []);
  assert.deepEqual(win.pending().sort((x, y) => x - y), [1000, 15000]);
  win.run(1000);
  assert.ok(lms.sets().length > 0, 'values sent after a second');
  assert.ok(!lms.names().includes('LMSCommit'));
  win.run(14000);
  assert.deepEqual(lms.names().slice(-1), ['LMSCommit']);
});

test('SCORM 1.2 backend: leave writes session time, commits and finishes; nothing after', () => {
  const lms = fakeApi('1.2');
  const b = rt.backends.scorm12(lms.api, fakeWindow());
  b.open(snapshotOf({ state: '{"d":["r1"]}' }));
  b.restore(null);
  lms.clear();
  b.save('leave');
  assert.deepEqual(lms.sets()[0], ['cmi.core.session_time', '0000:00:05.25']);
  assert.equal(b.ended(), false);
  b.leave();
  assert.deepEqual(lms.names().slice(-2), ['LMSCommit', 'LMSFinish']);
  assert.equal(b.ended(), true);
  lms.clear();
  b.save('complete');
  b.save('leave');
  b.leave();
  assert.deepEqual(lms.calls, []);
});

test('SCORM 1.2 backend: browse mode reports `browsed` and nothing else, no session time', () => {
  const lms = fakeApi('1.2', { 'cmi.core.lesson_mode': 'browse', 'cmi.core.lesson_status': 'not attempted' });
  const b = rt.backends.scorm12(lms.api, fakeWindow());
  b.open(snapshotOf({ state: '{"c":1,"d":["r1"]}' }));
  const kept = b.restore(rt.decodeState('{"d":["x"]}'));
  assert.equal(kept.readOnly, true);
  assert.equal(kept.state, null, 'a preview does not take up this browser\'s copy');
  lms.clear();
  b.save('start');
  b.save('leave');
  assert.deepEqual(lms.sets(), [['cmi.core.lesson_status', 'browsed']]);
});

test('SCORM 1.2 backend: a failed Commit is retried later, every value sent again', () => {
  const lms = fakeApi('1.2');
  const win = fakeWindow();
  const b = rt.backends.scorm12(lms.api, win);
  b.open(snapshotOf({ state: '{"c":1}' }));
  b.restore(null);
  lms.fail.LMSCommit = 1;
  lms.clear();
  b.save('complete');
  const first = lms.sets();
  assert.deepEqual(win.pending(), [1000]);
  assert.deepEqual(first[0], ['cmi.core.lesson_status', 'completed']);
  lms.clear();
  win.run();
  // The status the LMS took stays; what may not have been stored goes again.
  assert.deepEqual(lms.sets(), first.slice(1));
  assert.deepEqual(lms.names().slice(-1), ['LMSCommit']);
  assert.deepEqual(win.pending(), []);
});

test('SCORM 1.2 backend: interactions in 1.2 form, no navigation requests', () => {
  const lms = fakeApi('1.2', { 'cmi.interactions._count': '2' });
  const b = rt.backends.scorm12(lms.api, fakeWindow());
  b.open(snapshotOf());
  lms.clear();
  assert.equal(b.interaction({ id: 'k-q1', type: 'single', response: ['b'], correct: ['b'], options: ['a', 'b'], result: true }), true);
  const sets = lms.sets();
  assert.deepEqual(sets[0], ['cmi.interactions.2.id', 'k-q1']);
  assert.deepEqual(sets.find((s) => s[0].endsWith('.student_response')), ['cmi.interactions.2.student_response', 'b']);
  assert.equal(b.canNavigate('continue'), false);
  assert.equal(b.canNavigate('{target=ITEM-x}choice'), false);
});

// --- SCORM 2004 -----------------------------------------------------------------------------

test('SCORM 2004 backend: a new attempt reads no suspend_data; this browser\'s copy comes back', () => {
  const lms = fakeApi('2004', { 'cmi.entry': 'ab-initio', 'cmi.mode': 'normal', 'cmi.completion_status': 'unknown' });
  const b = rt.backends.scorm2004(lms.api, fakeWindow());
  assert.equal(b.mode, 'scorm2004');
  assert.equal(b.open(snapshotOf()), true);
  assert.deepEqual(lms.calls, [['Initialize', '']]);
  lms.clear();
  const local = rt.decodeState('{"d":["r1"]}');
  local.l = 'r1';
  const kept = b.restore(local);
  assert.deepEqual(lms.gets(), ['cmi.entry', 'cmi.mode', 'cmi.completion_status', 'cmi.success_status']);
  assert.deepEqual(kept.state.d, ['r1']);
  assert.equal(kept.location, 'r1');
});

test('SCORM 2004 backend: a resume reads suspend_data and location', () => {
  const lms = fakeApi('2004', { 'cmi.entry': 'resume', 'cmi.completion_status': 'completed',
    'cmi.suspend_data': '{"c":1,"d":["r1"]}', 'cmi.location': 'r1' });
  const b = rt.backends.scorm2004(lms.api, fakeWindow());
  b.open(snapshotOf());
  const kept = b.restore(null);
  assert.deepEqual(kept.state.d, ['r1']);
  assert.equal(kept.location, 'r1');
  assert.equal(kept.complete, true);
});

test('SCORM 2004 backend: save writes completion, progress, score and success apart', () => {
  const lms = fakeApi('2004', { 'cmi.entry': 'ab-initio' });
  const b = rt.backends.scorm2004(lms.api, fakeWindow());
  b.open(snapshotOf({ state: '{"c":1,"d":["k"]}', location: 'k', progress: 1,
    score: { raw: 3, max: 4, scored: true, passed: true, any: true } }));
  b.restore(null);
  lms.clear();
  b.save('complete');
  assert.deepEqual(lms.sets(), [
    ['cmi.completion_status', 'completed'],
    ['cmi.progress_measure', '1'],
    ['cmi.score.scaled', '0.75'],
    ['cmi.score.raw', '3'],
    ['cmi.score.min', '0'],
    ['cmi.score.max', '4'],
    ['cmi.success_status', 'passed'],
    ['cmi.exit', 'suspend'],
    ['cmi.suspend_data', '{"c":1,"d":["k"]}'],
    ['cmi.location', 'k'],
  ]);
  assert.deepEqual(lms.names().slice(-1), ['Commit']);
});

test('SCORM 2004 backend: an empty state never overwrites what the LMS holds', () => {
  const lms = fakeApi('2004', { 'cmi.entry': 'ab-initio' });
  const b = rt.backends.scorm2004(lms.api, fakeWindow());
  b.open(snapshotOf({ progress: 0.25 }));
  b.restore(null);
  lms.clear();
  b.save('start');
  assert.deepEqual(lms.sets(), [
    ['cmi.completion_status', 'incomplete'],
    ['cmi.progress_measure', '0.25'],
    ['cmi.exit', 'suspend'],
  ]);
});

test('SCORM 2004 backend: navigation requests are asked of the LMS, then sent before Terminate', () => {
  const lms = fakeApi('2004', { 'adl.nav.request_valid.continue': 'true',
    'adl.nav.request_valid.choice.{target=ITEM-b}': 'false' });
  const b = rt.backends.scorm2004(lms.api, fakeWindow());
  b.open(snapshotOf());
  b.restore(null);
  assert.equal(b.canNavigate('continue'), true);
  assert.equal(b.canNavigate('{target=ITEM-b}choice'), false);
  assert.ok(lms.gets().includes('adl.nav.request_valid.choice.{target=ITEM-b}'));
  b.save('leave');
  assert.ok(lms.sets().some((s) => s[0] === 'cmi.session_time' && s[1] === 'PT5.25S'));
  lms.clear();
  b.leave('continue');
  assert.deepEqual(lms.calls, [['SetValue', 'adl.nav.request', 'continue'], ['Terminate', '']]);
});

test('SCORM 2004 backend: interactions keep option ids and a timestamp', () => {
  const lms = fakeApi('2004');
  const b = rt.backends.scorm2004(lms.api, fakeWindow());
  b.open(snapshotOf());
  lms.clear();
  b.interaction({ id: 'r1', type: 'reflection', response: 'Two\nlines', result: null, description: 'Why?' });
  const sets = Object.fromEntries(lms.sets());
  assert.equal(sets['cmi.interactions.0.id'], 'r1');
  assert.equal(sets['cmi.interactions.0.type'], 'long-fill-in');
  assert.equal(sets['cmi.interactions.0.learner_response'], 'Two\nlines');
  assert.match(sets['cmi.interactions.0.timestamp'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ$/);
});

test('SCORM 2004 backend: the course player\'s record (objectives, course status and data)', () => {
  const lms = fakeApi('2004', {
    'cmi.entry': 'resume', 'cmi.mode': 'normal', 'cmi.completion_status': 'incomplete',
    'cmi.suspend_data': '{"s":{"a":{"c":1}}}', 'cmi.location': 'b',
    'cmi.objectives._count': '2',
    'cmi.objectives.0.id': 'OBJ-a', 'cmi.objectives.0.completion_status': 'completed',
    'cmi.objectives.1.id': 'OBJ-b', 'cmi.objectives.1.completion_status': 'incomplete',
  });
  const b = rt.backends.scorm2004(lms.api, fakeWindow());
  b.open(null);
  const kept = b.restoreCourse();
  assert.deepEqual(kept, { mode: 'normal', readOnly: false, complete: false, data: '{"s":{"a":{"c":1}}}',
    location: 'b', objectives: { 'OBJ-a': true, 'OBJ-b': false } });
  lms.clear();
  const ok = b.saveCourse({
    sessions: [
      { objective: 'OBJ-a', complete: true, started: true, progress: 1, scored: false },
      { objective: 'OBJ-c', complete: false, started: true, progress: 0.5, scored: true, raw: 1, max: 2, success: 'failed' },
    ],
    raw: 1, max: 2, withMark: 1, judged: 1, passed: 0, done: 1, total: 2,
    data: (limit) => `data within ${limit}`, location: 'c', elapsed: 61050,
  });
  assert.equal(ok, true);
  assert.deepEqual(lms.sets(), [
    ['cmi.session_time', 'PT1M1.05S'],
    ['cmi.objectives.0.completion_status', 'completed'],
    ['cmi.objectives.0.progress_measure', '1'],
    ['cmi.objectives.2.id', 'OBJ-c'],
    ['cmi.objectives.2.completion_status', 'incomplete'],
    ['cmi.objectives.2.progress_measure', '0.5'],
    ['cmi.objectives.2.score.scaled', '0.5'],
    ['cmi.objectives.2.score.raw', '1'],
    ['cmi.objectives.2.score.min', '0'],
    ['cmi.objectives.2.score.max', '2'],
    ['cmi.objectives.2.success_status', 'failed'],
    ['cmi.score.scaled', '0.5'],
    ['cmi.score.raw', '1'],
    ['cmi.score.min', '0'],
    ['cmi.score.max', '2'],
    ['cmi.success_status', 'failed'],
    ['cmi.completion_status', 'incomplete'],
    ['cmi.progress_measure', '0.5'],
    ['cmi.exit', 'suspend'],
    ['cmi.suspend_data', 'data within 64000'],
    ['cmi.location', 'c'],
  ]);
  assert.deepEqual(lms.names().slice(-1), ['Commit']);
});

test('SCORM 1.2 backend: the course player\'s objectives carry passed/failed in their status', () => {
  const lms = fakeApi('1.2', { 'cmi.objectives._count': '0' });
  const b = rt.backends.scorm12(lms.api, fakeWindow());
  b.open(null);
  b.restoreCourse();
  lms.clear();
  b.saveCourse({
    sessions: [{ objective: 'OBJ-a', complete: true, started: true, scored: true, raw: 2, max: 2, success: 'passed' }],
    raw: 2, max: 2, withMark: 1, judged: 1, passed: 1, done: 1, total: 1,
    data: () => '{}', location: '',
  });
  const sets = lms.sets();
  assert.deepEqual(sets.slice(0, 5), [
    ['cmi.objectives.0.id', 'OBJ-a'],
    ['cmi.objectives.0.status', 'passed'],
    ['cmi.objectives.0.score.raw', '100'],
    ['cmi.objectives.0.score.min', '0'],
    ['cmi.objectives.0.score.max', '100'],
  ]);
  assert.ok(sets.some((s) => s[0] === 'cmi.core.lesson_status' && s[1] === 'passed'));
  assert.ok(!sets.some((s) => s[1] === 'completed'), 'a passed course is not rewritten as completed');
});

// --- the course player's host -----------------------------------------------------------------

function fakeHost(values = {}) {
  const calls = [];
  const host = {
    attach: (id) => { calls.push(['attach', id]); return true; },
    detach: (id) => { calls.push(['detach', id]); return true; },
    commit: (id) => { calls.push(['commit', id]); return true; },
    get: (id, name) => { calls.push(['get', id, name]); return values[name]; },
    set: (id, name, value) => { calls.push(['set', id, name, value]); return true; },
    interaction: (id, it) => { calls.push(['interaction', id, it.id]); return true; },
  };
  return { host, calls };
}

test('host backend: the session talks to the course player under short names', () => {
  const { host, calls } = fakeHost({ entry: 'resume', mode: 'normal', status: 'incomplete',
    suspend: '{"d":["r1"]}', location: 'r1' });
  const b = rt.backends.host(host, 's1', fakeWindow());
  assert.equal(b.mode, 'course');
  assert.equal(b.ownsFrame, false, 'the player\'s frame may show every page of the course');
  assert.equal(b.open(snapshotOf({ state: '{"c":1,"d":["r1"]}', location: 'r1', progress: 1 })), true);
  const kept = b.restore(null);
  assert.deepEqual(kept.state.d, ['r1']);
  assert.equal(kept.location, 'r1');
  calls.length = 0;
  b.save('complete');
  assert.deepEqual(calls, [
    ['set', 's1', 'status', 'completed'],
    ['set', 's1', 'progress', '1'],
    ['set', 's1', 'exit', 'suspend'],
    ['set', 's1', 'suspend', '{"c":1,"d":["r1"]}'],
    ['set', 's1', 'location', 'r1'],
    ['commit', 's1'],
  ]);
  assert.equal(b.interaction({ id: 'k-q1' }), true);
  assert.equal(b.canNavigate('continue'), false);
  calls.length = 0;
  b.leave();
  assert.deepEqual(calls, [['detach', 's1']]);
  assert.equal(b.ended(), true);
});

test('host backend: a player that throws never breaks the page', () => {
  const boom = () => { throw new Error('gone'); };
  const host = { attach: () => true, detach: boom, commit: boom, get: boom, set: boom, interaction: boom };
  const warn = console.warn;
  console.warn = () => {};
  try {
    const b = rt.backends.host(host, 's1', fakeWindow());
    b.open(snapshotOf({ state: '{"c":1}' }));
    assert.equal(b.restore(null).state, null);
    b.save('complete');
    assert.equal(b.interaction({ id: 'x' }), false);
    b.leave();
  } finally {
    console.warn = warn;
  }
});

// --- the LTI tool -----------------------------------------------------------------------------

function ltiPage(island, replies) {
  const posts = [];
  const pending = [];
  const win = fakeWindow({
    fetch(url, init) {
      posts.push({ url, init, body: JSON.parse(init.body) });
      const ok = replies.length ? replies.shift() : true;
      return new Promise((resolve) => pending.push(() => resolve({ ok })));
    },
  });
  const doc = {
    getElementById: (id) => (id === 'cp-lti' && island ? { textContent: JSON.stringify(island) } : null),
  };
  // Lets the fetches answered so far settle.
  const answer = async () => {
    while (pending.length) pending.shift()();
    await new Promise((r) => setImmediate(r));
  };
  return { win, doc, posts, answer };
}

const ISLAND = { endpoint: '/lti/state', token: 'tok-1', state: { d: ['r0'] } };

test('LTI backend: none without #cp-lti; restore prefers this browser\'s copy to the tool\'s', () => {
  const none = ltiPage(null, []);
  assert.equal(rt.backends.lti(none.win, none.doc, { session: 's1' }), null);
  const { win, doc } = ltiPage(ISLAND, []);
  const b = rt.backends.lti(win, doc, { session: 's1' });
  assert.equal(b.mode, 'lti');
  assert.equal(b.open(snapshotOf()), true);
  assert.deepEqual(b.restore(null).state.d, ['r0'], 'the tool\'s copy serves a new device');
  const local = rt.decodeState('{"d":["r1"]}');
  local.l = 'r1';
  const kept = b.restore(local);
  assert.deepEqual(kept.state.d, ['r1']);
  assert.equal(kept.location, 'r1');
  assert.equal(kept.readOnly, false);
});

test('LTI backend: posts the state as JSON with the token, at once when it counts', async () => {
  const { win, doc, posts, answer } = ltiPage(ISLAND, []);
  const b = rt.backends.lti(win, doc, { session: 's1' });
  b.open(snapshotOf({ state: '{"c":1,"d":["k"]}', score: { raw: 3, max: 4, scored: true, passed: true, any: true } }));
  b.restore(null);
  b.save('complete');
  assert.equal(posts.length, 1);
  assert.equal(posts[0].url, '/lti/state');
  assert.equal(posts[0].init.method, 'POST');
  assert.equal(posts[0].init.headers.Authorization, 'Bearer tok-1');
  assert.equal(posts[0].init.headers['Content-Type'], 'application/json');
  assert.equal(posts[0].init.credentials, 'omit');
  assert.equal(posts[0].init.keepalive, false);
  assert.deepEqual(posts[0].body, { session: 's1', state: { c: 1, d: ['k'] }, completed: true,
    score: { raw: 3, max: 4, passed: true } });
  // A save while one is on its way waits for it, then goes.
  b.save('submit');
  assert.equal(posts.length, 1);
  await answer();
  assert.equal(posts.length, 2);
  await answer();
});

test('LTI backend: edits wait 2 s, leaving uses keepalive, failures are retried', async () => {
  const { win, doc, posts, answer } = ltiPage(ISLAND, [false]);
  const b = rt.backends.lti(win, doc, { session: 's1' });
  b.open(snapshotOf({ state: '{"d":["r1"]}' }));
  b.save('start');
  b.save('edit');
  assert.equal(posts.length, 0);
  assert.deepEqual(win.pending(), [2000]);
  win.run(2000);
  assert.equal(posts.length, 1);
  assert.deepEqual(posts[0].body, { session: 's1', state: { d: ['r1'] }, completed: false });
  await answer(); // refused: tried again a second later
  assert.deepEqual(win.pending(), [1000]);
  win.run(1000);
  assert.equal(posts.length, 2);
  await answer();
  b.save('leave');
  assert.equal(posts[2].init.keepalive, true);
  b.leave();
  assert.equal(b.ended(), false, 'a page back from the back-forward cache keeps saving');
  await answer();
});

// --- this browser alone -----------------------------------------------------------------------

test('local backend: nothing but this browser\'s copy', () => {
  const b = rt.backends.local();
  assert.equal(b.mode, 'local');
  assert.equal(b.open(snapshotOf()), true);
  assert.deepEqual(b.restore(null), { state: null, location: '', readOnly: false, complete: false });
  const local = rt.decodeState('{"d":["r1"]}');
  local.l = 'r1';
  assert.equal(b.restore(local).state, local);
  assert.equal(b.restore(local).location, 'r1');
  b.save('complete');
  assert.equal(b.interaction({ id: 'x' }), false);
  assert.equal(b.restoreCourse(), null, 'the course player keeps no record of its own');
});

function fakeStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
    map: m,
  };
}

/** A session page with no blocks (enough for the Runtime) in a window of its own. */
function sessionPage(ls, cfg) {
  const win = fakeWindow({ localStorage: ls, addEventListener() {} });
  const doc = {
    body: { getAttribute: (n) => (n === 'data-cp-page' ? 'session' : null) },
    getElementById: (id) => (id === 'cp-session' ? { textContent: JSON.stringify(cfg) } : null),
    querySelectorAll: () => [],
    querySelector: () => null,
    addEventListener() {},
  };
  return rt.boot(win, doc);
}

test('local backend: a session round-trips through localStorage', () => {
  const ls = fakeStorage();
  const cfg = { course: 'c', version: '1', session: 's1', required: [] };
  const first = sessionPage(ls, cfg);
  assert.equal(first.mode, 'local');
  first.state.a.r1 = 'Kept in this browser';
  first.location = 'r1';
  first.touch();
  first.leave();
  assert.deepEqual(JSON.parse(ls.getItem('coursepack:c:1:s1')), { c: 1, a: { r1: 'Kept in this browser' }, l: 'r1' });
  const again = sessionPage(ls, cfg);
  assert.equal(again.state.a.r1, 'Kept in this browser');
  assert.equal(again.state.c, true);
  assert.equal(again.location, 'r1');
});

// --- which backend a page gets ----------------------------------------------------------------

test('a session page takes the course player, else an LMS, else the LTI tool, else this browser', () => {
  const snap = snapshotOf();
  const doc = ltiPage(null, []).doc;
  const cfg = { session: 's1' };
  // Inside the course player the player owns the LMS: the page never initialises it.
  const lms = fakeApi('2004');
  const { host } = fakeHost();
  const parent = { coursepackHost: host, API_1484_11: lms.api };
  const inPlayer = fakeWindow({ parent });
  assert.equal(rt.sessionBackend(inPlayer, doc, cfg, snap).mode, 'course');
  assert.deepEqual(lms.calls, []);

  assert.equal(rt.sessionBackend(fakeWindow({ parent: { API_1484_11: lms.api } }), doc, cfg, snap).mode, 'scorm2004');
  assert.equal(rt.sessionBackend(fakeWindow({ parent: { API: fakeApi('1.2').api } }), doc, cfg, snap).mode, 'scorm12');

  const refusing = fakeApi('1.2');
  refusing.fail.LMSInitialize = 1;
  const lti = ltiPage(ISLAND, []);
  const warn = console.warn;
  console.warn = () => {};
  try {
    assert.equal(rt.sessionBackend(fakeWindow({ API: refusing.api }), lti.doc, cfg, snap).mode, 'lti');
  } finally {
    console.warn = warn;
  }
  assert.equal(rt.sessionBackend(fakeWindow({ coursepackLti: ISLAND }), doc, cfg, snap).mode, 'lti');
  assert.equal(rt.sessionBackend(fakeWindow(), doc, cfg, snap).mode, 'local');
});

test('the course player takes an LMS, else keeps no record of the course', () => {
  const lms = fakeApi('1.2');
  assert.equal(rt.courseBackend(fakeWindow({ API: lms.api })).mode, 'scorm12');
  assert.deepEqual(lms.calls, [['LMSInitialize', '']]);
  const none = rt.courseBackend(fakeWindow());
  assert.equal(none.restoreCourse(), null);
});
