// Unit tests of the runtime's pure logic, in Node (no browser).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { RUNTIME_PATH } = require('../lib/paths');
const rt = require(RUNTIME_PATH);
const { runtimeStrings } = require('../lib/strings');

rt.useStrings(runtimeStrings('en'));

const TIME12 = /^\d{4}:\d{2}:\d{2}\.\d{2}$/;
const TIME2004 = /^P(?:\d+D)?T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d{1,2})?S)?$/;

test('SCORM 1.2 session time is HHHH:MM:SS.SS', () => {
  assert.equal(rt.formatTime12(0), '0000:00:00.00');
  assert.equal(rt.formatTime12(5250), '0000:00:05.25');
  assert.equal(rt.formatTime12(3723456), '0001:02:03.46');
  assert.equal(rt.formatTime12(-5), '0000:00:00.00');
  assert.equal(rt.formatTime12(NaN), '0000:00:00.00');
  assert.equal(rt.formatTime12(59999), '0000:01:00.00');
  assert.equal(rt.formatTime12(1e15), '9999:59:59.99');
  for (const ms of [1, 999, 61000, 3599999, 36000000, 123456789]) {
    assert.match(rt.formatTime12(ms), TIME12, String(ms));
  }
});

test('SCORM 2004 session time is an ISO 8601 duration', () => {
  assert.equal(rt.formatTime2004(0), 'PT0S');
  assert.equal(rt.formatTime2004(3723500), 'PT1H2M3.5S');
  assert.equal(rt.formatTime2004(61050), 'PT1M1.05S');
  assert.equal(rt.formatTime2004(3600000), 'PT1H');
  assert.equal(rt.formatTime2004(120000), 'PT2M');
  assert.equal(rt.formatTime2004(4), 'PT0S');
  assert.equal(rt.formatTime2004(90 * 3600000), 'PT90H');
  for (const ms of [1, 999, 61000, 3599999, 36000000, 123456789]) {
    assert.match(rt.formatTime2004(ms), TIME2004, String(ms));
  }
});

test('ranges merge, and only distinct seconds count', () => {
  let r = rt.addRange([], 0, 2);
  r = rt.addRange(r, 1, 3);
  r = rt.addRange(r, 5, 6);
  assert.deepEqual(r, [0, 3, 5, 6]);
  r = rt.addRange(r, 3, 5);
  assert.deepEqual(r, [0, 6]);
  r = rt.addRange(r, 1, 2); // replaying the same part adds nothing
  assert.equal(rt.rangeTotal(r), 6);
  assert.deepEqual(rt.addRange([0, 1], 2, 2), [0, 1], 'empty range ignored');
  assert.deepEqual(rt.addRange([0, 1], NaN, 3), [0, 1], 'NaN ignored');
});

test('playback tracking ignores seeking ahead', () => {
  let r = [];
  r = rt.trackStep(r, 0, 0.25, 1);
  r = rt.trackStep(r, 0.25, 0.5, 1);
  r = rt.trackStep(r, 0.5, 50, 1); // jump: not watched
  r = rt.trackStep(r, null, 50.25, 1); // after a seek there is no previous position
  r = rt.trackStep(r, 50, 49, 1); // backwards: not watched
  assert.deepEqual(r, [0, 0.5]);
  assert.deepEqual(rt.trackStep([], 0, 2.5, 2), [0, 2.5], 'faster playback allows larger steps');
});

test('video counts as watched at video_percent of its duration', () => {
  assert.equal(rt.videoDone([0, 50], 100, 90), false);
  assert.equal(rt.videoDone([0, 50, 60, 100], 100, 90), true);
  assert.equal(rt.videoDone([0, 89], 100, 90), false);
  assert.equal(rt.videoDone([0, 89.6], 100, 90), true, 'half a second of slack at the end');
  assert.equal(rt.videoDone([0, 3.9], 4, 100), true);
  assert.equal(rt.videoDone([0, 3.9], 0, 90), false, 'unknown duration never counts');
  assert.equal(rt.videoDone([], 100, 0), true);
});

test('completion rule: all required blocks done', () => {
  const done = new Set(['a', 'b']);
  let r = rt.evaluate(['a', 'b', 'c'], (id) => done.has(id));
  assert.deepEqual(r, { done: 2, total: 3, complete: false, progress: 0.6666 });
  assert.equal(rt.statusText(r), '2 of 3 steps done');
  done.add('c');
  r = rt.evaluate(['a', 'b', 'c', 'a'], (id) => done.has(id));
  assert.deepEqual(r, { done: 3, total: 3, complete: true, progress: 1 });
  assert.equal(rt.statusText(r), 'Session complete');
  r = rt.evaluate([], () => false);
  assert.equal(r.complete, true);
  assert.equal(r.progress, 1);
});

