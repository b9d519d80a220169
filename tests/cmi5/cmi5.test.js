// cmi5 packages in an independent test LMS + LRS (lms.py, Python, written from the cmi5
// specification): every launch goes through the spec's query parameters and fetch URL, every
// statement is checked against the spec's rules as it arrives, and a test fails on any
// violation. Flows in headless Chromium: complete a session, pass and fail a knowledge check,
// leave and resume, browse mode, a second registration starting fresh, a fetch URL used twice,
// the course as one AU.
//
// COURSEPACK_CMI5_PACKAGES names a folder holding the unzipped packages (tests/cmi5/run.sh
// builds them): quiz/ (the quiz fixture, one AU per session), quiz-course-au/ (--sco course) and
// every-block/ (a fixture with a local video).
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { launch, newContext, scriptErrors } = require('../browser/lib/browser');
const { axeViolations } = require('../browser/lib/axe');

const PACKAGES = process.env.COURSEPACK_CMI5_PACKAGES;
if (!PACKAGES) throw new Error('COURSEPACK_CMI5_PACKAGES is not set: run tests/cmi5/run.sh');
const VERB = 'http://adlnet.gov/expapi/verbs/';

/** Starts lms.py on a package folder; resolves with {base, course, stop}. */
function startLms(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [path.join(__dirname, 'lms.py'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const lines = out.split('\n');
      if (lines.length >= 3) {
        const base = /listening on (\S+)/.exec(lines[0])[1];
        const course = JSON.parse(lines[1]).course;
        resolve({ base, course, stop: () => child.kill() });
      }
    });
    child.on('exit', (code) => reject(new Error(`lms.py exited with ${code}`)));
  });
}

async function post(base, p, body) {
  const res = await fetch(base + p, { method: 'POST', body: JSON.stringify(body || {}) });
  return res.json();
}

async function report(lms) {
  return (await fetch(lms.base + '/lms/report')).json();
}

/** The verbs of one session's statements, in order of receipt. */
function verbs(rep, session) {
  return rep.statements.filter((s) => s.session === session).map((s) => s.statement.verb.id.replace(VERB, ''));
}

function statementsOf(rep, session, verb) {
  return rep.statements.filter((s) => s.session === session && s.statement.verb.id === VERB + verb).map((s) => s.statement);
}

/** Opens a launch URL and waits for the page's runtime. */
async function open(context, url) {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => !!window.coursepackRuntime || !!window.coursepackPlayer || !!document.querySelector('[data-cp-cmi5-notice]'));
  return page;
}

/** Ends the AU with its Finish button and waits for the LMS's return page (or the notice). */
async function finish(page, returns = true) {
  await page.locator('[data-cp-cmi5-finish]').click();
  if (returns) await page.waitForURL(/\/lms\/returned/);
  else await page.waitForSelector('[data-cp-cmi5-notice]');
}

