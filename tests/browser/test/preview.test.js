// `coursepack preview`: the real binary serves a temp copy of tests/fixtures/preview-course in
// its simulated LMS; headless Chromium plays it. The panel shows what the runtime reported and
// every API call; an edit reloads the page; a broken edit shows the diagnostics and keeps the
// last good build; re-launch follows the exit rules; the profiles differ where the LMSs do.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launch, newContext, scriptErrors } = require('../lib/browser');
const { cargoBuild } = require('../lib/targets');
const { tmpDir } = require('../lib/packages');
const { FIXTURES_DIR } = require('../lib/paths');
const preview = require('../lib/preview');

let browser;
before(async () => {
  cargoBuild();
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

function courseCopy() {
  const dir = tmpDir('preview');
  fs.cpSync(path.join(FIXTURES_DIR, 'preview-course'), dir, { recursive: true });
  return dir;
}

/** Starts a preview and opens its shell; `t.after` stops both. */
async function open(t, args, dir = courseCopy()) {
  const pv = await preview.start(dir, args);
  const context = await newContext(browser);
  const page = await context.newPage();
  t.after(async () => {
    await context.close();
    await pv.stop();
  });
  await page.goto(pv.url);
  return { pv, page, context, dir };
}

/** The course frame, once it shows a page whose runtime has started. */
async function content(page, kind = 'session') {
  await page.waitForFunction((k) => {
    const f = document.getElementById('pv-frame');
    const d = f && f.contentDocument;
    const w = f && f.contentWindow;
    return !!d && d.readyState === 'complete' && d.body && d.body.getAttribute('data-cp-page') === k
      && (k !== 'session' || !!w.coursepackRuntime);
  }, kind, { timeout: 15000 });
  return (await page.$('#pv-frame')).contentFrame();
}

/** Does everything the fixture's first session asks. */
async function completeFirst(frame) {
  await frame.locator('[data-cp-block="try-it"] input[type=checkbox][data-cp-done]').check();
  await frame.locator('[data-cp-block="first-thoughts"] textarea[data-cp-answer]').fill('It was quick.');
}

/** The row of the panel's data-model table for `element`, or null. */
async function cmi(page, element) {
  return page.evaluate((el) => {
    for (const tr of document.querySelectorAll('#pv-cmi tbody tr')) {
      if (tr.cells[0].textContent === el) return tr.cells[1].textContent;
    }
    return null;
  }, element);
}

async function waitCmi(page, element, value) {
  await page.waitForFunction(({ el, v }) => Array.from(document.querySelectorAll('#pv-cmi tbody tr'))
    .some((tr) => tr.cells[0].textContent === el && tr.cells[1].textContent === v), { el: element, v: value }, { timeout: 15000 });
}

/** The API calls the panel lists, as text: `LMSSetValue("a", "b") -> "true" 0`. */
async function calls(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('#pv-calls tbody tr'))
    .map((tr) => `${tr.cells[1].textContent} ${tr.cells[2].textContent} -> ${tr.cells[3].textContent} ${tr.cells[4].textContent}`));
}

async function recordRow(page, title) {
  return page.evaluate((t) => {
    for (const tr of document.querySelectorAll('#pv-record tbody tr')) {
      if (tr.cells[0].textContent === t) return Array.from(tr.cells).map((c) => c.textContent);
    }
    return null;
  }, title);
}