test('suspend_data round trip', () => {
  const state = {
    c: false,
    d: ['reading-1', 'check-1'],
    a: { 'reflect-1': 'My answer, with "quotes", commas; and\nnew lines é 😀' },
    v: { video: [4, 2, 0, 2.1] },
    t: [],
  };
  const enc = rt.encodeState(state, rt.SUSPEND_LIMIT_12);
  assert.equal(enc.dropped, false);
  assert.deepEqual(enc.truncated, []);
  const back = rt.decodeState(enc.data);
  // A state with no knowledge check decodes with an empty quiz map.
  assert.deepEqual(back, { ...state, q: {} });
  assert.ok(enc.data.length < 200, enc.data);
});

test('decodeState never throws on junk', () => {
  for (const junk of ['', 'x', '{', '[]', 'null', '1', '{"d":5,"a":[1],"v":{"x":"y"}}', undefined, null, 42]) {
    const s = rt.decodeState(junk);
    assert.ok(s === null || typeof s === 'object');
  }
  const s = rt.decodeState('{"d":["ok",3],"a":{"q":"y","n":4},"v":{"bad":[-1,0],"good":[4,1,0,1]}}');
  assert.deepEqual(s.d, ['ok']);
  assert.deepEqual(s.a, { q: 'y' });
  assert.deepEqual(Object.keys(s.v), ['good']);
});

test('long answers are truncated to fit 4096, longest first, and flagged', () => {
  const long = 'x'.repeat(3000);
  const state = {
    c: false,
    d: ['r1', 'r2', 'v1'],
    a: { q1: long, q2: 'short answer', q3: 'é'.repeat(2500) },
    v: { v1: [100, 99, 0, 50, 51, 100], v2: [60, 10, 0, 10] },
    t: [],
  };
  const enc = rt.encodeState(state, 4096);
  assert.ok(enc.data.length <= 4096, `length ${enc.data.length}`);
  assert.ok(enc.data.length > 3900, 'uses the budget rather than throwing data away');
  const back = rt.decodeState(enc.data);
  assert.equal(back.a.q2, 'short answer', 'short answers are kept whole');
  assert.ok(long.startsWith(back.a.q1) && back.a.q1.length < long.length);
  assert.deepEqual(back.t.sort(), ['q1', 'q3']);
  assert.deepEqual(back.d, ['r1', 'r2', 'v1'], 'done flags are kept');
  assert.deepEqual(back.v.v1, [100, 99], 'ranges of a finished video are dropped first');
  assert.deepEqual(back.v.v2, [60, 10, 0, 10], 'unfinished video keeps its ranges');
  // The local full copy restores the truncated answers.
  const merged = rt.mergeLocalAnswers(back, { a: { q1: long, q3: 'different' } });
  assert.equal(merged.a.q1, long);
  assert.notEqual(merged.a.q3, 'different', 'a local copy that does not match is not used');
  assert.deepEqual(merged.t, ['q3']);
});

test('truncation never splits a surrogate pair and stays valid JSON under any budget', () => {
  const state = { c: true, d: ['a', 'b'], a: { q: '😀'.repeat(3000), r: 'ab'.repeat(10) }, v: {}, t: [] };
  for (const limit of [4096, 1000, 100, 40, 20, 10, 2]) {
    const enc = rt.encodeState(state, limit);
    assert.ok(enc.data.length <= limit, `${limit}: ${enc.data.length}`);
    if (enc.data) {
      const back = rt.decodeState(enc.data);
      assert.ok(back, `${limit}: decodes`);
      assert.equal(back.c, true, `${limit}: completion flag kept`);
      for (const v of Object.values(back.a)) {
        assert.doesNotMatch(v, /[\ud800-\udbff]$/, 'no lone high surrogate');
      }
    }
  }
});

test('many blocks: done ids survive even when nothing else fits', () => {
  const d = Array.from({ length: 400 }, (_, i) => `block-with-a-long-id-${i}`);
  const enc = rt.encodeState({ c: false, d, a: { q: 'answer' }, v: {}, t: [] }, 4096);
  assert.ok(enc.data.length <= 4096);
  const back = rt.decodeState(enc.data);
  assert.ok(back.d.length > 100);
});

// A fake window tree: {name, parent, opener, API?, API_1484_11?}
function fakeWin(props = {}) {
  const w = Object.assign({}, props);
  if (!w.parent) w.parent = w;
  return w;
}
const api12 = { LMSInitialize() {} };
const api2004 = { Initialize() {} };

test('API discovery: walks parents, prefers SCORM 2004', () => {
  const top = fakeWin({ API: api12 });
  const mid = fakeWin({ parent: top });
  const sco = fakeWin({ parent: mid });
  assert.deepEqual(rt.findAPI(sco), { version: '1.2', api: api12 });
  mid.API_1484_11 = api2004;
  assert.deepEqual(rt.findAPI(sco), { version: '2004', api: api2004 });
  top.API_1484_11 = api2004;
  delete mid.API_1484_11;
  assert.equal(rt.findAPI(sco).version, '2004', 'a 2004 API higher up beats a 1.2 API lower down');
});

