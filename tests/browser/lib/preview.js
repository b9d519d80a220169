'use strict';
// Runs the real `coursepack preview` on a course folder and stops it after the tests.
const { spawn } = require('node:child_process');
const { binary } = require('./targets');

/**
 * Starts `coursepack preview DIR --port 0 ...args` and resolves once it prints its URL:
 * {url, stderr() (all it printed on stderr so far), stop()}.
 */
function start(dir, args = []) {
  const proc = spawn(binary(), ['preview', dir, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill(); reject(new Error(`preview did not start: ${err}`)); }, 30000);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`preview exited with ${code}: ${err}`)); });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve({
        url: m[1],
        stderr: () => err,
        stop: () => new Promise((done) => {
          if (proc.exitCode !== null) return done();
          proc.on('exit', () => done());
          proc.kill('SIGINT');
        }),
      });
    });
  });
}

module.exports = { start };
