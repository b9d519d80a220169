'use strict';
// Paths shared by the tests.
const path = require('node:path');

const BROWSER_DIR = path.resolve(__dirname, '..');
const REPO_ROOT = path.resolve(BROWSER_DIR, '..', '..');

module.exports = {
  BROWSER_DIR,
  REPO_ROOT,
  RUNTIME_PATH: path.join(REPO_ROOT, 'templates', 'coursepack', 'runtime.js'),
  TEMPLATES_DIR: path.join(REPO_ROOT, 'templates'),
  FIXTURES_DIR: path.join(BROWSER_DIR, 'fixtures'),
};