test('API discovery: opener and its parents, after the frame chain', () => {
  const lmsTop = fakeWin({ API: api12 });
  const lmsFrame = fakeWin({ parent: lmsTop });
  const popupTop = fakeWin({ opener: lmsFrame });
  const sco = fakeWin({ parent: popupTop });
  assert.deepEqual(rt.findAPI(sco), { version: '1.2', api: api12 });
});

test('API discovery: cross-origin frames and junk are skipped, depth is bounded', () => {
  const hostile = {};
  Object.defineProperty(hostile, 'API', { get() { throw new Error('SecurityError'); } });
  Object.defineProperty(hostile, 'API_1484_11', { get() { throw new Error('SecurityError'); } });
  const top = fakeWin({ API: api12 });
  hostile.parent = top;
  const sco = fakeWin({ parent: hostile });
  assert.equal(rt.findAPI(sco).version, '1.2');
  // An object without the API functions is not an API.
  assert.equal(rt.findAPI(fakeWin({ API: { foo: 1 }, API_1484_11: 'x' })), null);
  // More than 10 levels: not found.
  let w = fakeWin({ API: api12 });
  for (let i = 0; i < 12; i++) w = fakeWin({ parent: w });
  assert.equal(rt.findAPI(w), null);
  // Nothing at all.
  assert.equal(rt.findAPI(fakeWin()), null);
  // A parent getter that throws.
  const bad = {};
  Object.defineProperty(bad, 'parent', { get() { throw new Error('denied'); } });
  assert.equal(rt.findAPI(bad), null);
});

test.describe('knowledge checks', () => {
  const single = { id: 'q1', type: 'single', options: ['a', 'b', 'c'], correct: ['b'], accept: [] };
  const multiple = { id: 'q2', type: 'multiple', options: ['a', 'b', 'c'], correct: ['a', 'c'], accept: [] };
  const tf = { id: 'q3', type: 'true-false', options: ['true', 'false'], correct: ['false'], accept: [] };
  const text = { id: 'q4', type: 'text', options: [], correct: [], accept: ['Care Opinion', 'careopinion'] };

  test('grading: exact option sets; text without case or extra spaces', () => {
    assert.equal(rt.gradeQuestion(single, ['b']), true);
    assert.equal(rt.gradeQuestion(single, ['a']), false);
    assert.equal(rt.gradeQuestion(multiple, ['c', 'a']), true);
    assert.equal(rt.gradeQuestion(multiple, ['a']), false, 'half right is wrong');
    assert.equal(rt.gradeQuestion(multiple, ['a', 'b', 'c']), false, 'everything is wrong');
    assert.equal(rt.gradeQuestion(tf, ['false']), true);
    assert.equal(rt.gradeQuestion(text, '  CARE   opinion '), true);
    assert.equal(rt.gradeQuestion(text, 'care'), false);
    assert.equal(rt.gradeQuestion(text, ''), false);
  });

  test('a draw takes `draw` distinct questions; options shuffle only when asked', () => {
    const quiz = { draw: 2, shuffle: false, questions: [single, multiple, tf, text] };
    let seed = 1;
    const random = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
    for (let i = 0; i < 20; i++) {
      const d = rt.drawAttempt(quiz, random);
      assert.equal(d.k.length, 2);
      assert.equal(new Set(d.k).size, 2);
      assert.deepEqual(d.o, {});
    }
    const all = rt.drawAttempt({ shuffle: true, questions: [single, tf] }, random);
    assert.deepEqual(all.k, ['q1', 'q3'], 'without draw: every question, in order');
    assert.deepEqual([...all.o.q1].sort(), ['a', 'b', 'c']);
    assert.equal(all.o.q3, undefined, 'true/false keeps its order');
  });

  test('session score: best attempts; pass mark judged once every quiz is submitted', () => {
    const quizzes = { k1: { size: 4 }, k2: { size: 2 } };
    assert.deepEqual(rt.sessionScore(quizzes, { k1: { n: 1, b: 3 } }, 50), { raw: 3, max: 6, scored: false, passed: null, any: true });
    assert.deepEqual(rt.sessionScore(quizzes, { k1: { n: 1, b: 3 }, k2: { n: 2, b: 1 } }, 70), { raw: 4, max: 6, scored: true, passed: false, any: true });
    assert.equal(rt.sessionScore(quizzes, { k1: { n: 1, b: 3 }, k2: { n: 2, b: 2 } }, 70).passed, true);
    assert.equal(rt.sessionScore(quizzes, { k1: { n: 1, b: 4 }, k2: { n: 1, b: 2 } }, undefined).passed, null, 'no pass mark, no verdict');
  });

  test('interactions: SCORM 1.2 letters and 255 characters, SCORM 2004 ids and long-fill-in', () => {
    const at = new Date(Date.UTC(2026, 11, 1, 9, 30, 5));
    const v12 = Object.fromEntries(rt.interactionValues('1.2', { id: 'k-q2', type: 'multiple', response: ['c', 'a'], correct: ['a', 'c'], options: ['a', 'b', 'c'], result: false, latency: 61000, at }));
    assert.equal(v12.type, 'choice');
    assert.equal(v12.student_response, 'c,a');
    assert.equal(v12['correct_responses.0.pattern'], 'a,c');
    assert.equal(v12.result, 'wrong');
    assert.equal(v12.latency, '0000:01:01.00');
    const long = 'é'.repeat(5000);
    const r12 = Object.fromEntries(rt.interactionValues('1.2', { id: 'why', type: 'reflection', response: long, result: null, at }));
    assert.equal(r12.type, 'fill-in');
    assert.equal(r12.student_response.length, 255);
    assert.equal(r12.result, 'neutral');
    const r04 = Object.fromEntries(rt.interactionValues('2004', { id: 'why', type: 'reflection', response: long, result: null, description: 'Why?', at }));
    assert.equal(r04.type, 'long-fill-in');
    assert.equal(r04.learner_response.length, 4000);
    assert.equal(r04.timestamp, '2026-12-01T09:30:05.00Z');
    const tf04 = Object.fromEntries(rt.interactionValues('2004', { id: 'k-q3', type: 'true-false', response: ['true'], correct: ['false'], result: false, at }));
    assert.equal(tf04.learner_response, 'true');
    assert.equal(tf04['correct_responses.0.pattern'], 'false');
    assert.equal(tf04.result, 'incorrect');
  });

  test('quiz state survives encoding, and the last resort keeps it', () => {
    const state = { c: false, d: [], a: { r: 'x'.repeat(5000) }, q: { k1: { n: 2, b: 3, k: ['q1', 'q2'], o: { q1: ['b', 'a'] }, r: { q1: ['a'], q2: 'text' } } } };
    const enc = rt.encodeState(state, 4096);
    const back = rt.decodeState(enc.data);
    assert.deepEqual(back.q.k1, state.q.k1);
  });
});

