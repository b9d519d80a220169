// The learner interface in the course's language: the Welsh fixture course and copies of it in
// French, German and Spanish (the shipped catalogues), and the Arabic fixture (its own catalogue,
// right to left). axe-core on every page in each language, and the runtime's
// words and plural forms in Welsh.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch, newContext, scriptErrors } = require('../lib/browser');
const server = require('../lib/server');
const { buildCourse } = require('../lib/targets');
const { REPO_ROOT } = require('../lib/paths');

const FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures');

const { axeViolations } = require('../lib/axe');

/** The Welsh fixture with its `language` changed to `lang`. */
function inLanguage(lang) {
  if (lang === 'cy') return path.join(FIXTURES, 'welsh-course');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cp-${lang}-`));
  const src = path.join(FIXTURES, 'welsh-course', 'course.toml');
  fs.writeFileSync(path.join(dir, 'course.toml'), fs.readFileSync(src, 'utf8').replace('language = "cy"', `language = "${lang}"`));
  return dir;
}

const courses = {
  cy: inLanguage('cy'),
  fr: inLanguage('fr'),
  de: inLanguage('de'),
  es: inLanguage('es'),
  ar: path.join(FIXTURES, 'arabic-course'),
};
const built = {};
for (const [lang, dir] of Object.entries(courses)) built[lang] = buildCourse(dir, `i18n-${lang}`)['2004'];

let browser;
let srv;
const mounted = {};
before(async () => {
  srv = await server.start();
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.close();
});

const fileUrl = (lang, page) => {
  mounted[lang] = mounted[lang] || srv.mount(`i18n-${lang}`, built[lang]);
  return mounted[lang] + page;
};

describe('learner interface languages', () => {
  for (const lang of Object.keys(built)) {
    test(`${lang}: axe-core finds no WCAG 2.2 AA violations; lang and dir are set`, async () => {
      const context = await newContext(browser);
      try {
        const page = await context.newPage();
        const found = [];
        const pages = fs.readdirSync(built[lang]).filter((f) => f.endsWith('.html')).sort();
        assert.ok(pages.length >= 4, pages.join(', '));
        for (const p of pages) {
          await page.goto(fileUrl(lang, p));
          const html = await page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));
          html.page = p;
          assert.deepEqual(html, { lang, dir: lang === 'ar' ? 'rtl' : '', page: p });
          const violations = await axeViolations(page);
          for (const v of violations) found.push({ page: p, ...v });
        }
        assert.deepEqual(found, [], JSON.stringify(found, null, 2));
        assert.deepEqual(await scriptErrors(context, page), []);
      } finally {
        await context.close();
      }
    });
  }

  test('cy: the runtime speaks Welsh, with Welsh plural forms', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(fileUrl('cy', 'ymateb.html'));
      // Two required steps: "2 gam" (soft mutation after two; the unit tests cover 3 and 6).
      await page.waitForFunction(() => /o 2 gam wedi'u gwneud$/.test(document.getElementById('cp-status').textContent));
      const status = await page.textContent('#cp-status');
      assert.equal(status, "0 o 2 gam wedi'u gwneud");
      const numbers = await page.$$eval('[data-cp-qnum]', (n) => n.map((x) => x.textContent));
      assert.deepEqual(numbers, ['Cwestiwn 1 o 2', 'Cwestiwn 2 o 2']);
      // Submitting with nothing answered: "2 gwestiwn" (soft mutation after two).
      await page.click('[data-cp-submit]');
      const score = await page.textContent('[data-cp-score]');
      assert.equal(score, 'Atebwch bob cwestiwn yn gyntaf: mae 2 gwestiwn heb eu hateb eto.');
      await page.fill('textarea[data-cp-answer]', 'Byddwn yn diolch iddynt.');
      assert.equal(await page.textContent('[data-cp-count]'), '24 o 1000 nod');
      assert.deepEqual(await scriptErrors(context, page), []);
    } finally {
      await context.close();
    }
  });
});
