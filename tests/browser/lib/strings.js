'use strict';
// The runtime's words from a shipped catalogue (crates/pipeline/locales/<lang>.toml), as the
// island #cp-strings gives them, for the runtime's unit tests (which run without a page).
// Reads only what the catalogues use under [runtime]: `key = "text"` lines and plural tables.
const fs = require('node:fs');
const path = require('node:path');
const { REPO_ROOT } = require('./paths');

function runtimeStrings(lang) {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'crates', 'pipeline', 'locales', lang + '.toml'), 'utf8');
  const s = {};
  let table = null;
  for (const line of text.split('\n')) {
    const head = line.match(/^\[([^\]]+)\]\s*$/);
    if (head) {
      table = head[1];
      continue;
    }
    const kv = line.match(/^(\w+) = (".*")\s*$/);
    if (!kv || table === null) continue;
    const value = JSON.parse(kv[2]);
    if (table === 'runtime') s[kv[1]] = value;
    else if (table.startsWith('runtime.')) {
      const key = table.slice('runtime.'.length);
      s[key] = s[key] || {};
      s[key][kv[1]] = value;
    }
  }
  return { lang, s };
}

module.exports = { runtimeStrings };
