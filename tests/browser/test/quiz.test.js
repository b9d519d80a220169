// Knowledge checks in the test LMS (lib/lms/harness.js): right and wrong answers, attempts,
// pass and fail, draws that survive a re-launch, every interaction recorded with its type and
// result, reflections as interactions, scores and statuses, for SCORM 1.2 and 2004, one SCO per
// session and the course as one SCO; plus axe-core and the keyboard on a quiz.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { launch, newContext, scriptErrors } = require('../lib/browser');
const server = require('../lib/server');
const { packagings } = require('../lib/targets');
const { REPO_ROOT } = require('../lib/paths');
const lms = require('../lib/lms');
const learner = require('../lib/learner');

const { axeViolations } = require('../lib/axe');
const all = packagings(path.join(REPO_ROOT, 'tests', 'fixtures', 'quiz-course'), 'quiz').filter((p) => p.sco === 'session' || p.version === '2004' || p.isDefault || p.sco === 'course');

let srv;
let browser;
before(async () => {
  srv = await server.start();
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.close();
});

/** The quiz data of the page's island. */
async function quizzes(frame) {
  return frame.evaluate(() => JSON.parse(document.getElementById('cp-session').textContent).quizzes);
}

/** The questions shown, in order. */
async function shown(frame, quizId) {
  return frame.evaluate((id) => Array.from(document.querySelectorAll(`[data-cp-block="${id}"] fieldset[data-cp-question]`))
    .filter((f) => !f.hidden).map((f) => f.getAttribute('data-cp-question')), quizId);
}

/** Answers every shown question of a quiz, right or wrong, then submits. */
async function answer(frame, quizId, right) {
  const quiz = (await quizzes(frame))[quizId];
  for (const qid of await shown(frame, quizId)) {
    const q = quiz.questions.find((x) => x.id === qid);
    const set = frame.locator(`[data-cp-block="${quizId}"] fieldset[data-cp-question="${qid}"]`);
    if (q.type === 'text') {
      await set.locator('input[type=text]').fill(right ? `  ${q.accept[0].toUpperCase()} ` : 'no idea');
      continue;
    }
    const pick = right ? q.correct : [q.options.find((o) => !q.correct.includes(o))];
    for (const o of pick) await set.locator(`input[value="${o}"]`).check();
  }
  await frame.locator(`[data-cp-block="${quizId}"] [data-cp-submit]`).click();
}

function interactions(log, version) {
  const set = lms.EL[version].set;
  const byN = {};
  for (const c of log) {
    if (c.fn !== set) continue;
    const m = /^cmi\.interactions\.(\d+)\.(.+)$/.exec(c.args[0]);
    if (m) (byN[m[1]] = byN[m[1]] || {})[m[2]] = c.args[1];
  }
  return Object.keys(byN).sort((a, b) => a - b).map((n) => byN[n]);
}

