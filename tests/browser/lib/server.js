'use strict';
// A tiny static HTTP server on 127.0.0.1 with the LMS harness pages.
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { BROWSER_DIR } = require('./paths');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.xml': 'application/xml', '.mp4': 'video/mp4', '.webm': 'video/webm',
  '.vtt': 'text/vtt; charset=utf-8', '.png': 'image/png', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
};

const SCORM_AGAIN = path.join(BROWSER_DIR, 'node_modules', 'scorm-again', 'dist');
const LMS_DIR = path.join(__dirname, 'lms');

function sendFile(req, res, file) {
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const type = TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
    if (range) {
      // Media elements ask for byte ranges.
      let start = range[1] === '' ? st.size - Number(range[2]) : Number(range[1]);
      let end = range[1] !== '' && range[2] !== '' ? Number(range[2]) : st.size - 1;
      end = Math.min(end, st.size - 1);
      start = Math.max(0, start);
      res.writeHead(206, {
        'Content-Type': type, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes',
        'Content-Range': `bytes ${start}-${end}/${st.size}`, 'Cache-Control': 'no-store',
      });
      fs.createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': st.size, 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
}

/** Serves `/pkg/<name>/...` from mounts[name], `/lms/...` from the harness and scorm-again. */
function start() {
  const mounts = new Map();
  const ltiPosts = [];
  // The last state POSTed, as the tool keeps it and hands back on the next launch.
  const ltiSaved = { state: null };
  const server = http.createServer((req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const parts = decodeURIComponent(url.pathname).split('/').filter(Boolean);
      if (parts.some((p) => p === '..')) throw new Error('bad path');
      if (req.method === 'POST' && parts[0] === 'lti-state') {
        // A stand-in for the LTI tool's state endpoint: records what the runtime sends.
        let body = '';
        req.on('data', (c) => { body += c; });
        req.on('end', () => {
          ltiPosts.push({ auth: req.headers.authorization || '', type: req.headers['content-type'] || '', body });
          try { ltiSaved.state = JSON.parse(body).state; } catch (e) { /* recorded as sent */ }
          res.writeHead(Number(url.searchParams.get('status')) || 204);
          res.end();
        });
        return undefined;
      }
      if (parts[0] === 'lti' && mounts.has(parts[1])) {
        // Session pages as the LTI tool serves them: with the #cp-lti island before the runtime.
        const rest = parts.slice(2).join('/') || 'index.html';
        const file = path.join(mounts.get(parts[1]), rest);
        if (rest.endsWith('.html') && fs.existsSync(file)) {
          const island = `<script type="application/json" id="cp-lti">${JSON.stringify({ endpoint: '/lti-state', token: 'test-launch-token', ...(ltiSaved.state ? { state: ltiSaved.state } : {}) })}</script>`;
          const html = fs.readFileSync(file, 'utf8').replace('<script src="coursepack/runtime.js">', `${island}\n<script src="coursepack/runtime.js">`);
          res.writeHead(200, { 'Content-Type': TYPES['.html'] });
          res.end(html);
          return undefined;
        }
        return sendFile(req, res, file);
      }
      if (parts[0] === 'pkg' && mounts.has(parts[1])) {
        const rest = parts.slice(2).join('/') || 'index.html';
        return sendFile(req, res, path.join(mounts.get(parts[1]), rest));
      }
      if (parts[0] === 'lms' && parts[1] === 'scorm-again') return sendFile(req, res, path.join(SCORM_AGAIN, parts.slice(2).join('/')));
      if (parts[0] === 'lms') return sendFile(req, res, path.join(LMS_DIR, parts.slice(1).join('/')));
      res.writeHead(404);
      res.end();
    } catch (e) {
      res.writeHead(400);
      res.end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const origin = `http://127.0.0.1:${server.address().port}`;
      resolve({
        origin,
        mount(name, dir) { mounts.set(name, dir); return `${origin}/pkg/${name}/`; },
        ltiPosts,
        ltiSaved,
        close() { return new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }); },
      });
    });
  });
}

module.exports = { start };
