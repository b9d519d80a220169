// The test LMS: a player page that behaves like the LMSs our users have, written from the SCORM
// RTE books and ../shared/LMS-NOTES.md. scorm-again supplies the API and its data model; this
// page adds what scorm-again leaves to an LMS:
//   - the SCO runs in an iframe, the API sits on this window (Moodle's player);
//   - several SCOs behind one player, with a Next/Previous outside the content (`__player`);
//   - re-launch with the data the LMS kept, by each version's exit rules: the data model comes
//     back (entry = resume) only after exit = suspend; otherwise a fresh data model
//     (SCORM 2004: entry = ab-initio, completion_status unknown) with only the status kept
//     (SCORM 1.2: entry = "");
//   - profile "moodle", SCORM 1.2: every value of the attempt comes back whatever the exit, as
//     Moodle's player does (get_scorm_default in mod/scorm/datamodels/scorm_12lib.php); only
//     cmi.core.entry differs: "resume" after suspend, "" after any other exit;
//   - profile "moodle": Moodle 4.5's SCORM 2004 player keeps ONE API object per player page and
//     never resets it after Terminate (the second SCO's Initialize fails with 104); it offers no
//     sequencing (adl.nav.request_valid.* is "unknown"); in browse mode a 1.2 SCO that never set
//     lesson_status is recorded `completed` by the LMS's own finish code;
//   - profile "sequencing": a fresh API per SCO, and a SCORM 2004 sequencer that honours
//     continue / previous / choice (request_valid "true") and launches the next SCO after
//     Terminate (SCORM Cloud, Blackboard's engine);
//   - browse and review launches (`mode`);
//   - the record an LMS keeps per SCO (`__record`), last write wins, as Moodle's tracks do;
//   - a SCO frame that loads a page other than the one the LMS launched is a tracking failure,
//     logged in `__violations`.
// Configuration comes in the URL hash as JSON:
//   {version, launch | scos: [{id, href}], start, init, store, mode, profile, fail}
// where fail.commit / fail.set = {mode: "false"|"throw", times: n (default: always)}.
// Every call a SCO makes is logged in window.__lms with the error code the API reported.
(function () {
  'use strict';
  var cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  var v12 = cfg.version === '1.2';
  var profile = cfg.profile || 'sequencing';
  var scos = cfg.scos || [{ id: 'SCO', href: cfg.launch }];
  var store = cfg.store || {};
  var record = {};
  var log = [];
  var violations = [];
  var failures = { commit: 0, set: 0 };
  var frame = document.getElementById('sco');
  var names = v12
    ? { LMSInitialize: 'init', LMSFinish: 'finish', LMSGetValue: 'get', LMSSetValue: 'set', LMSCommit: 'commit',
        LMSGetLastError: 'lasterror', LMSGetErrorString: 'errorstring', LMSGetDiagnostic: 'diagnostic' }
    : { Initialize: 'init', Terminate: 'finish', GetValue: 'get', SetValue: 'set', Commit: 'commit',
        GetLastError: 'lasterror', GetErrorString: 'errorstring', GetDiagnostic: 'diagnostic' };
  var P = v12
    ? { status: 'cmi.core.lesson_status', location: 'cmi.core.lesson_location', exit: 'cmi.core.exit',
        entry: 'cmi.core.entry', mode: 'cmi.core.lesson_mode', credit: 'cmi.core.credit' }
    : { status: 'cmi.completion_status', location: 'cmi.location', exit: 'cmi.exit', entry: 'cmi.entry',
        mode: 'cmi.mode', credit: 'cmi.credit', progress: 'cmi.progress_measure' };

  window.__lms = log;
  window.__store = store;
  window.__record = record;
  window.__violations = violations;

  var api = null;
  var current = -1;
  var launched = '';

  /** The cmi values of the API, flattened: {"cmi.core.lesson_status": "...", ...}. */
  function flatten(obj, prefix, out) {
    Object.keys(obj || {}).forEach(function (k) {
      var v = obj[k];
      var key = prefix + '.' + k;
      if (v && typeof v === 'object') flatten(v, key, out);
      else if (v !== '' && v != null) out[key] = String(v);
    });
    return out;
  }

  function cmiValues() {
    return flatten(JSON.parse(JSON.stringify(api.cmi)), 'cmi', {});
  }

  /** What the LMS keeps of a finished SCO, and what the next launch gets from it. */
  function keep(id) {
    var all = cmiValues();
    store[id] = all;
    var r = record[id] = record[id] || {};
    r.status = all[P.status];
    if (P.progress) r.progress = all[P.progress];
    Object.keys(all).forEach(function (k) {
      if (/^cmi\.objectives\.\d+\./.test(k)) r[k] = all[k];
    });
  }

  function relaunchValues(id) {
    var kept = store[id];
    var init = {};
    if (kept) {
      var suspended = kept[P.exit] === 'suspend';
      Object.keys(kept).forEach(function (k) {
        var objective = /^cmi\.objectives\./.test(k);
        if (suspended) {
          if (k === P.status || k === P.location || k === 'cmi.suspend_data' || k === P.progress || objective) init[k] = kept[k];
        } else if (v12 && profile === 'moodle' && (k === P.status || k === P.location || k === 'cmi.suspend_data' || objective)) {
          // Moodle's SCORM 1.2 player gives back every value of the attempt whatever the exit
          // (mod/scorm/datamodels/scorm_12lib.php, get_scorm_default); only entry tells.
          init[k] = kept[k];
        } else if (v12 && (k === P.status || objective)) {
          // SCORM 1.2: the status stays with the learner; suspend_data and location do not.
          init[k] = kept[k];
        }
      });
      init[P.entry] = suspended ? 'resume' : (v12 ? '' : 'ab-initio');
    }
    if (cfg.init && (cfg.launch || scos.length === 1)) Object.keys(cfg.init).forEach(function (k) { init[k] = cfg.init[k]; });
    if (cfg.mode && cfg.mode !== 'normal') {
      init[P.mode] = cfg.mode;
      init[P.credit] = 'no-credit';
    }
    return init;
  }

  function wrap(a, scoId) {
    var failuresAt = failures;
    Object.keys(names).forEach(function (fn) {
      var orig = a[fn].bind(a);
      var kind = names[fn];
      a[fn] = function () {
        var args = Array.prototype.slice.call(arguments);
        var f = cfg.fail && cfg.fail[kind];
        if (f && (f.times == null || failuresAt[kind] < f.times)) {
          failuresAt[kind]++;
          log.push({ fn: fn, kind: kind, args: args, ret: f.mode, err: 'injected', t: Date.now(), sco: scoId() });
          if (f.mode === 'throw') throw new Error('test LMS: ' + fn + ' is down');
          return 'false';
        }
        var nav = navCall(kind, args);
        if (nav) {
          log.push({ fn: fn, kind: kind, args: args, ret: nav.ret, err: '0', t: Date.now(), sco: scoId() });
          return nav.ret;
        }
        var ret = orig.apply(null, args);
        log.push({ fn: fn, kind: kind, args: args, ret: String(ret), err: String(a.lastErrorCode), t: Date.now(), sco: scoId() });
        if (kind === 'commit' && String(ret) === 'true') keep(scoId());
        if (kind === 'finish' && String(ret) === 'true') afterFinish(scoId());
        return ret;
      };
    });
  }

  /**
   * SCORM 2004 navigation requests, answered by this LMS's sequencer (profile "sequencing") or
   * as an LMS without sequencing answers them (profile "moodle": "unknown").
   */
  var pendingNav = '_none_';
  function navCall(kind, args) {
    if (v12) return null;
    var el = String(args[0] || '');
    if (kind === 'get' && el.indexOf('adl.nav.request_valid.') === 0) {
      if (profile !== 'sequencing') return { ret: 'unknown' };
      var what = el.slice('adl.nav.request_valid.'.length);
      if (what === 'continue') return { ret: current < scos.length - 1 ? 'true' : 'false' };
      if (what === 'previous') return { ret: current > 0 ? 'true' : 'false' };
      var m = /^choice\.\{target=([^}]+)\}$/.exec(what);
      if (m) return { ret: scos.some(function (s) { return s.id === m[1]; }) ? 'true' : 'false' };
      return { ret: 'unknown' };
    }
    if (kind === 'set' && el === 'adl.nav.request') {
      pendingNav = String(args[1]);
      return { ret: 'true' };
    }
    if (kind === 'get' && el === 'adl.nav.request') return { ret: pendingNav };
    return null;
  }

  function newApi(init) {
    var settings = { logLevel: 5, autocommit: false };
    var a = v12 ? new window.Scorm12API(settings) : new window.Scorm2004API(settings);
    if (init && Object.keys(init).length) a.loadFromFlattenedJSON(init, '');
    pendingNav = '_none_';
    var idAt = current;
    wrap(a, function () { return scos[idAt] ? scos[idAt].id : '?'; });
    return a;
  }

  function afterFinish(id) {
    keep(id);
    var r = record[id];
    // Moodle's own finish code in browse mode: a 1.2 SCO that set no status is marked completed.
    if (profile === 'moodle' && v12 && cfg.mode === 'browse' && (!r.status || r.status === 'not attempted')) {
      r.status = 'completed';
    }
    if (v12 || profile !== 'sequencing') return;
    var req = pendingNav;
    pendingNav = '_none_';
    var target = null;
    if (req === 'continue') target = current + 1;
    else if (req === 'previous') target = current - 1;
    else {
      var m = /^\{target=([^}]+)\}choice$/.exec(req || '');
      if (m) target = scos.findIndex(function (s) { return s.id === m[1]; });
    }
    if (target != null && target >= 0 && target < scos.length) {
      setTimeout(function () { launch(target); }, 0);
    }
  }

  function launch(i) {
    if (i < 0 || i >= scos.length) return false;
    current = i;
    var reuse = profile === 'moodle' && !v12 && api;
    if (!reuse) {
      api = newApi(relaunchValues(scos[i].id));
      window[v12 ? 'API' : 'API_1484_11'] = api;
      window.__api = api;
    }
    launched = new URL(scos[i].href, location.href).href;
    frame.src = scos[i].href;
    return true;
  }

  frame.addEventListener('load', function () {
    var url;
    try { url = frame.contentWindow.location.href; } catch (e) { url = 'cross-origin'; }
    if (/\/lms\/blank\.html$/.test(url) || url === 'about:blank') return;
    if (url.split('#')[0] !== launched.split('#')[0]) {
      violations.push({ launched: launched, loaded: url, sco: scos[current] && scos[current].id });
    }
  });

  /** The player's own navigation, outside the content. */
  function go(i) {
    if (i < 0 || i >= scos.length) return false;
    launched = new URL('/lms/blank.html', location.href).href;
    frame.src = '/lms/blank.html';
    var wait = function () {
      var ready = false;
      try { ready = /blank\.html$/.test(frame.contentWindow.location.href) && frame.contentDocument.readyState === 'complete'; } catch (e) { ready = false; }
      if (ready) launch(i); else setTimeout(wait, 20);
    };
    setTimeout(wait, 20);
    return true;
  }

  window.__player = {
    current: function () { return current; },
    scos: scos,
    next: function () { return go(current + 1); },
    previous: function () { return go(current - 1); },
    open: function (i) { return go(i); },
    leave: function () { launched = new URL('/lms/blank.html', location.href).href; frame.src = '/lms/blank.html'; }
  };

  launch(cfg.start || 0);
})();
