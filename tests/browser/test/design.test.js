// What learners see: the overview and a session page rendered in headless Chromium at 1280 px
// and 390 px, checked for layout problems rather than compared with stored pictures (fonts
// differ between machines): no horizontal overflow, nothing overlapping in the header, no
// clipped text, the progress bar visible; then the progress, session states, Start/Continue,
// the reflection's count and "Saved", and the end-of-course message, as a learner sees them.
// COURSEPACK_SCREENSHOTS=DIR also writes the README's two screenshots into DIR.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch, newContext, scriptErrors } = require('../lib/browser');
const server = require('../lib/server');
const { packageSets, buildCourse, SEED } = require('../lib/targets');
const learner = require('../lib/learner');

const { sets } = packageSets();
const WIDTHS = [{ width: 1280, height: 900 }, { width: 390, height: 844 }];
const SHOTS = fs.mkdtempSync(path.join(os.tmpdir(), 'coursepack-shots-'));
const README_SHOTS = process.env.COURSEPACK_SCREENSHOTS;

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

/** Layout problems on the page as rendered: a list of sentences, empty when it is fine. */
async function layoutProblems(page) {
  return page.evaluate(() => {
    const out = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw) {
      out.push(`the page scrolls sideways: ${document.documentElement.scrollWidth}px wide in ${vw}px`);
    }
    const shown = (el) => {
      const cs = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return cs.display !== 'none' && cs.visibility !== 'hidden' && r.width > 0 && r.height > 0;
    };
    const name = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : '');
    // Nothing sticks out of the viewport on the right.
    for (const el of document.querySelectorAll('body *')) {
      if (!shown(el) || el.closest('.cp-visually-hidden, .cp-skip, table, pre')) continue;
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1) out.push(`${name(el)} reaches ${Math.round(r.right)}px in ${vw}px`);
    }
    // The header's pieces (logo, institution, course title) do not overlap.
    const parts = [...document.querySelectorAll('.cp-header-inner > *')].filter(shown);
    for (let i = 0; i < parts.length; i++) {
      for (let j = i + 1; j < parts.length; j++) {
        const a = parts[i].getBoundingClientRect();
        const b = parts[j].getBoundingClientRect();
        const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
          && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
        if (overlap) out.push(`${name(parts[i])} overlaps ${name(parts[j])} in the header`);
      }
    }
    // No text is cut off by a box too small for it.
    for (const el of document.querySelectorAll('body *')) {
      if (!shown(el) || el.closest('.cp-visually-hidden, .cp-skip') || ['TEXTAREA', 'PRE', 'TABLE', 'VIDEO', 'AUDIO', 'IFRAME', 'PROGRESS', 'SELECT', 'INPUT'].includes(el.tagName)) continue;
      const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
      if (!text) continue;
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') out.push(`${name(el)}: text cut off sideways`);
      if (el.scrollHeight > el.clientHeight + 1 && getComputedStyle(el).overflowY !== 'visible') out.push(`${name(el)}: text cut off below`);
    }
    return out;
  });
}

/** The progress bar: shown, wide enough to read and inside the first screen. */
async function progressBar(page) {
  return page.evaluate(() => {
    const bar = document.querySelector('[data-cp-progress]');
    if (!bar) return null;
    const r = bar.getBoundingClientRect();
    const main = document.querySelector('main').getBoundingClientRect();
    const cs = getComputedStyle(bar);
    return {
      visible: cs.display !== 'none' && cs.visibility !== 'hidden' && !bar.closest('[hidden]') && r.height >= 6,
      wide: r.width >= main.width * 0.5,
      onFirstScreen: r.top >= 0 && r.bottom <= window.innerHeight,
      value: Number(bar.getAttribute('value')),
      name: bar.labels && bar.labels.length ? bar.labels[0].textContent : (document.getElementById(bar.getAttribute('aria-labelledby')) || {}).textContent,
    };
  });
}

