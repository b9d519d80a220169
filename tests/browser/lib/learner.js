'use strict';
// A learner working through a session page, with the mouse or with the keyboard only.

/** The blocks of a session page, with what the learner can do in each. */
async function blocks(frame) {
  return frame.evaluate(() => {
    const cfg = JSON.parse(document.getElementById('cp-session').textContent);
    return Array.from(document.querySelectorAll('[data-cp-block]')).map((n) => {
      const id = n.getAttribute('data-cp-block');
      const cb = n.querySelector('input[type=checkbox][data-cp-done]');
      const ta = n.querySelector('textarea[data-cp-answer]');
      return {
        id,
        kind: n.getAttribute('data-cp-kind'),
        required: cfg.required.includes(id),
        // A local video or recording: played to be done.
        video: !!n.querySelector('[data-cp-media]'),
        checkbox: cb ? cb.id : null,
        open: n.querySelectorAll('a[data-cp-open]').length,
        answer: ta ? ta.id : null,
        maxlength: ta && ta.maxLength > 0 ? ta.maxLength : null,
      };
    });
  });
}

async function session(frame) {
  return frame.evaluate(() => JSON.parse(document.getElementById('cp-session').textContent));
}

async function statusText(frame) {
  return (await frame.locator('#cp-status').textContent()).trim();
}

async function waitStatus(frame, text, timeout = 10000) {
  await frame.waitForFunction((t) => document.getElementById('cp-status').textContent.trim() === t, text, { timeout });
}

/** Clicks every data-cp-open link of a block; closes the tabs they open. */
async function openReadings(frame, id, context) {
  const links = frame.locator(`[data-cp-block="${id}"] a[data-cp-open]`);
  const n = await links.count();
  for (let i = 0; i < n; i++) {
    const popup = context.waitForEvent('page', { timeout: 5000 }).catch(() => null);
    await links.nth(i).click();
    const p = await popup;
    if (p) await p.close();
  }
}

/** Plays a block's video from `from` seconds until `to` (default: the end), at `rate`. */
async function playVideo(frame, id, { from = null, to = null, rate = 2 } = {}) {
  const sel = `[data-cp-block="${id}"] [data-cp-media]`;
  await frame.waitForFunction((s) => document.querySelector(s).readyState >= 1, sel, { timeout: 10000 });
  await frame.evaluate(async ({ s, from, rate }) => {
    const v = document.querySelector(s);
    v.playbackRate = rate;
    if (from !== null) {
      v.currentTime = from;
      await new Promise((r) => v.addEventListener('seeked', r, { once: true }));
    }
    await v.play();
  }, { s: sel, from, rate });
  if (to === null) {
    await frame.waitForFunction((s) => document.querySelector(s).ended, sel, { timeout: 30000 });
  } else {
    await frame.waitForFunction(({ s, to }) => document.querySelector(s).currentTime >= to, { s: sel, to }, { timeout: 30000 });
    await frame.evaluate((s) => document.querySelector(s).pause(), sel);
  }
}

function answerFor(id) {
  return `My answer for ${id}: the stories showed what mattered to people.`;
}

/** Does one block with the mouse. */
async function doBlock(frame, b, context, { answer } = {}) {
  if (b.video) await playVideo(frame, b.id);
  if (b.checkbox) await frame.locator(`#${cssId(b.checkbox)}`).check();
  if (b.open) await openReadings(frame, b.id, context);
  if (b.answer) await frame.locator(`#${cssId(b.answer)}`).fill(answer || answerFor(b.id));
}

function cssId(id) {
  return id.replace(/([^a-zA-Z0-9_-])/g, '\\$1');
}

module.exports = { blocks, session, statusText, waitStatus, openReadings, playVideo, doBlock, answerFor, cssId };