for (const p of all) {
  const profile = p.version === '2004' && p.sco === 'session' ? 'sequencing' : 'moodle';
  describe(`${p.label}: knowledge checks`, () => {
    let base;
    const open = async (context, cfg = {}) => {
      base = base || srv.mount(`quiz-${p.version}-${p.sco}`, p.dir);
      const page = await context.newPage();
      const scos = p.scos.map((s) => ({ id: s.id, href: base + s.href }));
      await lms.openPlayer(page, srv.origin, { version: p.version, scos, profile, ...cfg });
      return page;
    };
    /** The content frame showing session `i`. */
    const sessionFrame = async (page, i) => {
      const sco = await lms.scoFrame(page);
      if (p.sco === 'session') {
        if (i !== 0) {
          await page.evaluate((n) => window.__player.open(n), i);
          await page.waitForFunction((n) => {
            const w = document.getElementById('sco').contentWindow;
            return window.__player.current() === n && w.location.href === window.__player.scos[n].href && !!w.coursepackRuntime;
          }, i);
        }
        const f = await lms.scoFrame(page);
        await f.waitForFunction(() => !!window.coursepackRuntime);
        return f;
      }
      const href = ['feedback-basics.html', 'responding.html'][i];
      await sco.waitForSelector('#cp-content');
      // The player opens the bookmarked session by itself; otherwise use its menu.
      await page.waitForTimeout(300);
      const there = await sco.evaluate((h) => {
        const w = document.getElementById('cp-content').contentWindow;
        return !!w && w.location.href.endsWith(h);
      }, href);
      if (!there) await sco.locator(`.cp-player-nav a[href="${href}"]`).click();
      await page.waitForFunction((h) => {
        const inner = document.getElementById('sco').contentDocument.getElementById('cp-content');
        const w = inner && inner.contentWindow;
        return w && w.location.href.endsWith(h) && w.coursepackRuntime && w.document.getElementById('cp-status').textContent.trim() !== '';
      }, href);
      return sco.childFrames()[0];
    };
    const leave = async (page) => {
      const fin = lms.EL[p.version].finish;
      const n = await page.evaluate((f) => window.__lms.filter((c) => c.fn === f).length, fin);
      await page.evaluate(() => window.__player.leave());
      await page.waitForFunction(({ f, n }) => window.__lms.filter((c) => c.fn === f).length > n, { f: fin, n });
      return lms.lmsState(page);
    };

    test('wrong, then right: feedback, attempts, fail then pass, interactions and scores in the LMS', async () => {
      const context = await newContext(browser);
      try {
        const page = await open(context);
        const frame = await sessionFrame(page, 0);
        // Submitting with questions unanswered records nothing.
        await frame.locator('[data-cp-block="basics-check"] [data-cp-submit]').click();
        assert.match(await frame.locator('[data-cp-block="basics-check"] [data-cp-score]').textContent(), /Answer every question first: 4 questions/);
        await frame.locator('[data-cp-block="first-thoughts"] textarea').fill('Stories are public and services answer them.');
        await answer(frame, 'basics-check', false);
        const score = frame.locator('[data-cp-block="basics-check"] [data-cp-score]');
        assert.match(await score.textContent(), /You answered 0 of 4 right \(0%\)\. Pass mark 75%: not passed yet\. 2 attempts left\./);
        assert.equal(await frame.evaluate(() => document.activeElement.getAttribute('data-cp-score')), '', 'focus moved to the score');
        assert.equal(await frame.locator('fieldset[data-cp-question="channel"] [data-cp-result]').textContent(), 'Not quite.');
        assert.ok(await frame.locator('[data-cp-option="tripadvisor"] [data-cp-feedback]').isVisible(), 'the chosen option\'s feedback shows');
        assert.ok(await frame.locator('fieldset[data-cp-question="channel"] [data-cp-explanation]').isVisible());
        let st = await lms.lmsState(page);
        let its = interactions(st.log, p.version);
        assert.equal(its.length, 4, JSON.stringify(its));
        const wrong = p.version === '1.2' ? 'wrong' : 'incorrect';
        assert.deepEqual(its.map((i) => i.result), [wrong, wrong, wrong, wrong]);
        assert.deepEqual(its.map((i) => i.type), ['choice', 'choice', 'true-false', 'fill-in']);
        assert.deepEqual(its.map((i) => i.id), ['basics-check-channel', 'basics-check-who-reads', 'basics-check-public-replies', 'basics-check-site-name']);
        if (p.version === '1.2') {
          assert.equal(its[0].correct_responses + '', 'undefined');
          assert.equal(its[0]['correct_responses.0.pattern'], 'a');
          assert.equal(its[1]['correct_responses.0.pattern'], 'a,b');
          assert.equal(its[2].student_response, 'f');
        } else {
          assert.equal(its[0]['correct_responses.0.pattern'], 'co');
          assert.equal(its[1]['correct_responses.0.pattern'], 'staff[,]public');
          assert.equal(its[2].learner_response, 'false');
          assert.match(its[0].description, /not-for-profit/);
          assert.match(its[0].timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ$/);
        }
        await page.waitForTimeout(200);

        // Try again, all right.
        await frame.locator('[data-cp-block="basics-check"] [data-cp-retry]').click();
        await answer(frame, 'basics-check', true);
        assert.match(await score.textContent(), /You answered 4 of 4 right \(100%\)\. Pass mark 75%: passed\. 1 attempt left\./);
        assert.ok(await frame.locator('[data-cp-block="basics-check"] [data-cp-retry]').isHidden(), 'no retry after full marks');
        await learner.waitStatus(frame, 'Session complete');
        const menu = p.sco === 'course'
          ? await (await lms.scoFrame(page)).locator('[data-cp-player-status="feedback-basics"]').textContent()
          : null;
        st = await leave(page);
        lms.assertNoLmsErrors(st.log);
        its = interactions(st.log, p.version);
        const right = its.filter((i) => i.result === 'correct');
        assert.equal(right.length, 4);
        // The reflection, as an interaction the tutor can read.
        const refl = its.find((i) => i.id === 'first-thoughts');
        assert.ok(refl, 'reflection reported');
        assert.equal(refl.type, p.version === '1.2' ? 'fill-in' : 'long-fill-in');
        assert.equal(refl[p.version === '1.2' ? 'student_response' : 'learner_response'], 'Stories are public and services answer them.');
        assert.equal(refl.result, 'neutral');
        const rec = st.store[p.scos[0].id];
        if (p.sco === 'session') {
          if (p.version === '1.2') {
            assert.equal(rec['cmi.core.lesson_status'], 'passed');
            assert.equal(Number(rec['cmi.core.score.raw']), 100);
          } else {
            assert.equal(rec['cmi.success_status'], 'passed');
            assert.equal(rec['cmi.completion_status'], 'completed');
            assert.equal(Number(rec['cmi.score.scaled']), 1);
            assert.equal(Number(rec['cmi.score.raw']), 4);
            assert.equal(Number(rec['cmi.score.max']), 4);
          }
          // The overview, in the same browser, shows the session's state and score.
          const dir = srv.mount(`quiz-overview-${p.version}`, p.dir);
          const ov = await context.newPage();
          await ov.goto(`${dir}index.html`);
          assert.equal(await ov.locator('[data-cp-session-state="feedback-basics"]').textContent(), 'Done · score 100%, passed');
          assert.equal(await ov.locator('[data-cp-session-state="responding"]').textContent(), 'Not started');
          assert.equal(await ov.locator('[data-cp-progress-text]').textContent(), '1 of 2 sessions done');
          assert.match(await ov.locator('[data-cp-start]').textContent(), /^Continue: /);
        } else {
          assert.equal(menu, 'Done · score 100%, passed', 'the player\'s menu shows the state and score');
          // One objective per session with its own score and success status.
          const k = p.version === '1.2' ? 'status' : 'success_status';
          const objs = Object.keys(rec).filter((x) => x.endsWith('.id') && x.startsWith('cmi.objectives.'));
          const i = objs.find((x) => rec[x] === 'OBJ-feedback-basics').split('.')[2];
          assert.equal(rec[`cmi.objectives.${i}.${k}`], 'passed');
          assert.equal(Number(rec[`cmi.objectives.${i}.score.raw`]), p.version === '1.2' ? 100 : 4);
        }
        assert.deepEqual(await scriptErrors(context, page), []);
      } finally {
        await context.close();
      }
    });

    test('a draw survives a re-launch; require_pass holds completion until passed', async () => {
      const context = await newContext(browser);
      try {
        const page = await open(context);
        let frame = await sessionFrame(page, 1);
        const drawn = await shown(frame, 'responding-check');
        assert.equal(drawn.length, 2, 'two of the bank of three');
        const order = await frame.evaluate(() => Array.from(document.querySelectorAll('fieldset:not([hidden]) [data-cp-option]')).map((o) => o.getAttribute('data-cp-option')));
        const st = await leave(page);
        lms.assertNoLmsErrors(st.log);
        // Another device: the same questions, options in the same order.
        const other = await newContext(browser);
        try {
          const again = await open(other, { store: st.store });
          frame = await sessionFrame(again, 1);
          assert.deepEqual(await shown(frame, 'responding-check'), drawn);
          assert.deepEqual(await frame.evaluate(() => Array.from(document.querySelectorAll('fieldset:not([hidden]) [data-cp-option]')).map((o) => o.getAttribute('data-cp-option'))), order);
          await answer(frame, 'responding-check', false);
          assert.equal(await learner.statusText(frame), 'Pass the knowledge check to complete this session');
          await frame.locator('[data-cp-block="responding-check"] [data-cp-retry]').click();
          await answer(frame, 'responding-check', true);
          await learner.waitStatus(frame, 'Session complete');
          const s2 = await leave(again);
          lms.assertNoLmsErrors(s2.log);
          assert.deepEqual(await scriptErrors(other, again), []);
        } finally {
          await other.close();
        }
      } finally {
        await context.close();
      }
    });

    if (p.sco === 'course') {
      test('the course score counts sessions scored in an earlier visit', async () => {
        const first = await newContext(browser);
        let store;
        try {
          const page = await open(first);
          const f1 = await sessionFrame(page, 0);
          await f1.locator('[data-cp-block="first-thoughts"] textarea').fill('A first thought.');
          await answer(f1, 'basics-check', true);
          await learner.waitStatus(f1, 'Session complete');
          await sessionFrame(page, 1); // the bookmark is now session 2
          store = (await leave(page)).store;
        } finally {
          await first.close();
        }
        const second = await newContext(browser);
        try {
          const page = await open(second, { store });
          const f2 = await sessionFrame(page, 1);
          await answer(f2, 'responding-check', true);
          await learner.waitStatus(f2, 'Session complete');
          const st = await leave(page);
          lms.assertNoLmsErrors(st.log);
          const rec = st.store[p.scos[0].id];
          if (p.version === '1.2') {
            assert.equal(rec['cmi.core.lesson_status'], 'passed');
            assert.equal(Number(rec['cmi.core.score.raw']), 100);
          } else {
            assert.equal(rec['cmi.success_status'], 'passed');
            assert.equal(rec['cmi.completion_status'], 'completed');
            assert.equal(Number(rec['cmi.score.raw']), 6, 'four right in session 1 (last visit) and two in session 2');
            assert.equal(Number(rec['cmi.score.max']), 6);
          }
        } finally {
          await second.close();
        }
      });
    }

    if (p.sco === 'session' && p.version === '1.2') {
      test('keyboard only, and axe-core clean before and after answering', async () => {
        const context = await newContext(browser);
        try {
          const page = await context.newPage();
          const dir = srv.mount(`quiz-direct-${p.version}`, p.dir);
          await page.goto(`${dir}feedback-basics.html`);
          const run = async () => (await axeViolations(page)).map((v) => v.id);
          assert.deepEqual(await run(), []);
          // Tab to the first option, choose with Space, submit with Enter on the button.
          let reached = false;
          for (let i = 0; i < 40 && !reached; i++) {
            await page.keyboard.press('Tab');
            reached = await page.evaluate(() => document.activeElement && document.activeElement.matches('[data-cp-question="channel"] input'));
          }
          assert.ok(reached, 'the first question is reachable with Tab');
          await page.keyboard.press('Space');
          assert.ok(await page.evaluate(() => document.activeElement.checked));
          await page.focus('[data-cp-block="basics-check"] [data-cp-submit]');
          await page.keyboard.press('Enter');
          assert.match(await page.locator('[data-cp-block="basics-check"] [data-cp-score]').textContent(), /Answer every question first/);
          await answer(page.mainFrame(), 'basics-check', true);
          assert.deepEqual(await run(), []);
          // Reflow at 320 px with the results shown.
          await page.setViewportSize({ width: 320, height: 640 });
          const w = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
          assert.ok(w.scroll <= w.view, `${w.scroll}px wide at 320 px`);
          assert.deepEqual(await scriptErrors(context, page), []);
        } finally {
          await context.close();
        }
      });
    }
  });
}