test('a session\'s state for the overview: not started, in progress, done, with its score', () => {
  assert.equal(rt.sessionState(null), 'new');
  assert.equal(rt.sessionState(rt.decodeState('{}')), 'new');
  assert.equal(rt.sessionState(rt.decodeState('{"d":["a"]}')), 'started');
  assert.equal(rt.sessionState(rt.decodeState('{"c":1}')), 'done');
  assert.equal(rt.sessionSummary(null, 0), '');
  assert.equal(rt.sessionSummary(rt.decodeState('{}'), 0), 'Not started');
  assert.equal(rt.sessionSummary(rt.decodeState('{"a":{"q":"Kindness."}}'), 0), 'In progress');
  const quizzed = rt.decodeState('{"c":1,"q":{"check":{"n":1,"b":3,"k":["a","b","c","d"]}}}');
  assert.equal(rt.sessionSummary(quizzed, 4, 75), 'Done · score 75%, passed');
  assert.equal(rt.sessionSummary(quizzed, 4, 80), 'Done · score 75%, not passed yet');
  assert.equal(rt.sessionSummary(quizzed, 4), 'Done · score 75%');
});

test('the runtime speaks the page\'s language, with its plural forms', () => {
  try {
    rt.useStrings(runtimeStrings('cy'));
    const status = (done, total) => rt.statusText({ complete: false, needsPass: false, done, total });
    // Welsh: 2 gam (soft mutation), 3 and 6 cham (aspirate), 10 cam.
    assert.equal(status(1, 2), "1 o 2 gam wedi'u gwneud");
    assert.equal(status(0, 3), "0 o 3 cham wedi'u gwneud");
    assert.equal(status(0, 6), "0 o 6 cham wedi'u gwneud");
    assert.equal(status(4, 10), "4 o 10 cam wedi'u gwneud");
    assert.equal(rt.statusText({ complete: true }), "Sesiwn wedi'i chwblhau");
    assert.equal(rt.tr('attempts_left', null, 2), '2 ymgais ar ôl.');
    assert.equal(rt.tr('no.such.key'), 'no.such.key');
  } finally {
    rt.useStrings(runtimeStrings('en'));
  }
  assert.equal(rt.tr('attempts_left', null, 1), '1 attempt left.');
  assert.equal(rt.tr('question_of', { i: 1 }, 3), 'Question 1 of 3');
});