/** Waits until the LRS holds a statement with `verb` for `session`. */
async function waitFor(lms, session, verb) {
  for (let i = 0; i < 100; i++) {
    const rep = await report(lms);
    if (statementsOf(rep, session, verb).length) return rep;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${verb} statement for session ${session}`);
}

async function quizzes(page) {
  return page.evaluate(() => JSON.parse(document.getElementById('cp-session').textContent).quizzes);
}

/** Answers every shown question of a quiz, right or wrong, then submits. */
async function answer(page, quizId, right) {
  const quiz = (await quizzes(page))[quizId];
  const shown = await page.evaluate((id) => Array.from(document.querySelectorAll(`[data-cp-block="${id}"] fieldset[data-cp-question]`))
    .filter((f) => !f.hidden).map((f) => f.getAttribute('data-cp-question')), quizId);
  for (const qid of shown) {
    const q = quiz.questions.find((x) => x.id === qid);
    const set = page.locator(`[data-cp-block="${quizId}"] fieldset[data-cp-question="${qid}"]`);
    if (q.type === 'text') {
      await set.locator('input[type=text]').fill(right ? q.accept[0] : 'no idea');
      continue;
    }
    const pick = right ? q.correct : [q.options.find((o) => !q.correct.includes(o))];
    for (const o of pick) await set.locator(`input[value="${o}"]`).check();
  }
  await page.locator(`[data-cp-block="${quizId}"] [data-cp-submit]`).click();
}

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

describe('cmi5: one AU per session (quiz fixture)', () => {
  let lms;
  before(async () => { lms = await startLms(path.join(PACKAGES, 'quiz')); });
  after(() => lms && lms.stop());

  const clean = async (context, page) => {
    const rep = await report(lms);
    assert.deepEqual(rep.violations, [], 'the LMS saw no violation of the spec');
    if (page) assert.deepEqual(await scriptErrors(context, page), []);
    return rep;
  };

  test('the LMS imports cmi5.xml: an AU per session with moveOn and masteryScore', () => {
    assert.deepEqual(lms.course.aus.map((a) => [a.url, a.moveOn, a.masteryScore, a.launchMethod]), [
      ['feedback-basics.html', 'Completed', 0.75, 'AnyWindow'],
      ['responding.html', 'CompletedAndPassed', 0.5, 'AnyWindow'],
    ]);
  });

  test('complete a session and pass its check: completed and passed once, answers, returnURL', async () => {
    const context = await newContext(browser);
    const l = await post(lms.base, '/lms/launch', { au: 0, returnURL: true });
    const page = await open(context, l.url);
    await page.locator('[data-cp-block="first-thoughts"] textarea').fill('Stories are public.');
    await answer(page, 'basics-check', true);
    await waitFor(lms, l.session, 'passed');
    await finish(page);
    const rep = await clean(context, null);
    const v = verbs(rep, l.session);
    assert.equal(v[0], 'initialized');
    assert.equal(v[v.length - 1], 'terminated');
    assert.deepEqual(v.filter((x) => x === 'completed' || x === 'passed' || x === 'failed'), ['completed', 'passed']);
    const passed = statementsOf(rep, l.session, 'passed')[0];
    assert.deepEqual(passed.result.score, { scaled: 1, raw: 4, min: 0, max: 4 });
    assert.equal(passed.context.extensions['https://w3id.org/xapi/cmi5/context/extensions/masteryscore'], 0.75);
    const answered = statementsOf(rep, l.session, 'answered');
    assert.deepEqual(answered.map((s) => s.object.definition.interactionType).sort(),
      ['choice', 'choice', 'fill-in', 'long-fill-in', 'true-false']);
    assert.ok(answered.every((s) => s.object.id.startsWith('urn:coursepack:quiz-course/au/feedback-basics/')));
    assert.ok(statementsOf(rep, l.session, 'terminated')[0].result.duration.startsWith('PT'));
    // The learner's state went to the State API; LMS.LaunchData was only read.
    assert.ok(rep.writes.some((w) => w.session === l.session && w.stateId === 'coursepack.state'));
    await context.close();
  });

  test('fail the check: failed (with the score) only when the session ends; pass on a re-launch', async () => {
    const context = await newContext(browser);
    const l = await post(lms.base, '/lms/launch', { au: 0, returnURL: true });
    let page = await open(context, l.url);
    await page.locator('[data-cp-block="first-thoughts"] textarea').fill('Not much yet.');
    await answer(page, 'basics-check', false);
    await waitFor(lms, l.session, 'completed');
    // A second try in the same session may still pass: nothing judged yet.
    let rep = await report(lms);
    assert.equal(statementsOf(rep, l.session, 'failed').length, 0);
    await finish(page);
    rep = await clean(context, null);
    const failed = statementsOf(rep, l.session, 'failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].result.success, false);
    assert.equal(failed[0].result.score.raw, 0);
    assert.deepEqual(verbs(rep, l.session).filter((x) => x !== 'answered'), ['initialized', 'completed', 'failed', 'terminated']);
    // Same registration, a new session: the check is passed; completed is not sent again.
    const again = await post(lms.base, '/lms/launch', { au: 0, registration: l.registration, returnURL: true });
    page = await open(context, again.url);
    await page.locator('[data-cp-block="basics-check"] [data-cp-retry]').click();
    await answer(page, 'basics-check', true);
    await waitFor(lms, again.session, 'passed');
    await finish(page);
    rep = await clean(context, null);
    assert.deepEqual(verbs(rep, again.session).filter((x) => x !== 'answered'), ['initialized', 'passed', 'terminated']);
    await context.close();
  });

  test('leave and resume: the state comes back from the LRS; a second registration starts fresh', async () => {
    const context = await newContext(browser);
    const l = await post(lms.base, '/lms/launch', { au: 0 });
    let page = await open(context, l.url);
    await page.locator('[data-cp-block="first-thoughts"] textarea').fill('Kept in the LRS.');
    // The learner closes the window: the page hides and goes away.
    await page.close({ runBeforeUnload: true });
    await waitFor(lms, l.session, 'terminated');
    const again = await post(lms.base, '/lms/launch', { au: 0, registration: l.registration });
    page = await open(context, again.url);
    assert.equal(await page.locator('[data-cp-block="first-thoughts"] textarea').inputValue(), 'Kept in the LRS.');
    await finish(page, false);
    // Another registration (a new enrolment) in the same browser: nothing carried over.
    const fresh = await post(lms.base, '/lms/launch', { au: 0 });
    page = await open(context, fresh.url);
    assert.equal(await page.locator('[data-cp-block="first-thoughts"] textarea').inputValue(), '');
    await finish(page, false);
    await clean(context, page);
    await context.close();
  });

  for (const mode of ['Browse', 'Review']) {
    test(`${mode} mode: only initialized and terminated, no state written, the page says so`, async () => {
      const context = await newContext(browser);
      const l = await post(lms.base, '/lms/launch', { au: 0, mode, returnURL: true });
      const page = await open(context, l.url);
      assert.ok(await page.locator('[data-cp-preview]').first().isVisible());
      await page.locator('[data-cp-block="first-thoughts"] textarea').fill('Just looking.');
      await finish(page);
      const rep = await clean(context, null);
      assert.deepEqual(verbs(rep, l.session), ['initialized', 'terminated']);
      assert.deepEqual(rep.writes.filter((w) => w.session === l.session), []);
      await context.close();
    });
  }

  test('a fetch URL used twice is refused, and the page says so', async () => {
    const context = await newContext(browser);
    const l = await post(lms.base, '/lms/launch', { au: 0 });
    const first = await open(context, l.url);
    assert.equal(await first.locator('[data-cp-cmi5-notice]').count(), 0);
    const second = await open(context, l.url);
    await second.waitForSelector('[data-cp-cmi5-notice]');
    assert.match(await second.locator('[data-cp-cmi5-notice]').textContent(), /already used or has expired/);
    const rep = await report(lms);
    const answers = rep.fetches.filter((f) => l.fetch.endsWith(f.key)).map((f) => f.answer['error-code'] || 'token');
    assert.deepEqual(answers, ['token', '1']);
    // The refused page sends nothing: the first page's session is the only one.
    assert.deepEqual(verbs(rep, l.session), ['initialized']);
    await finish(first, false);
    await clean(context, null);
    await context.close();
  });

  test('a page opened without a launch says nothing is recorded; the launched page passes axe-core', async () => {
    const context = await newContext(browser);
    let page = await open(context, `${lms.base}/content/feedback-basics.html`);
    assert.match(await page.locator('[data-cp-cmi5-notice]').textContent(), /not launched by a cmi5 LMS/);
    assert.equal(await page.evaluate(() => window.coursepackRuntime.mode), 'local');
    const l = await post(lms.base, '/lms/launch', { au: 0, returnURL: true });
    page = await open(context, l.url);
    assert.equal(await page.evaluate(() => window.coursepackRuntime.mode), 'cmi5');
    const violations = (await axeViolations(page)).map((v) => `${v.id}: ${v.nodes.join(', ')}`);
    assert.deepEqual(violations, []);
    await finish(page);
    await clean(context, null);
    await context.close();
  });

  test('require_pass: CompletedAndPassed; completed only once passed', async () => {
    const context = await newContext(browser);
    const l = await post(lms.base, '/lms/launch', { au: 1, returnURL: true });
    const page = await open(context, l.url);
    await answer(page, 'responding-check', true);
    await waitFor(lms, l.session, 'completed');
    await finish(page);
    const rep = await clean(context, null);
    assert.deepEqual(verbs(rep, l.session).filter((x) => x !== 'answered').sort(), ['completed', 'initialized', 'passed', 'terminated']);
    await context.close();
  });
});

describe('cmi5: the course as one AU (--sco course)', () => {
  let lms;
  before(async () => { lms = await startLms(path.join(PACKAGES, 'quiz-course-au')); });
  after(() => lms && lms.stop());

  test('the player is the AU: completed once every session is done, passed once every mark is', async () => {
    assert.deepEqual(lms.course.aus.map((a) => [a.url, a.moveOn, a.masteryScore]), [['course.html', 'CompletedAndPassed', null]]);
    const context = await newContext(browser);
    const l = await post(lms.base, '/lms/launch', { au: 0, returnURL: true });
    const page = await open(context, l.url);
    const inner = async (href) => {
      await page.locator(`.cp-player-nav a[href="${href}"]`).click();
      await page.waitForFunction((h) => {
        const w = document.getElementById('cp-content').contentWindow;
        return w && w.location.href.endsWith(h) && !!w.coursepackRuntime;
      }, href);
      return page.frames().find((f) => f.url().endsWith(href));
    };
    let f = await inner('feedback-basics.html');
    await f.locator('[data-cp-block="first-thoughts"] textarea').fill('In the player.');
    await answer(f, 'basics-check', true);
    f = await inner('responding.html');
    await answer(f, 'responding-check', true);
    await waitFor(lms, l.session, 'passed');
    await finish(page);
    const rep = await report(lms);
    assert.deepEqual(rep.violations, []);
    assert.deepEqual(verbs(rep, l.session).filter((x) => x !== 'answered'), ['initialized', 'completed', 'passed', 'terminated']);
    await context.close();
  });
});

describe('cmi5: learner preferences (every-block fixture)', () => {
  let lms;
  before(async () => { lms = await startLms(path.join(PACKAGES, 'every-block')); });
  after(() => lms && lms.stop());

  test('audioPreference "off" mutes the videos from the start; "on" leaves them', async () => {
    const context = await newContext(browser);
    for (const [audio, muted] of [['off', true], ['on', false]]) {
      const l = await post(lms.base, '/lms/launch', { au: 0, audio });
      const page = await open(context, l.url);
      assert.equal(await page.evaluate(() => document.querySelector('video').muted), muted, audio);
      await finish(page, false);
    }
    const rep = await report(lms);
    assert.deepEqual(rep.violations, []);
    await context.close();
  });
});
