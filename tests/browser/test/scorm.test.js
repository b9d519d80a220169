// SCORM 1.2 and 2004 scenarios: a test LMS page (scorm-again) runs each package's SCOs in an
// iframe, the way Moodle does, and the test reads what the runtime reported.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launch, newContext, scriptErrors } = require('../lib/browser');
const server = require('../lib/server');
const { packageSets } = require('../lib/targets');
const lms = require('../lib/lms');
const learner = require('../lib/learner');

const { sets, skipped } = packageSets();
if (skipped) test(`built packages: ${skipped}`, { skip: skipped }, () => {});

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

/** The session with the most required blocks, to exercise every kind at once. */
function richestLaunch(set) {
  let best = null;
  let bestN = -1;
  for (const l of set.launches) {
    const html = fs.readFileSync(path.join(set.dirs['1.2'], l), 'utf8');
    const m = /<script type="application\/json" id="cp-session">([\s\S]*?)<\/script>/.exec(html);
    const n = m ? JSON.parse(m[1]).required.length : 0;
    if (n > bestN) { best = l; bestN = n; }
  }
  return best;
}

async function noScriptErrors(context, page) {
  assert.deepEqual(await scriptErrors(context, page), [], 'no script errors');
}

for (const set of sets) {
  for (const version of ['1.2', '2004']) {
    const el = lms.EL[version];
    const mount = `${set.name}-${version}`;
    let base;
    const focus = richestLaunch(set);
    const open = async (context, opts = {}) => {
      base = base || srv.mount(mount, set.dirs[version]);
      const page = await context.newPage();
      const frame = await lms.openSco(page, srv.origin, { version, ...opts, launch: base + (opts.launch || focus) });
      return { page, frame };
    };

    describe(`${set.name}, SCORM ${version}`, () => {
      test('1. opening a session and leaving: incomplete, valid session time', async () => {
        const context = await newContext(browser);
        try {
          const { page, frame } = await open(context);
          const s = await learner.session(frame);
          assert.match(await learner.statusText(frame), s.required.length ? /^0 of \d+ steps done$/ : /^Session complete$/);
          await page.waitForTimeout(1200);
          await lms.leave(page, version);
          const { log, cmi } = await lms.snapshot(page);
          lms.assertNoLmsErrors(log);
          assert.equal(log[0].kind, 'init', 'Initialize comes first');
          if (s.required.length) {
            assert.equal(version === '1.2' ? cmi.core.lesson_status : cmi.completion_status, 'incomplete');
            assert.equal(version === '1.2' ? cmi.core.exit : cmi.exit, 'suspend');
            if (version === '2004') assert.equal(Number(cmi.progress_measure), 0);
          }
          lms.assertSessionTime(log, version, 1);
          const fin = log.filter((c) => c.fn === el.finish);
          assert.equal(fin.length, 1, 'finished exactly once');
          assert.equal(fin[0].ret, 'true');
          const lastCommit = log.map((c) => c.fn).lastIndexOf(el.commit);
          assert.ok(lastCommit >= 0 && lastCommit < log.indexOf(fin[0]), 'committed before finishing');
          await noScriptErrors(context, page);
        } finally {
          await context.close();
        }
      });

      for (const launchFile of set.launches) {
        test(`2. meeting every completion rule completes ${launchFile}`, async () => {
          const context = await newContext(browser);
          try {
            const { page, frame } = await open(context, { launch: launchFile });
            const s = await learner.session(frame);
            const required = (await learner.blocks(frame)).filter((b) => b.required);
            assert.equal(required.length, s.required.length, 'every required block is on the page');
            for (const b of required) await learner.doBlock(frame, b, context);
            await learner.waitStatus(frame, 'Session complete');
            // Reported and committed at completion, before the learner leaves.
            let { log } = await lms.snapshot(page);
            const done = log.findIndex((c) => c.fn === el.set && c.args[0] === el.status && c.args[1] === 'completed');
            assert.ok(done >= 0, 'completion set at once');
            assert.ok(log.slice(done).some((c) => c.fn === el.commit && c.ret === 'true'), 'committed at completion');
            await lms.leave(page, version);
            let cmi;
            ({ log, cmi } = await lms.snapshot(page));
            lms.assertNoLmsErrors(log);
            if (version === '1.2') {
              assert.equal(cmi.core.lesson_status, 'completed');
            } else {
              assert.equal(cmi.completion_status, 'completed');
              assert.equal(Number(cmi.progress_measure), 1);
            }
            // Suspend, even when complete: only then does an LMS give the data back on re-entry.
            assert.equal(version === '1.2' ? cmi.core.exit : cmi.exit, 'suspend');
            {
            }
            assert.ok(log.some((c) => c.fn === el.finish && c.ret === 'true'), 'finished');
            lms.assertSessionTime(log, version, 0);
            await noScriptErrors(context, page);
          } finally {
            await context.close();
          }
        });
      }

      test('3. leaving half way and coming back in a new attempt restores answers and position', async () => {
        const first = await newContext(browser);
        let saved;
        let doneIds;
        let half;
        try {
          const { page, frame } = await open(first);
          const required = (await learner.blocks(frame)).filter((b) => b.required);
          half = required.slice(0, Math.max(1, Math.ceil(required.length / 2)));
          // Always include a reflection and, where there is one, half of a video.
          const reflection = required.find((b) => b.answer);
          if (reflection && !half.includes(reflection)) half.push(reflection);
          const video = required.find((b) => b.video);
          doneIds = [];
          for (const b of half) {
            if (b.video) continue;
            await learner.doBlock(frame, b, first);
            doneIds.push(b.id);
          }
          if (video) await learner.playVideo(frame, video.id, { to: 2 });
          await page.waitForTimeout(300);
          await lms.leave(page, version);
          const snap = await lms.snapshot(page);
          lms.assertNoLmsErrors(snap.log);
          saved = snap.cmi;
          assert.equal(version === '1.2' ? saved.core.exit : saved.exit, 'suspend');
          assert.ok(saved.suspend_data.length > 0);
          assert.ok(saved.suspend_data.length <= (version === '1.2' ? 4096 : 64000));
          await noScriptErrors(first, page);
        } finally {
          await first.close();
        }
        // A new browser context: nothing in localStorage, everything comes from the LMS.
        const second = await newContext(browser);
        try {
          const { page, frame } = await open(second, { init: lms.resumeInit(version, saved) });
          const blocks = await learner.blocks(frame);
          const required = blocks.filter((b) => b.required);
          for (const b of required) {
            if (!doneIds.includes(b.id)) continue;
            if (b.answer) assert.equal(await frame.locator(`#${learner.cssId(b.answer)}`).inputValue(), learner.answerFor(b.id));
            if (b.checkbox) assert.equal(await frame.locator(`#${learner.cssId(b.checkbox)}`).isChecked(), true);
            const st = frame.locator(`[data-cp-block="${b.id}"] [data-cp-block-status]`);
            if (await st.count()) assert.equal((await st.textContent()).trim(), 'Done');
          }
          assert.equal(await learner.statusText(frame), `${doneIds.length} of ${required.length} steps done`);
          // The bookmark: the last block used, and the page is scrolled to it.
          const location = version === '1.2' ? saved.core.lesson_location : saved.location;
          assert.ok(required.some((b) => b.id === location), `location "${location}" names a block`);
          const inView = await frame.evaluate((id) => {
            const r = document.querySelector(`[data-cp-block="${id}"]`).getBoundingClientRect();
            return r.top < window.innerHeight && r.bottom > 0;
          }, location);
          assert.ok(inView, 'bookmarked block is in view');
          const video = required.find((b) => b.video);
          if (video) {
            // Video progress restored: playback resumes near 2 s, and watching the rest completes it.
            const t = await frame.evaluate((id) => document.querySelector(`[data-cp-block="${id}"] video`).currentTime, video.id);
            assert.ok(t >= 1.5 && t <= 2.5, `video resumed at ${t}`);
            await learner.playVideo(frame, video.id);
            const st = frame.locator(`[data-cp-block="${video.id}"] [data-cp-block-status]`);
            await frame.waitForFunction((id) => document.querySelector(`[data-cp-block="${id}"] [data-cp-block-status]`).textContent === 'Done', video.id);
            assert.equal((await st.textContent()).trim(), 'Done');
          }
          await lms.leave(page, version);
          const { log } = await lms.snapshot(page);
          lms.assertNoLmsErrors(log);
          await noScriptErrors(second, page);
        } finally {
          await second.close();
        }
      });

      if (version === '1.2') {
        test('4. long reflection answers: suspend_data stays within 4096 characters', async (t) => {
          const context = await newContext(browser);
          let saved;
          let answers;
          try {
            const { page, frame } = await open(context);
            const refl = (await learner.blocks(frame)).filter((b) => b.answer);
            assert.ok(refl.length > 0, 'the session has reflections');
            // Quotes, backslashes and new lines double in JSON; accents and emoji are long too.
            const unit = '"Quoted", back\\slash\nnew line é 😀 ';
            answers = {};
            for (const b of refl) {
              const max = b.maxlength || 5000;
              const text = unit.repeat(Math.ceil(max / unit.length)).slice(0, max - 1);
              answers[b.id] = text;
              await frame.locator(`#${learner.cssId(b.answer)}`).fill(text);
            }
            const total = Object.values(answers).reduce((n, a) => n + JSON.stringify(a).length, 0);
            if (total <= 4096) t.diagnostic(`answers take ${total} characters: this page cannot exceed the budget`);
            await page.waitForTimeout(1500);
            await lms.leave(page, version);
            const { log, cmi } = await lms.snapshot(page);
            lms.assertNoLmsErrors(log);
            const sent = lms.setValues(log, version)['cmi.suspend_data'] || [];
            assert.ok(sent.length > 0);
            for (const v of sent) assert.ok(v.length <= 4096, `suspend_data of ${v.length} characters`);
            saved = cmi;
            assert.ok(saved.suspend_data.length <= 4096);
            if (total > 4096) assert.ok(saved.suspend_data.length > 3000, 'budget used, not thrown away');
            await noScriptErrors(context, page);
            // Same browser, new attempt: the whole answers come back from localStorage.
            const again = await open(context, { init: lms.resumeInit(version, saved) });
            for (const b of refl) {
              assert.equal(await again.frame.locator(`#${learner.cssId(b.answer)}`).inputValue(), answers[b.id], 'whole answer restored from this browser');
            }
            await lms.leave(again.page, version);
            lms.assertNoLmsErrors((await lms.snapshot(again.page)).log);
            await noScriptErrors(context, again.page);
          } finally {
            await context.close();
          }
          // Another browser: what suspend_data holds, a prefix of each answer at least.
          const other = await newContext(browser);
          try {
            const { page, frame } = await open(other, { init: lms.resumeInit(version, saved) });
            for (const [id, text] of Object.entries(answers)) {
              const value = await frame.locator(`[data-cp-block="${id}"] textarea`).inputValue();
              assert.ok(value.length > 0 && text.startsWith(value), `answer ${id} restored as a prefix (${value.length} chars)`);
            }
            await lms.leave(page, version);
            await noScriptErrors(other, page);
          } finally {
            await other.close();
          }
        });
      }

      test('6a. an LMS whose Commit fails at first: retried without blocking the learner', async () => {
        const context = await newContext(browser);
        try {
          const { page, frame } = await open(context, { fail: { commit: { mode: 'false', times: 3 } } });
          const required = (await learner.blocks(frame)).filter((b) => b.required);
          // The learner carries on while the runtime retries in the background.
          for (const b of required) await learner.doBlock(frame, b, context);
          await learner.waitStatus(frame, 'Session complete');
          await page.waitForFunction((c) => window.__lms.some((x) => x.fn === c && x.ret === 'true'), el.commit, { timeout: 15000 });
          const { log, cmi } = await lms.snapshot(page);
          const commits = log.filter((c) => c.fn === el.commit);
          assert.ok(commits.length >= 4, `commit retried (${commits.length} calls)`);
          assert.equal(version === '1.2' ? cmi.core.lesson_status : cmi.completion_status, 'completed');
          lms.assertNoLmsErrors(log);
          await lms.leave(page, version);
          await noScriptErrors(context, page);
        } finally {
          await context.close();
        }
      });

      test('6b. an LMS whose SetValue and Commit throw: the learner is not blocked, no script errors', async () => {
        const context = await newContext(browser);
        try {
          const { page, frame } = await open(context, { fail: { set: { mode: 'throw' }, commit: { mode: 'throw' } } });
          const required = (await learner.blocks(frame)).filter((b) => b.required);
          for (const b of required) await learner.doBlock(frame, b, context);
          await learner.waitStatus(frame, 'Session complete');
          await page.waitForTimeout(1500);
          const { log } = await lms.snapshot(page);
          assert.ok(log.filter((c) => c.kind === 'commit').length >= 2, 'commit tried again');
          await lms.leave(page, version);
          await noScriptErrors(context, page);
        } finally {
          await context.close();
        }
      });

      test('6c. an LMS whose SetValue returns "false": no script errors, finish still called', async () => {
        const context = await newContext(browser);
        try {
          const { page, frame } = await open(context, { fail: { set: { mode: 'false' } } });
          const required = (await learner.blocks(frame)).filter((b) => b.required);
          for (const b of required) await learner.doBlock(frame, b, context);
          await learner.waitStatus(frame, 'Session complete');
          await lms.leave(page, version);
          const { log } = await lms.snapshot(page);
          assert.ok(log.some((c) => c.fn === el.finish));
          await noScriptErrors(context, page);
        } finally {
          await context.close();
        }
      });

      test('7. every value the runtime sends is accepted by the LMS', async () => {
        const context = await newContext(browser);
        try {
          const { page, frame } = await open(context);
          const required = (await learner.blocks(frame)).filter((b) => b.required);
          for (const b of required.slice(0, -1)) await learner.doBlock(frame, b, context);
          await page.waitForTimeout(1300); // let the debounced save run
          if (required.length) await learner.doBlock(frame, required[required.length - 1], context);
          await lms.leave(page, version);
          const { log } = await lms.snapshot(page);
          lms.assertNoLmsErrors(log);
          // Reflections are reported as interactions when the learner leaves.
          const all = Object.keys(lms.setValues(log, version));
          if (required.some((b) => b.answer)) assert.ok(all.some((e) => /^cmi\.interactions\.\d+\.id$/.test(e)), 'reflections reported as interactions');
          const elements = all.filter((e) => !/^cmi\.interactions\./.test(e)).sort();
          const expected = version === '1.2'
            ? ['cmi.core.exit', 'cmi.core.lesson_location', 'cmi.core.lesson_status', 'cmi.core.session_time', 'cmi.suspend_data']
            : ['cmi.completion_status', 'cmi.exit', 'cmi.location', 'cmi.progress_measure', 'cmi.session_time', 'cmi.suspend_data'];
          assert.deepEqual(elements, required.length ? expected : expected.filter((e) => !/location/.test(e)));
          // Only the version's own elements: a 2004 element sent to a 1.2 LMS would be lost.
          const own = version === '1.2' ? /^cmi\.(core\.|suspend_data$|interactions\.)/ : /^(cmi\.(?!core\.)|adl\.nav\.request_valid\.)/;
          for (const c of log) if (c.kind === 'set' || c.kind === 'get') assert.match(c.args[0], own);
          await noScriptErrors(context, page);
        } finally {
          await context.close();
        }
      });
    });
  }

  describe(`${set.name}, no LMS`, () => {
    test('LTI mode: state POSTed with the launch token, completion reported', async () => {
      srv.mount(`${set.name}-lti`, set.dirs['1.2']);
      const launchFile = richestLaunch(set);
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        srv.ltiPosts.length = 0;
        await page.goto(`${srv.origin}/lti/${set.name}-lti/${launchFile}`);
        const frame = page.mainFrame();
        const s = await learner.session(frame);
        const required = (await learner.blocks(frame)).filter((b) => b.required);
        for (const b of required) await learner.doBlock(frame, b, context);
        await learner.waitStatus(frame, 'Session complete');
        for (let i = 0; i < 50 && !srv.ltiPosts.some((p) => JSON.parse(p.body).completed); i++) await page.waitForTimeout(100);
        assert.ok(srv.ltiPosts.length > 0, 'state was POSTed');
        for (const p of srv.ltiPosts) {
          assert.equal(p.auth, 'Bearer test-launch-token');
          assert.match(p.type, /^application\/json/);
          const body = JSON.parse(p.body);
          assert.equal(body.session, s.session);
          assert.equal(typeof body.state, 'object');
          assert.equal(typeof body.completed, 'boolean');
        }
        assert.ok(srv.ltiPosts.some((p) => JSON.parse(p.body).completed === true), 'completion POSTed');
        assert.ok(srv.ltiPosts.length < 20, `debounced (${srv.ltiPosts.length} requests)`);
        await noScriptErrors(context, page);
      } finally {
        await context.close();
      }
    });

    test('LTI mode: a learner on another device gets the state the tool saved', async () => {
      srv.mount(`${set.name}-lti-resume`, set.dirs['1.2']);
      const launchFile = richestLaunch(set);
      const url = `${srv.origin}/lti/${set.name}-lti-resume/${launchFile}`;
      srv.ltiSaved.state = null;
      const first = await newContext(browser);
      let answered;
      let ticked;
      try {
        const page = await first.newPage();
        await page.goto(url);
        const frame = page.mainFrame();
        answered = (await learner.blocks(frame)).filter((b) => b.answer);
        ticked = (await learner.blocks(frame)).filter((b) => b.checkbox);
        for (const b of answered.concat(ticked)) await learner.doBlock(frame, b, first);
        await page.close({ runBeforeUnload: true });
        // Wait for the last save to reach the tool (debounced, then sent on pagehide).
        const saved = () => {
          const st = srv.ltiSaved.state;
          return !!st && answered.every((b) => st.a && st.a[b.id]) && ticked.every((b) => (st.d || []).includes(b.id));
        };
        for (let i = 0; i < 50 && !saved(); i++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(saved(), `the tool received the whole state: ${JSON.stringify(srv.ltiSaved.state)}`);
      } finally {
        await first.close();
      }
      // A new browser profile: empty localStorage, only the tool's copy.
      const second = await newContext(browser);
      try {
        const page = await second.newPage();
        await page.goto(url);
        const frame = page.mainFrame();
        for (const b of answered) {
          assert.equal(await frame.locator(`#${learner.cssId(b.answer)}`).inputValue(), learner.answerFor(b.id));
        }
        for (const b of (await learner.blocks(frame)).filter((x) => x.checkbox)) {
          assert.ok(await frame.locator(`#${learner.cssId(b.checkbox)}`).isChecked(), `${b.id} ticked`);
        }
        await noScriptErrors(second, page);
      } finally {
        await second.close();
      }
    });

    if (set.launches.some((l) => /<video[^>]*data-cp-media/.test(fs.readFileSync(path.join(set.dirs['1.2'], l), 'utf8')))) {
      test('video: seeking ahead to the end does not count as watched', async () => {
        const base = srv.mount(`${set.name}-seek`, set.dirs['1.2']);
        const launchFile = set.launches.find((l) => /<video[^>]*data-cp-media/.test(fs.readFileSync(path.join(set.dirs['1.2'], l), 'utf8')));
        const context = await newContext(browser);
        try {
          const page = await context.newPage();
          await page.goto(base + launchFile);
          const frame = page.mainFrame();
          const video = (await learner.blocks(frame)).find((b) => b.video && b.required);
          await learner.playVideo(frame, video.id, { from: 3.2 });
          await page.waitForTimeout(200);
          const st = (await frame.locator(`[data-cp-block="${video.id}"] [data-cp-block-status]`).textContent()).trim();
          assert.equal(st, 'Not done yet', 'skipping to the end is not watching');
          await learner.playVideo(frame, video.id, { from: 0 });
          await frame.waitForFunction((id) => document.querySelector(`[data-cp-block="${id}"] [data-cp-block-status]`).textContent === 'Done', video.id);
          await noScriptErrors(context, page);
        } finally {
          await context.close();
        }
      });
    }

    test('5. opened directly: works, progress kept in localStorage, no script errors', async () => {
      const base = srv.mount(`${set.name}-direct`, set.dirs['1.2']);
      const launchFile = richestLaunch(set);
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        await page.goto(base + launchFile);
        const frame = page.mainFrame();
        await learner.waitStatus(frame, await learner.statusText(frame));
        const s = await learner.session(frame);
        const required = (await learner.blocks(frame)).filter((b) => b.required);
        const half = required.slice(0, Math.ceil(required.length / 2));
        for (const b of half) await learner.doBlock(frame, b, context);
        const key = `coursepack:${s.course}:${s.version}:${s.session}`;
        const stored = await page.evaluate((k) => localStorage.getItem(k), key);
        assert.ok(stored, `localStorage has ${key}`);
        await page.reload();
        await learner.waitStatus(frame, `${half.length} of ${required.length} steps done`);
        for (const b of half) {
          if (b.answer) assert.equal(await frame.locator(`#${learner.cssId(b.answer)}`).inputValue(), learner.answerFor(b.id));
          if (b.checkbox) assert.equal(await frame.locator(`#${learner.cssId(b.checkbox)}`).isChecked(), true);
        }
        for (const b of required.slice(half.length)) await learner.doBlock(frame, b, context);
        await learner.waitStatus(frame, 'Session complete');
        await page.reload();
        await learner.waitStatus(frame, 'Session complete');
        await noScriptErrors(context, page);
      } finally {
        await context.close();
      }
    });
  });
}
