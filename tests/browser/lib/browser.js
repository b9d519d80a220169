'use strict';
// Starts Debian's chromium through playwright-core (never downloads a browser).
const { chromium } = require('playwright-core');

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
];

async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ARGS,
    headless: true,
  });
}

/**
 * A new context that records script errors from every frame and answers any request that
 * leaves 127.0.0.1 with a stub page, so tests never touch the network.
 */
async function newContext(browser, options = {}) {
  const context = await browser.newContext(options);
  await context.addInitScript(() => {
    const record = (kind, detail) => {
      try {
        const top = window.top;
        (top.__cpErrors = top.__cpErrors || []).push({ kind, detail: String(detail), url: location.href });
      } catch (e) {
        (window.__cpErrors = window.__cpErrors || []).push({ kind, detail: String(detail), url: location.href });
      }
    };
    window.addEventListener('error', (e) => record('error', e.message || e.error));
    window.addEventListener('unhandledrejection', (e) => record('unhandledrejection', e.reason));
  });
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.fulfill({
    status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>External page</title><p>External page</p>',
  }));
  const errors = [];
  context.on('page', (page) => {
    page.on('pageerror', (err) => errors.push({ kind: 'pageerror', detail: String(err) }));
  });
  context.cpErrors = errors;
  return context;
}

/** Script errors seen in a page (all frames) and by the context. */
async function scriptErrors(context, page) {
  const inPage = await page.evaluate(() => window.__cpErrors || []).catch(() => []);
  return [...context.cpErrors, ...inPage];
}

module.exports = { launch, newContext, scriptErrors, ARGS };