describe('coursepack preview', () => {
  test('SCORM 1.2: the panel shows the completion the runtime reports and every API call', async (t) => {
    const { page, context } = await open(t, ['--lms', 'scorm12', '--profile', 'strict']);
    const frame = await content(page);
    assert.match(await frame.locator('h1').textContent(), /First steps/);
    await completeFirst(frame);
    await waitCmi(page, 'cmi.core.lesson_status', 'completed');
    await page.waitForFunction(() => /completed/.test(document.querySelector('#pv-record tbody tr').cells[1].textContent));
    const log = await calls(page);
    assert.ok(log.includes('ITEM-first-steps LMSInitialize("") -> "true" 0'), log.slice(0, 5).join('\n'));
    assert.ok(log.includes('ITEM-first-steps LMSSetValue("cmi.core.lesson_status", "completed") -> "true" 0'), log.join('\n'));
    assert.ok(log.some((l) => /LMSCommit\(""\) -> "true" 0/.test(l)));
    // The state fits the 1.2 budget.
    const size = await page.locator('#pv-suspend-size').textContent();
    assert.match(size, /^\d+ of 4096 characters \(SCORM 1\.2\)$/);
    // Strict: nothing the runtime sent was refused.
    assert.deepEqual(log.filter((l) => !/ 0$/.test(l)), []);
    assert.deepEqual(await scriptErrors(context, page), []);
  });

  test('re-launch after exit = suspend resumes with the saved state', async (t) => {
    const { page } = await open(t, ['--lms', 'scorm12', '--profile', 'moodle']);
    let frame = await content(page);
    await completeFirst(frame);
    await waitCmi(page, 'cmi.core.lesson_status', 'completed');
    await page.click('#pv-relaunch');
    await page.waitForFunction(() => /entry "resume"/.test(document.getElementById('pv-launch').textContent), null, { timeout: 15000 });
    frame = await content(page);
    assert.equal(await recordRow(page, 'First steps').then((r) => r[3]), '"suspend"');
    assert.equal(await cmi(page, 'cmi.core.entry'), 'resume');
    assert.match(await cmi(page, 'cmi.suspend_data'), /try-it/);
    // The reflection was reported as an interaction when the page was left.
    const its = await page.evaluate(() => Array.from(document.querySelectorAll('#pv-interactions tbody tr'))
      .map((tr) => Array.from(tr.cells).map((c) => c.textContent).join(' | ')));
    assert.deepEqual(its, ['0 | first-thoughts | fill-in | It was quick. | neutral']);
    // The page shows the learner's answer again, from the LMS.
    assert.equal(await frame.locator('[data-cp-block="first-thoughts"] textarea[data-cp-answer]').inputValue(), 'It was quick.');
  });

  test('SCORM 2004: a new attempt after exit = normal; the profile decides a second SCO', async (t) => {
    // strict: a fresh API object per SCO; moodle: one API object per player page.
    for (const profile of ['strict', 'moodle']) {
      await t.test(profile, async (t) => {
        const { page } = await open(t, ['--lms', 'scorm2004', '--profile', profile, '--sco', 'session']);
        const frame = await content(page);
        await frame.locator('[data-cp-block="try-it"] input[type=checkbox][data-cp-done]').check();
        await waitCmi(page, 'cmi.exit', 'suspend').catch(() => {}); // write-only: not listed before a commit
        // The SCO ends itself with exit = normal (as coursepack 0.1.0 did).
        await frame.evaluate(() => {
          const api = window.parent.API_1484_11;
          api.SetValue('cmi.exit', 'normal');
          api.Terminate('');
        });
        await page.click('#pv-relaunch');
        await page.waitForFunction(() => /attempt 2, entry "ab-initio"/.test(document.getElementById('pv-launch').textContent), null, { timeout: 15000 });
        await content(page);
        // The next SCO, through the LMS's own Next button.
        await page.click('#pv-next');
        await page.waitForFunction(() => /Second steps/.test(document.getElementById('pv-launch').textContent));
        const second = await content(page);
        assert.match(await second.locator('h1').textContent(), /Second steps/);
        await page.waitForFunction(() => Array.from(document.querySelectorAll('#pv-calls tbody tr'))
          .some((tr) => tr.cells[1].textContent === 'ITEM-second-steps' && /^Initialize/.test(tr.cells[2].textContent)), null, { timeout: 10000 });
        const init = (await calls(page)).filter((l) => l.startsWith('ITEM-second-steps Initialize'));
        if (profile === 'moodle') {
          assert.deepEqual(init, ['ITEM-second-steps Initialize("") -> "false" 104 Content Instance Terminated']);
        } else {
          assert.deepEqual(init, ['ITEM-second-steps Initialize("") -> "true" 0']);
          // The sequencer honours the runtime's navigation requests.
          const nav = (await calls(page)).filter((l) => /adl\.nav\.request_valid\.previous/.test(l));
          assert.ok(nav.some((l) => l.endsWith('-> "true" 0')), nav.join('\n'));
        }
      });
    }
  });

  test('SCORM 1.2 after exit "": Moodle gives the attempt back, strict starts a new one', async (t) => {
    for (const profile of ['strict', 'moodle']) {
      await t.test(profile, async (t) => {
        const { page } = await open(t, ['--lms', 'scorm12', '--profile', profile]);
        const frame = await content(page);
        await frame.locator('[data-cp-block="try-it"] input[type=checkbox][data-cp-done]').check();
        await page.waitForFunction(() => /try-it/.test(document.getElementById('pv-suspend-value').textContent), null, { timeout: 15000 });
        await frame.evaluate(() => {
          window.parent.API.LMSSetValue('cmi.core.exit', '');
          window.parent.API.LMSFinish('');
        });
        await page.click('#pv-relaunch');
        await page.waitForFunction(() => /entry ""/.test(document.getElementById('pv-launch').textContent), null, { timeout: 15000 });
        await content(page);
        // What the new launch was handed: the first reads after its LMSInitialize.
        await page.waitForFunction(() => Array.from(document.querySelectorAll('#pv-calls tbody tr'))
          .filter((tr) => /^LMSGetValue\("cmi\.suspend_data"\)/.test(tr.cells[2].textContent)).length >= 2, null, { timeout: 10000 });
        const log = await calls(page);
        const start = log.lastIndexOf('ITEM-first-steps LMSInitialize("") -> "true" 0');
        const read = (el) => log.slice(start).find((l) => l.includes(`LMSGetValue("${el}")`));
        assert.equal(read('cmi.core.entry'), 'ITEM-first-steps LMSGetValue("cmi.core.entry") -> "" 0');
        assert.equal(read('cmi.core.lesson_status'), 'ITEM-first-steps LMSGetValue("cmi.core.lesson_status") -> "incomplete" 0');
        const attempt = await page.locator('#pv-launch').textContent();
        if (profile === 'moodle') {
          assert.match(read('cmi.suspend_data'), /try-it/);
          assert.match(attempt, /attempt 1,/);
        } else {
          assert.equal(read('cmi.suspend_data'), 'ITEM-first-steps LMSGetValue("cmi.suspend_data") -> "" 0');
          assert.match(attempt, /attempt 2,/);
        }
      });
    }
  });

  test('the data model is checked: error codes of each version, limits by profile', async (t) => {
    const cases = {
      scorm12: [
        ['LMSGetValue', ['cmi.core.exit'], '', '404'],
        ['LMSSetValue', ['cmi.core.entry', 'resume'], 'false', '403'],
        ['LMSSetValue', ['cmi.core.lesson_status', 'done'], 'false', '405'],
        ['LMSSetValue', ['cmi.core.lesson_status', 'not attempted'], 'false', '405'],
        ['LMSSetValue', ['cmi.core.score.raw', '101'], 'false', '405'],
        ['LMSSetValue', ['cmi.core.session_time', 'PT1M'], 'false', '405'],
        ['LMSSetValue', ['cmi.core._children', 'x'], 'false', '402'],
        ['LMSGetValue', ['cmi.core.nonsense'], '', '401'],
        ['LMSSetValue', ['cmi.interactions.3.id', 'q'], 'false', '201'],
        ['LMSGetValue', ['cmi.core._children'], 'student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time', '0'],
        ['LMSGetValue', ['cmi.interactions._count'], '0', '0'],
      ],
      scorm2004: [
        ['GetValue', ['cmi.exit'], '', '405'],
        ['GetValue', ['cmi.location'], '', '403'],
        ['SetValue', ['cmi.entry', 'resume'], 'false', '404'],
        ['SetValue', ['cmi.completion_status', 'done'], 'false', '406'],
        ['SetValue', ['cmi.progress_measure', '1.5'], 'false', '407'],
        ['SetValue', ['cmi.interactions.0.type', 'choice'], 'false', '408'],
        ['SetValue', ['cmi.interactions.2.id', 'q'], 'false', '351'],
        ['SetValue', ['cmi.session_time', '00:01:00'], 'false', '406'],
        ['GetValue', ['cmi.nonsense'], '', '401'],
        ['Initialize', [''], 'false', '103'],
      ],
    };
    for (const lms of Object.keys(cases)) {
      await t.test(lms, async (t) => {
        const { page } = await open(t, ['--lms', lms, '--profile', 'strict']);
        await content(page, lms === 'scorm12' ? 'session' : 'player');
        const got = await page.evaluate((list) => {
          const api = window.API || window.API_1484_11;
          const err = api.LMSGetLastError ? 'LMSGetLastError' : 'GetLastError';
          return list.map(([fn, args]) => {
            const ret = api[fn](...args);
            return [fn, args, ret, api[err]()];
          });
        }, cases[lms]);
        assert.deepEqual(got, cases[lms]);
      });
    }
    // suspend_data beyond SCORM 1.2's 4096: refused by strict and Moodle (scorm12standard),
    // kept and flagged by SCORM Cloud.
    for (const [profile, ret, err] of [['strict', 'false', '405'], ['moodle', 'false', '405'], ['scorm-cloud', 'true', '0']]) {
      await t.test(`4097 characters of suspend_data, ${profile}`, async (t) => {
        const { page } = await open(t, ['--lms', 'scorm12', '--profile', profile]);
        await content(page);
        const got = await page.evaluate(() => [window.API.LMSSetValue('cmi.suspend_data', 'x'.repeat(4097)), window.API.LMSGetLastError()]);
        assert.deepEqual(got, [ret, err]);
        if (ret === 'true') {
          await page.waitForFunction(() => /4097 of 4096 characters \(SCORM 1\.2\) — over the limit/.test(document.getElementById('pv-suspend-size').textContent));
        }
      });
    }
  });

  test('browse mode records nothing', async (t) => {
    const { page } = await open(t, ['--lms', 'scorm12', '--profile', 'moodle']);
    await content(page);
    // Moodle's "Preview" of a learner who never entered.
    await page.selectOption('#pv-mode', 'browse');
    await page.click('#pv-reset');
    await page.waitForFunction(() => /attempt 1, entry "ab-initio", mode browse/.test(document.getElementById('pv-launch').textContent), null, { timeout: 15000 });
    const frame = await content(page);
    await waitCmi(page, 'cmi.core.lesson_mode', 'browse');
    await completeFirst(frame);
    await page.waitForTimeout(1500);
    await page.click('#pv-relaunch');
    await page.waitForFunction(() => /attempt/.test(document.getElementById('pv-launch').textContent));
    const row = await recordRow(page, 'First steps');
    // The runtime reports `browsed`, so Moodle's finish code does not mark it completed.
    assert.ok(!/^completed/.test(row[1]), row.join(' | '));
    assert.match(row[1], /browse launch: browsed, not graded/);
    const log = await calls(page);
    assert.deepEqual(log.filter((l) => /LMSSetValue\("cmi\.(suspend_data|core\.lesson_location|interactions)/.test(l)), []);
  });

  test('an edit reloads the page; a broken edit shows the diagnostics and keeps the last good build', async (t) => {
    const { page, pv, dir } = await open(t, ['--lms', 'scorm12']);
    await content(page);
    const toml = path.join(dir, 'course.toml');
    const good = fs.readFileSync(toml, 'utf8');
    fs.writeFileSync(toml, good.replace('title = "First steps"', 'title = "First steps, renamed"'));
    await page.waitForFunction(() => {
      const d = document.getElementById('pv-frame').contentDocument;
      return d && d.querySelector('h1') && /renamed/.test(d.querySelector('h1').textContent);
    }, null, { timeout: 15000 });
    assert.match(await page.locator('#pv-build').textContent(), /^build 2/);

    // A misspelt key: the page and the terminal say where, the course is still served.
    const broken = good.replace('title = "First steps"', 'titel = "First steps"');
    fs.writeFileSync(toml, broken);
    await page.waitForSelector('#pv-problems:not([hidden])', { timeout: 15000 });
    const line = broken.split('\n').findIndex((l) => l.startsWith('titel')) + 1;
    const shown = await page.locator('#pv-problems-text').textContent();
    assert.match(shown, new RegExp(`course\\.toml:${line}:1: unknown key \`titel\``));
    assert.match(shown, /still serving the last good build/);
    assert.ok(pv.stderr().includes(`course.toml:${line}:1: unknown key \`titel\``), pv.stderr());
    const frame = await content(page);
    assert.match(await frame.locator('h1').textContent(), /renamed/);
    const res = await page.evaluate(async () => (await fetch('/course/first-steps.html')).status);
    assert.equal(res, 200);

    // Fixed: the problems go, the page reloads.
    fs.writeFileSync(toml, good.replace('title = "First steps"', 'title = "First steps, fixed"'));
    await page.waitForSelector('#pv-problems', { state: 'hidden', timeout: 15000 });
    await page.waitForFunction(() => {
      const d = document.getElementById('pv-frame').contentDocument;
      return d && d.querySelector('h1') && /fixed/.test(d.querySelector('h1').textContent);
    }, null, { timeout: 15000 });
  });

  test('LTI: the progress posts and the grade the tool would send', async (t) => {
    const { page } = await open(t, ['--lms', 'lti']);
    let frame = await content(page, 'overview');
    await frame.locator('a[href="first-steps.html"]').first().click();
    frame = await content(page);
    assert.equal(await frame.evaluate(() => window.coursepackRuntime.mode), 'lti');
    await completeFirst(frame);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#pv-lti-sessions tbody tr'))
      .some((tr) => tr.cells[0].textContent === 'First steps' && tr.cells[1].textContent === 'completed'
        && tr.cells[3].textContent === '100/100 Completed'), null, { timeout: 15000 });
    assert.match(await page.locator('#pv-lti-course').textContent(), /50\/100 InProgress \(1 of 2 sessions completed\)/);
  });

  test('no LMS: the pages keep their progress in this browser', async (t) => {
    const { page } = await open(t, ['--lms', 'none']);
    let frame = await content(page, 'overview');
    await frame.locator('a[href="first-steps.html"]').first().click();
    frame = await content(page);
    assert.equal(await frame.evaluate(() => window.coursepackRuntime.mode), 'local');
    await completeFirst(frame);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#pv-local-keys tbody tr'))
      .some((tr) => tr.cells[0].textContent === 'coursepack:preview-fixture:0.1.0:first-steps'), null, { timeout: 15000 });
  });
});