for (const set of sets.filter((s) => s.name === 'seed-course')) {
  const dir = set.dirs['1.2'];
  // The session with the most to do, and the overview.
  const session = 'how-online-feedback-works.html';
  describe(`${set.name}: what learners see`, () => {
    let base;
    const url = (p) => {
      base = base || srv.mount(`${set.name}-design`, dir);
      return base + p;
    };

    for (const size of WIDTHS) {
      for (const p of ['index.html', session]) {
        test(`${p} at ${size.width} px: no overflow, overlap or clipped text; progress bar visible`, async () => {
          const context = await newContext(browser, { viewport: size, reducedMotion: 'reduce' });
          try {
            const page = await context.newPage();
            await page.goto(url(p));
            await page.waitForLoadState('load');
            const shot = path.join(SHOTS, `${path.basename(p, '.html')}-${size.width}.png`);
            await page.screenshot({ path: shot, fullPage: true });
            assert.ok(fs.statSync(shot).size > 1000, 'a screenshot was rendered');
            assert.deepEqual(await layoutProblems(page), []);
            const bar = await progressBar(page);
            assert.ok(bar, 'the page has a progress bar');
            assert.ok(bar.visible, 'the progress bar is shown');
            assert.ok(bar.wide, 'the progress bar is at least half the content wide');
            assert.ok(bar.onFirstScreen || size.width < 400, 'the progress bar is on the first screen');
            assert.match(bar.name || '', /^0 of \d+ (steps|sessions) done$/);
            // The title once: the overview's heading names the course, its header does not.
            const titles = await page.evaluate(() => {
              const t = document.querySelector('h1').textContent;
              const course = JSON.parse((document.getElementById('cp-overview') || document.getElementById('cp-session')).textContent);
              return { h1: t, header: document.querySelector('.cp-header').textContent, course };
            });
            if (p === 'index.html') {
              assert.ok(!titles.header.includes(titles.h1.trim()), 'the header does not repeat the overview\'s heading');
              assert.ok(await page.locator('[data-cp-start]').isVisible(), 'a Start button');
              assert.equal((await page.locator('[data-cp-session-state]').allTextContents()).join('|'), 'Not started|Not started|Not started');
            } else {
              // Unavailable media are a calm card, with a word on whether the learner can skip it.
              const card = page.locator('[data-cp-block="session-2-video"] .cp-placeholder');
              assert.ok(await card.isVisible());
              assert.match(await card.textContent(), /not available in this copy of the course\.\s*You can go on without it\./);
              assert.equal((await page.locator('[data-cp-block="session-2-video"] [data-cp-block-status]').textContent()).trim(), 'Optional');
              // Previous and next are buttons of a comfortable size.
              const next = page.locator('a[data-cp-nav="continue"]');
              const box = await next.boundingBox();
              assert.ok(box.height >= 40, `the Next button is ${box.height}px high`);
            }
            if (README_SHOTS && ((p === 'index.html' && size.width === 1280) || (p === session && size.width === 390))) {
              // The README's pictures: the first screen only, to keep them small.
              await page.screenshot({ path: path.join(README_SHOTS, p === 'index.html' ? 'overview.png' : 'session.png') });
            }
            assert.deepEqual(await scriptErrors(context, page), []);
          } finally {
            await context.close();
          }
        });
      }
    }

    test('a learner sees progress, "Saved", each session\'s state, Continue and the end of the course', async () => {
      const context = await newContext(browser, { viewport: WIDTHS[1] });
      try {
        const page = await context.newPage();
        // Session 2: one step done moves the bar; the reflection counts and confirms.
        await page.goto(url(session));
        const frame = page.mainFrame();
        const required = (await learner.blocks(frame)).filter((b) => b.required);
        const reflection = required.find((b) => b.answer);
        const box = page.locator(`[data-cp-block="${reflection.id}"]`);
        await box.locator('textarea').fill('Kindness.');
        assert.equal(await box.locator('[data-cp-count]').textContent(), `9 of ${reflection.maxlength} characters`);
        await page.waitForFunction((id) => document.querySelector(`[data-cp-block="${id}"] [data-cp-saved]`).textContent === 'Saved', reflection.id);
        const one = await progressBar(page);
        assert.equal(one.value, Math.round((1 / required.length) * 100));
        assert.equal(one.name, `1 of ${required.length} steps done`);
        assert.equal(await page.locator('[data-cp-end]').count(), 0, 'session 2 is not the last');
        // Back on the overview: session 2 in progress, Continue goes there.
        await page.goto(url('index.html'));
        const states = await page.locator('[data-cp-session-state]').allTextContents();
        assert.deepEqual(states, ['Not started', 'In progress', 'Not started']);
        assert.equal(await page.locator('[data-cp-progress-text]').textContent(), '0 of 3 sessions done');
        // Every session done (sessions 1 and 3 ask nothing: opening them does it).
        for (const p of ['problem-with-feedback.html', session, 'benefits-and-risks.html']) {
          await page.goto(url(p));
          for (const b of (await learner.blocks(frame)).filter((x) => x.required)) await learner.doBlock(frame, b, context);
          await learner.waitStatus(frame, 'Session complete');
          assert.equal((await progressBar(page)).value, 100);
        }
        assert.ok(await page.locator('[data-cp-end]').isVisible(), 'the last session says the course ends here');
        // Its session bar marks every session done, for the eye and for screen readers.
        assert.deepEqual(await page.locator('.cp-nav a[data-cp-state="done"]').allTextContents(),
          ['Session 1 (done)', 'Session 2 (done)', 'Session 3 (done)']);
        await page.goto(url('index.html'));
        assert.deepEqual(await page.locator('[data-cp-session-state]').allTextContents(), ['Done', 'Done', 'Done']);
        assert.equal(await page.locator('[data-cp-progress-text]').textContent(), '3 of 3 sessions done');
        assert.equal((await progressBar(page)).value, 100);
        assert.ok(await page.locator('[data-cp-end]').isVisible(), 'the end-of-course message');
        assert.deepEqual(await layoutProblems(page), []);
        assert.deepEqual(await scriptErrors(context, page), []);
      } finally {
        await context.close();
      }
    });

    test('inside the course player a page leaves its header and session bar to the player', async () => {
      const context = await newContext(browser, { viewport: WIDTHS[0] });
      try {
        const page = await context.newPage();
        const player = srv.mount('design-player', buildCourse(SEED, 'design-player', ['--sco', 'course'])['2004']);
        await page.goto(`${player}course.html`);
        const frame = page.frameLocator('#cp-content');
        await frame.locator('h1').waitFor();
        assert.ok(await frame.locator('.cp-header').isHidden(), 'the overview\'s own header is hidden');
        await frame.locator('[data-cp-start]').click();
        await frame.locator('[data-cp-session-head], .cp-session-head').waitFor();
        assert.ok(await frame.locator('.cp-nav').isHidden(), 'the session bar is hidden');
        assert.ok(await page.locator('.cp-header').isVisible(), 'the player\'s header stays');
        assert.deepEqual(await scriptErrors(context, page), []);
      } finally {
        await context.close();
      }
    });

    test('the layout checks find the problems they look for', async () => {
      const context = await newContext(browser, { viewport: WIDTHS[1] });
      try {
        const page = await context.newPage();
        await page.goto(url(session));
        await page.evaluate(() => {
          const wide = document.createElement('div');
          wide.style.width = '900px';
          wide.textContent = 'wide';
          document.querySelector('main').appendChild(wide);
          document.querySelector('.cp-header-inner').style.flexWrap = 'nowrap';
          document.querySelector('.cp-brand').style.marginLeft = '-80px';
          const clip = document.querySelector('h1');
          clip.style.height = '1em';
          clip.style.overflow = 'hidden';
        });
        const found = (await layoutProblems(page)).join('\n');
        assert.match(found, /the page scrolls sideways/);
        assert.match(found, /overlaps p\.cp-brand in the header/);
        assert.match(found, /h1: text cut off below/);
      } finally {
        await context.close();
      }
    });

    test('without JavaScript the pages still read well: Start is there, no empty states or progress', async () => {
      const context = await newContext(browser, { javaScriptEnabled: false, viewport: WIDTHS[1] });
      try {
        const page = await context.newPage();
        await page.goto(url('index.html'));
        assert.ok(await page.locator('[data-cp-start]').isVisible());
        assert.ok(await page.locator('[data-cp-course-progress]').isHidden(), 'no progress it does not know');
        assert.ok(await page.locator('[data-cp-end]').isHidden());
        assert.deepEqual(await layoutProblems(page), []);
        await page.goto(url(session));
        assert.match(await page.locator('#cp-status').textContent(), /^3 steps to complete this session\.$/);
        assert.deepEqual(await layoutProblems(page), []);
      } finally {
        await context.close();
      }
    });
  });
}
