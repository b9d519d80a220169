// Accessibility of every generated page: axe-core (WCAG 2.2 AA tags), keyboard-only completion
// of every session with visible focus, reflow at 320 px, and prefers-reduced-motion.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launch, newContext, scriptErrors } = require('../lib/browser');
const server = require('../lib/server');
const { packageSets, buildCourse, SEED } = require('../lib/targets');
const learner = require('../lib/learner');

const { axe, WCAG_TAGS: TAGS } = require('../lib/axe');

const { sets } = packageSets();

let srv;
let browser;
const rulesChecked = new Set();
before(async () => {
  srv = await server.start();
  browser = await launch();
});
after(async () => {
  if (rulesChecked.size) {
    console.log(`# axe-core rules checked (tags ${TAGS.join(', ')}): ${[...rulesChecked].sort().join(', ')}`);
  }
  if (browser) await browser.close();
  if (srv) await srv.close();
});

function htmlPages(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.html')).sort();
}

/** What has keyboard focus, and whether the focus is visibly drawn. */
async function focusInfo(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { none: true };
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow && cs.boxShadow !== 'none';
    const r = el.getBoundingClientRect();
    const block = el.closest('[data-cp-block]');
    return {
      none: false,
      index: Array.prototype.indexOf.call(document.querySelectorAll('*'), el),
      desc: el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') + (el.getAttribute('href') ? `[href=${el.getAttribute('href')}]` : ''),
      visible: outline || shadow,
      onScreen: r.width > 0 && r.height > 0,
      checkbox: el.matches('input[type=checkbox][data-cp-done]'),
      checked: !!el.checked,
      open: el.matches('a[data-cp-open]'),
      answer: el.matches('textarea[data-cp-answer]'),
      value: el.value || '',
      video: el.matches('[data-cp-media]'),
      block: block ? block.getAttribute('data-cp-block') : null,
    };
  });
}

