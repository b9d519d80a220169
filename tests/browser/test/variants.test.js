// A course's variant in another language (tests/fixtures/variants, variant `cardiff`, in Welsh
// with part of the course translated): every page axe-core clean (WCAG 2.2 AA), in Welsh, and
// its runtime keeping its state under the variant's own storage key, apart from the course's.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launch, newContext, scriptErrors } = require('../lib/browser');
const server = require('../lib/server');
const { execFileSync } = require('node:child_process');
const { buildCourse, binary } = require('../lib/targets');
const { REPO_ROOT } = require('../lib/paths');

const { axeViolations } = require('../lib/axe');
const FIXTURE = path.join(REPO_ROOT, 'tests', 'fixtures', 'variants');

let srv;
let browser;
let welsh;
let base;
before(async () => {
  srv = await server.start();
  browser = await launch();
  // Run on its own, the binary may not be built yet.
  execFileSync('cargo', ['build', '--quiet', '--bin', 'coursepack'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (!fs.existsSync(binary())) throw new Error(`no coursepack binary at ${binary()}`);
  welsh = buildCourse(FIXTURE, 'variant-cardiff', ['--sco', 'session', '--variant', 'cardiff'])['1.2'];
  base = buildCourse(FIXTURE, 'variant-base', ['--sco', 'session'])['1.2'];
});
after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.close();
});

describe('a Welsh variant', () => {
  test('every page is in Welsh and axe-core clean', async () => {
    const url = srv.mount('variant-cardiff', welsh);
    const pages = fs.readdirSync(welsh).filter((f) => f.endsWith('.html')).sort();
    assert.deepEqual(pages, ['index.html', 'reply.html', 'where.html'], 'the session left out is not there');
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const found = [];
      for (const p of pages) {
        await page.goto(url + p);
        assert.equal(await page.getAttribute('html', 'lang'), 'cy', p);
        const violations = await axeViolations(page);
        for (const v of violations) found.push({ page: p, ...v });
      }
      assert.deepEqual(found, [], JSON.stringify(found, null, 2));
      await page.goto(url + 'where.html');
      assert.match(await page.textContent('main'), /Mae cleifion yn postio mewn llawer o lefydd\./);
      assert.deepEqual(await scriptErrors(context, page), []);
    } finally {
      await context.close();
    }
  });

  test("the variant's state is kept under its own storage key, apart from the course's", async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      for (const [name, dir] of [['variant-cardiff-keys', welsh], ['variant-base-keys', base]]) {
        const url = srv.mount(name, dir);
        await page.goto(url + 'where.html');
        await page.fill('textarea[data-cp-answer]', `an answer in ${name}`);
        await page.locator('textarea[data-cp-answer]').blur();
        await page.waitForTimeout(300);
      }
      const keys = await page.evaluate(() => Object.keys(localStorage).sort());
      assert.deepEqual(keys, [
        'coursepack:feedback-basics-cardiff:2.1.0:where',
        'coursepack:feedback-basics:2.1.0:where',
      ]);
      const kept = await page.evaluate(() => localStorage.getItem('coursepack:feedback-basics-cardiff:2.1.0:where'));
      assert.match(kept, /an answer in variant-cardiff-keys/);
      assert.doesNotMatch(kept, /variant-base-keys/);
    } finally {
      await context.close();
    }
  });
});
