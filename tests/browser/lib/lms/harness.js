// A parent "LMS" page, as Moodle does it: the SCORM API on this window, the SCO in an iframe.
// Configuration comes in the URL hash as JSON:
//   {version: "1.2"|"2004", launch: url, init: {flattened cmi values}, fail: {commit, set}}
// where fail.commit / fail.set = {mode: "false"|"throw", times: n (default: always)}.
// Every call the SCO makes is logged in window.__lms with the error code the API reported.
(function () {
  'use strict';
  var cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  var v12 = cfg.version === '1.2';
  var settings = { logLevel: 5, autocommit: false };
  var api = v12 ? new window.Scorm12API(settings) : new window.Scorm2004API(settings);
  if (cfg.init) api.loadFromFlattenedJSON(cfg.init, '');
  var names = v12
    ? { LMSInitialize: 'init', LMSFinish: 'finish', LMSGetValue: 'get', LMSSetValue: 'set', LMSCommit: 'commit',
        LMSGetLastError: 'lasterror', LMSGetErrorString: 'errorstring', LMSGetDiagnostic: 'diagnostic' }
    : { Initialize: 'init', Terminate: 'finish', GetValue: 'get', SetValue: 'set', Commit: 'commit',
        GetLastError: 'lasterror', GetErrorString: 'errorstring', GetDiagnostic: 'diagnostic' };
  var log = [];
  var failures = { commit: 0, set: 0 };
  window.__lms = log;
  window.__api = api;
  Object.keys(names).forEach(function (fn) {
    var orig = api[fn].bind(api);
    var kind = names[fn];
    api[fn] = function () {
      var args = Array.prototype.slice.call(arguments);
      var f = cfg.fail && cfg.fail[kind];
      if (f && (f.times == null || failures[kind] < f.times)) {
        failures[kind]++;
        log.push({ fn: fn, kind: kind, args: args, ret: f.mode, err: 'injected', t: Date.now() });
        if (f.mode === 'throw') throw new Error('test LMS: ' + fn + ' is down');
        return 'false';
      }
      var ret = orig.apply(null, args);
      log.push({ fn: fn, kind: kind, args: args, ret: String(ret), err: String(api.lastErrorCode), t: Date.now() });
      return ret;
    };
  });
  window[v12 ? 'API' : 'API_1484_11'] = api;
  document.getElementById('sco').src = cfg.launch;
})();