for (const set of sets) {
  const dir = set.dirs['1.2'];
  const pages = htmlPages(dir);
  describe(`${set.name}: accessibility`, () => {
    let base;
    const url = (p) => {
      base = base || srv.mount(`${set.name}-a11y`, dir);
      return base + p;
    };

    test(`axe-core finds no WCAG 2.2 AA violations on ${pages.length} pages`, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        const found = [];
        for (const p of pages) {
          await page.goto(url(p));
          const r = await axe(page);
          r.checked.forEach((id) => rulesChecked.add(id));
          for (const v of r.violations) found.push({ page: p, ...v });
        }
        assert.deepEqual(found, [], JSON.stringify(found, null, 2));
        assert.deepEqual(await scriptErrors(context, page), []);
      } finally {
        await context.close();
      }
    });

    test('pages reflow at 320 px without horizontal scrolling', async () => {
      const context = await newContext(browser, { viewport: { width: 320, height: 640 } });
      try {
        const page = await context.newPage();
        const wide = [];
        for (const p of pages) {
          await page.goto(url(p));
          const w = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
          if (w.scroll > w.view) wide.push(`${p}: ${w.scroll}px wide`);
        }
        assert.deepEqual(wide, []);
      } finally {
        await context.close();
      }
    });

    test('prefers-reduced-motion: no animation, transition or smooth scrolling', async () => {
      const context = await newContext(browser, { reducedMotion: 'reduce' });
      try {
        const page = await context.newPage();
        const moving = [];
        for (const p of pages) {
          await page.goto(url(p));
          const found = await page.evaluate(() => {
            const out = [];
            const secs = (v) => Math.max(...v.split(',').map((x) => parseFloat(x) * (x.trim().endsWith('ms') ? 0.001 : 1)));
            for (const el of [document.documentElement, ...document.querySelectorAll('body, body *')]) {
              for (const pseudo of [null, '::before', '::after']) {
                const cs = getComputedStyle(el, pseudo);
                const name = el.tagName.toLowerCase() + (pseudo || '');
                if (cs.animationName !== 'none' && secs(cs.animationDuration) > 0.01) out.push(`${name}: animation`);
                if (secs(cs.transitionDuration) > 0.01) out.push(`${name}: transition`);
                if (cs.scrollBehavior === 'smooth') out.push(`${name}: smooth scrolling`);
              }
            }
            return out;
          });
          for (const f of found) moving.push(`${p}: ${f}`);
        }
        assert.deepEqual(moving, []);
      } finally {
        await context.close();
      }
    });

    for (const launchFile of set.launches) {
      test(`keyboard only: ${launchFile} can be completed with Tab, Enter and Space; focus always visible`, async () => {
        const context = await newContext(browser);
        try {
          const page = await context.newPage();
          await page.goto(url(launchFile));
          const frame = page.mainFrame();
          const required = (await learner.blocks(frame)).filter((b) => b.required);
          const invisible = [];
          const opened = new Set();
          let lastStop = null;
          let repeats = 0;
          const stops = [];
          let loops = 0;
          for (let i = 0; i < 400 && (await learner.statusText(frame)) !== 'Session complete'; i++) {
            await page.keyboard.press('Tab');
            const f = await focusInfo(page);
            if (f.none) { loops++; if (loops > 3) break; continue; }
            if (!f.visible || !f.onScreen) invisible.push(f.desc);
            // A video's own controls (play, volume, full screen...) are stops inside one element.
            repeats = f.index === lastStop ? repeats + 1 : 0;
            if (repeats > 10) break; // focus stuck
            lastStop = f.index;
            stops.push(f.desc);
            if (f.checkbox && !f.checked) await page.keyboard.press('Space');
            if (f.open && !opened.has(f.desc)) {
              opened.add(f.desc);
              const popup = context.waitForEvent('page', { timeout: 5000 }).catch(() => null);
              await page.keyboard.press('Enter');
              const p = await popup;
              if (p) await p.close();
            }
            if (f.answer && f.value.trim() === '') await page.keyboard.type(`Typed with the keyboard in ${f.block}.`);
            if (f.video && required.some((b) => b.id === f.block)) {
              const status = frame.locator(`[data-cp-block="${f.block}"] [data-cp-block-status]`);
              if ((await status.textContent()).trim() !== 'Done') {
                await page.keyboard.press('Space');
                await frame.waitForFunction((id) => document.querySelector(`[data-cp-block="${id}"] [data-cp-media]`).ended, f.block, { timeout: 20000 });
              }
            }
          }
          assert.equal(await learner.statusText(frame), 'Session complete', `completed with the keyboard alone; focus went: ${stops.join(' > ')}`);
          assert.deepEqual([...new Set(invisible)], [], 'focus is visible on every stop');
          assert.deepEqual(await scriptErrors(context, page), []);
        } finally {
          await context.close();
        }
      });
    }
  });
}

describe('the course player (the course as one SCO): accessibility', () => {
  test('axe-core finds no WCAG 2.2 AA violations; reflows at 320 px; the menu works with the keyboard', async () => {
    const dir = buildCourse(SEED, 'a11y-player', ['--sco', 'course'])['2004'];
    const base = srv.mount('player-a11y', dir);
    const context = await newContext(browser, { viewport: { width: 320, height: 640 } });
    try {
      const page = await context.newPage();
      await page.goto(`${base}course.html`);
      await page.frameLocator('#cp-content').locator('h1').waitFor();
      const r = await axe(page);
      r.checked.forEach((id) => rulesChecked.add(id));
      assert.deepEqual(r.violations, [], JSON.stringify(r.violations, null, 2));
      const w = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
      assert.ok(w.scroll <= w.view, `${w.scroll}px wide at 320 px`);
      // Tab to the second session in the player's menu and open it with Enter.
      let found = false;
      for (let i = 0; i < 20 && !found; i++) {
        await page.keyboard.press('Tab');
        const f = await focusInfo(page);
        found = !f.none && /how-online-feedback-works\.html/.test(f.desc);
        if (found) assert.ok(f.visible, 'focus visible on the menu');
      }
      assert.ok(found, 'the session is reachable with Tab');
      await page.keyboard.press('Enter');
      await page.frameLocator('#cp-content').locator('#cp-status').waitFor();
      assert.match(page.frames()[1].url(), /how-online-feedback-works\.html$/);
      assert.deepEqual(await scriptErrors(context, page), []);
    } finally {
      await context.close();
    }
  });
});
