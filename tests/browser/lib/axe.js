'use strict';
// axe-core on a page, with the rules every accessibility test here holds pages to.
const AXE = require.resolve('axe-core/axe.min.js');

/** WCAG 2.0, 2.1 and 2.2 at levels A and AA. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * Runs axe-core on `page` with WCAG_TAGS: the violations (id, impact, help, the first five
 * nodes) and the ids of every rule it checked.
 */
async function axe(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    const ids = (list) => list.map((x) => x.id);
    return {
      violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })),
      checked: [...ids(r.passes), ...ids(r.violations), ...ids(r.incomplete), ...ids(r.inapplicable)],
    };
  }, WCAG_TAGS);
}

/** The violations alone (see `axe`). */
async function axeViolations(page) {
  return (await axe(page)).violations;
}

module.exports = { axe, axeViolations, WCAG_TAGS };
