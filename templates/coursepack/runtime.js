/*! coursepack completion runtime. No dependencies. Same bytes in every package. */
/*
 * What it does, for one session page (see the page <-> runtime contract):
 *   - reads the JSON island #cp-session (course, version, session, required blocks, video_percent)
 *   - tracks what the learner has done: distinct seconds of a local video actually played,
 *     readings opened, checkboxes ticked, reflections answered
 *   - reports to the LMS it finds (SCORM 2004 `API_1484_11` first, then SCORM 1.2 `API`),
 *     or to the LTI endpoint given in #cp-lti, or (a page carrying #cp-cmi5) as a cmi5 AU in
 *     xAPI statements to the LRS its launch names, or keeps progress in localStorage alone
 *   - restores the learner's state on return, and bookmarks the last block used
 *
 * Rules it keeps:
 *   - it must never throw out of an event handler and never block the learner: every LMS call
 *     is wrapped, a failed Commit is retried later with back-off, the page keeps working
 *   - completion only moves forward (incomplete -> completed), never back
 *   - session time is set only right before the final commit, so LMSs that add it to the
 *     total on every commit do not count time twice
 *
 * suspend_data budget rule (SCORM 1.2 allows 4096 characters, SCORM 2004 64000):
 *   The state is stored as compact JSON with one-letter keys: done block ids, reflection
 *   answers, video played ranges in whole seconds. When the encoding is longer than the budget,
 *   it is shrunk in this order until it fits:
 *     1. played ranges of videos that are already done are dropped (the done flag stays);
 *     2. reflection answers are truncated, longest first, all cut to one common maximum length
 *        (the largest that fits); truncated answers are listed under "t" so a later restore
 *        knows they are partial;
 *     3. played ranges of unfinished videos are dropped;
 *     4. as a last resort only the completion flag and done ids are kept.
 *   Done flags and completion are never dropped before answers. The whole, untruncated state is
 *   also kept in the browser's localStorage (when it is available); on restore, a truncated
 *   answer is replaced by the local copy when the local copy starts with the truncated text.
 */
(function (root, factory) {
  'use strict';
  var lib = factory();
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = lib;
  }
  if (typeof window !== 'undefined' && typeof document !== 'undefined') {
    try {
      lib.boot(window, document);
    } catch (e) {
      lib.warn('coursepack: runtime failed to start', e);
    }
  }
})(this, function () {
  'use strict';

  var SUSPEND_LIMIT_12 = 4096;
  var SUSPEND_LIMIT_2004 = 64000;
  var LOCATION_LIMIT_12 = 255;
  var LOCATION_LIMIT_2004 = 1000;
  var MAX_PARENT_LEVELS = 10;
  // Delay before retrying a failed Commit, in milliseconds; the last one repeats.
  var RETRY_DELAYS = [1000, 3000, 10000, 30000, 60000];

  function warn() {
    try {
      if (typeof console !== 'undefined' && console.warn) {
        console.warn.apply(console, arguments);
      }
    } catch (e) { /* nothing else to do */ }
  }

  function hasOwn(o, k) {
    return Object.prototype.hasOwnProperty.call(o, k);
  }

  // ---------------------------------------------------------------------------------------------
  // Time formats
  // ---------------------------------------------------------------------------------------------

  /** SCORM 1.2 CMITimespan, `HHHH:MM:SS.SS`, from milliseconds (capped at 9999:59:59.99). */
  function formatTime12(ms) {
    var cs = Math.round(Math.max(0, Number(ms) || 0) / 10);
    var max = (9999 * 3600 + 59 * 60 + 59) * 100 + 99;
    if (cs > max) cs = max;
    var h = Math.floor(cs / 360000);
    var m = Math.floor((cs % 360000) / 6000);
    var s = Math.floor((cs % 6000) / 100);
    var c = cs % 100;
    return pad(h, 4) + ':' + pad(m, 2) + ':' + pad(s, 2) + '.' + pad(c, 2);
  }

  /** SCORM 2004 timeinterval (ISO 8601 duration), e.g. `PT1H2M3.5S`, from milliseconds. */
  function formatTime2004(ms) {
    var cs = Math.round(Math.max(0, Number(ms) || 0) / 10);
    var h = Math.floor(cs / 360000);
    var m = Math.floor((cs % 360000) / 6000);
    var sc = cs % 6000;
    var out = 'PT';
    if (h) out += h + 'H';
    if (m) out += m + 'M';
    if (sc || (!h && !m)) {
      var whole = Math.floor(sc / 100);
      var frac = sc % 100;
      out += whole;
      if (frac) out += '.' + (frac % 10 === 0 ? String(frac / 10) : pad(frac, 2));
      out += 'S';
    }
    return out;
  }

  function pad(n, width) {
    var s = String(n);
    while (s.length < width) s = '0' + s;
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Video ranges: a flat, sorted list [start, end, start, end, ...] in seconds
  // ---------------------------------------------------------------------------------------------

  /** Adds [start, end] to a flat range list and returns a new merged, sorted list. */
  function addRange(ranges, start, end) {
    var pairs = [];
    var i;
    for (i = 0; i + 1 < (ranges || []).length; i += 2) pairs.push([ranges[i], ranges[i + 1]]);
    if (isFinite(start) && isFinite(end) && end > start) pairs.push([start, end]);
    pairs.sort(function (a, b) { return a[0] - b[0]; });
    var out = [];
    for (i = 0; i < pairs.length; i++) {
      var p = pairs[i];
      if (!(p[1] > p[0])) continue;
      var n = out.length;
      if (n && p[0] <= out[n - 1]) {
        if (p[1] > out[n - 1]) out[n - 1] = p[1];
      } else {
        out.push(p[0], p[1]);
      }
    }
    return out;
  }

  /** Total length of a flat range list, in seconds. */
  function rangeTotal(ranges) {
    var t = 0;
    for (var i = 0; i + 1 < (ranges || []).length; i += 2) t += Math.max(0, ranges[i + 1] - ranges[i]);
    return t;
  }

  /** True when the distinct seconds played reach `percent` of `duration`. */
  function videoDone(ranges, duration, percent) {
    if (!(duration > 0)) return false;
    var p = percent == null ? 90 : Number(percent);
    if (!(p >= 0)) p = 90;
    if (p > 100) p = 100;
    // Half a second of slack: players report the last frame a little before the end.
    var needed = Math.max(0, duration * p / 100 - 0.5);
    return rangeTotal(ranges) >= needed;
  }

  /**
   * Playback tracker step. `prev` is the last position seen while playing (or null after a
   * seek/pause); `now` the new position. Only small forward steps count as watched, so seeking
   * ahead never counts. Returns the new range list.
   */
  function trackStep(ranges, prev, now, rate) {
    if (prev == null || !isFinite(prev) || !isFinite(now)) return ranges;
    var d = now - prev;
    var limit = 1.5 * Math.max(1, Number(rate) || 1);
    if (d > 0 && d <= limit) return addRange(ranges, prev, now);
    return ranges;
  }

  /** Ranges rounded outward to tenths of seconds for storage. */
  function roundRanges(ranges) {
    var out = [];
    for (var i = 0; i + 1 < (ranges || []).length; i += 2) {
      out.push(Math.floor(ranges[i] * 10) / 10, Math.ceil(ranges[i + 1] * 10) / 10);
    }
    return addRange(out);
  }

  // ---------------------------------------------------------------------------------------------
  // Completion rule
  // ---------------------------------------------------------------------------------------------

  /**
   * Evaluates the session's completion rule. `required` is the list of block ids; `isDone(id)`
   * tells whether one is done. Returns {done, total, complete, progress}.
   */
  function evaluate(required, isDone) {
    var ids = [];
    var seen = {};
    (required || []).forEach(function (id) {
      if (typeof id === 'string' && !hasOwn(seen, id)) {
        seen[id] = true;
        ids.push(id);
      }
    });
    var done = 0;
    ids.forEach(function (id) {
      if (isDone(id)) done++;
    });
    var total = ids.length;
    var complete = done === total;
    return {
      done: done,
      total: total,
      complete: complete,
      progress: total === 0 ? 1 : share(done, total)
    };
  }

  /** `n / total` as a share from 0 to 1, floored to 4 decimals (SCORM's real ranges). */
  function share(n, total) {
    return Math.floor((n / total) * 10000) / 10000;
  }

  /** `n / total` in percent, rounded to 2 decimals (SCORM 1.2's raw score). */
  function percent(n, total) {
    return Math.round((n / total) * 10000) / 100;
  }

  /**
   * Writes a score of `raw` right answers out of `max` under `prefix` (`cmi.core.score.`,
   * `cmi.score.`, `cmi.objectives.n.score.`): SCORM 1.2 in percent from 0 to 100, SCORM 2004 as
   * scaled, raw and max in questions.
   */
  function setScore(lms, prefix, v12, raw, max) {
    var per = Math.max(1, max);
    var values = v12
      ? [['raw', String(percent(raw, per))], ['min', '0'], ['max', '100']]
      : [['scaled', String(share(raw, per))], ['raw', String(raw)], ['min', '0'], ['max', String(max)]];
    var ok = true;
    values.forEach(function (kv) { ok = lms.set(prefix + kv[0], kv[1]) && ok; });
    return ok;
  }

  // ---------------------------------------------------------------------------------------------
  // The learner interface's words
  // ---------------------------------------------------------------------------------------------
  //
  // The page's island #cp-strings holds the catalogue's `runtime.` entries in the course's
  // language: { lang: BCP 47 tag, s: { key: text, or { zero, one, two, few, many, other } } }.
  // A new string is one catalogue entry (crates/pipeline/locales/*.toml, under [runtime]) and one
  // tr() call here.

  var strings = { lang: 'en', s: {} };

  /** Uses `data` (the island's content) for tr(). */
  function useStrings(data) {
    if (data && typeof data === 'object' && data.s && typeof data.s === 'object') {
      strings = { lang: typeof data.lang === 'string' ? data.lang : 'en', s: data.s };
    }
  }

  /**
   * The entry `key` with `{name}` replaced from `vars`; a plural entry's form for `n` is chosen
   * by Intl.PluralRules in the page's language, and `{n}` is `n`. An unknown key shows as itself.
   */
  function tr(key, vars, n) {
    var e = Object.prototype.hasOwnProperty.call(strings.s, key) ? strings.s[key] : key;
    if (e && typeof e === 'object') {
      var form = 'other';
      try { form = new Intl.PluralRules(strings.lang).select(n); } catch (err) { form = 'other'; }
      e = typeof e[form] === 'string' ? e[form] : e.other;
    }
    var out = String(e);
    if (n !== undefined) out = out.split('{n}').join(String(n));
    Object.keys(vars || {}).forEach(function (k) { out = out.split('{' + k + '}').join(String(vars[k])); });
    return out;
  }

  function statusText(result) {
    if (result.complete) return tr('session_complete');
    if (result.needsPass) return tr('needs_pass');
    return tr('steps_done', { done: result.done }, result.total);
  }

  // ---------------------------------------------------------------------------------------------
  // State and its suspend_data encoding
  // ---------------------------------------------------------------------------------------------
  //
  // State:  { c: bool completed, d: [done block ids], a: {id: answer}, v: {id: [duration,
  //           position, s, e, s, e...]}, t: [ids of answers that were truncated] }
  // Encoded: compact JSON, e.g. {"c":1,"d":["r1","k2"],"a":{"q1":"..."},"v":{"v1":[4,2,0,2]}}

  function emptyState() {
    return { c: false, d: [], a: {}, v: {}, t: [], q: {} };
  }

  /**
   * One quiz's state: {n: attempts submitted, b: best number right, k: [question ids drawn,
   * in the order shown], o: {question: [option ids in the order shown]} (shuffled quizzes),
   * r: {question: response of the last submitted attempt}} where a response is a list of
   * option ids or, for a text question, the text.
   */
  function normaliseQuiz(raw) {
    if (!raw || typeof raw !== 'object') return null;
    var q = { n: 0, b: 0, k: [], o: {}, r: {} };
    if (isFinite(raw.n) && raw.n > 0) q.n = Math.floor(raw.n);
    if (isFinite(raw.b) && raw.b > 0) q.b = Math.floor(raw.b);
    if (Array.isArray(raw.k)) q.k = raw.k.filter(function (x) { return typeof x === 'string'; });
    if (raw.o && typeof raw.o === 'object') {
      Object.keys(raw.o).forEach(function (id) {
        if (Array.isArray(raw.o[id])) q.o[id] = raw.o[id].filter(function (x) { return typeof x === 'string'; });
      });
    }
    if (raw.r && typeof raw.r === 'object') {
      Object.keys(raw.r).forEach(function (id) {
        var r = raw.r[id];
        if (typeof r === 'string') q.r[id] = r;
        else if (Array.isArray(r)) q.r[id] = r.filter(function (x) { return typeof x === 'string'; });
      });
    }
    return q;
  }

  function normaliseState(raw) {
    var s = emptyState();
    if (!raw || typeof raw !== 'object') return s;
    s.c = raw.c === 1 || raw.c === true;
    if (Array.isArray(raw.d)) {
      raw.d.forEach(function (id) {
        if (typeof id === 'string' && s.d.indexOf(id) < 0) s.d.push(id);
      });
    }
    if (raw.a && typeof raw.a === 'object') {
      Object.keys(raw.a).forEach(function (id) {
        if (typeof raw.a[id] === 'string') s.a[id] = raw.a[id];
      });
    }
    if (raw.v && typeof raw.v === 'object') {
      Object.keys(raw.v).forEach(function (id) {
        var v = raw.v[id];
        if (!Array.isArray(v) || v.length < 2) return;
        var nums = v.map(Number);
        if (nums.some(function (n) { return !isFinite(n) || n < 0; })) return;
        s.v[id] = [nums[0], nums[1]].concat(addRange(nums.slice(2)));
      });
    }
    if (Array.isArray(raw.t)) {
      raw.t.forEach(function (id) {
        if (typeof id === 'string' && s.t.indexOf(id) < 0) s.t.push(id);
      });
    }
    if (raw.q && typeof raw.q === 'object') {
      Object.keys(raw.q).forEach(function (id) {
        var q = normaliseQuiz(raw.q[id]);
        if (q) s.q[id] = q;
      });
    }
    return s;
  }

  function serialise(s) {
    var o = {};
    if (s.c) o.c = 1;
    if (s.d.length) o.d = s.d;
    var ak = Object.keys(s.a).filter(function (k) { return s.a[k] !== ''; });
    if (ak.length) {
      o.a = {};
      ak.forEach(function (k) { o.a[k] = s.a[k]; });
    }
    var vk = Object.keys(s.v);
    if (vk.length) {
      o.v = {};
      vk.forEach(function (k) { o.v[k] = s.v[k]; });
    }
    if (s.t.length) o.t = s.t;
    var qk = Object.keys(s.q || {});
    if (qk.length) {
      o.q = {};
      qk.forEach(function (k) {
        var q = s.q[k];
        var out = { n: q.n, b: q.b, k: q.k };
        if (Object.keys(q.o).length) out.o = q.o;
        if (Object.keys(q.r).length) out.r = q.r;
        o.q[k] = out;
      });
    }
    return JSON.stringify(o);
  }

  /** Cuts a string to at most n UTF-16 units without splitting a surrogate pair. */
  function cut(str, n) {
    if (str.length <= n) return str;
    var end = n;
    if (end > 0) {
      var code = str.charCodeAt(end - 1);
      if (code >= 0xd800 && code <= 0xdbff) end--;
    }
    return str.slice(0, end);
  }

  function cloneState(s) {
    var c = normaliseState(JSON.parse(JSON.stringify({ c: s.c, d: s.d, a: s.a, v: s.v, t: s.t, q: s.q })));
    return c;
  }

  /**
   * Encodes a state for suspend_data within `limit` characters, applying the budget rule
   * described at the top of this file. Returns {data, truncated: [ids], dropped: bool}.
   */
  function encodeState(state, limit) {
    var s = cloneState(normaliseState(state));
    var lim = limit > 0 ? limit : SUSPEND_LIMIT_12;
    var out = serialise(s);
    if (out.length <= lim) return { data: out, truncated: s.t.slice(), dropped: false };

    // 1. Ranges of finished videos: keep duration and position only.
    Object.keys(s.v).forEach(function (id) {
      if (s.d.indexOf(id) >= 0) s.v[id] = s.v[id].slice(0, 2);
    });
    out = serialise(s);
    if (out.length <= lim) return { data: out, truncated: s.t.slice(), dropped: true };

    // 2. Truncate answers to a common maximum length, the largest that fits.
    var ids = Object.keys(s.a);
    var full = {};
    var longest = 0;
    ids.forEach(function (id) {
      full[id] = s.a[id];
      if (s.a[id].length > longest) longest = s.a[id].length;
    });
    var baseT = s.t.slice();
    var tryCap = function (cap) {
      var t = baseT.slice();
      ids.forEach(function (id) {
        s.a[id] = cut(full[id], cap);
        if (s.a[id].length < full[id].length && t.indexOf(id) < 0) t.push(id);
      });
      s.t = t;
      return serialise(s);
    };
    var lo = 0;
    var hi = longest;
    while (lo < hi) {
      var mid = Math.ceil((lo + hi) / 2);
      if (tryCap(mid).length <= lim) lo = mid; else hi = mid - 1;
    }
    out = tryCap(lo);
    if (out.length <= lim) return { data: out, truncated: s.t.slice(), dropped: true };

    // 3. Ranges of unfinished videos.
    Object.keys(s.v).forEach(function (id) { s.v[id] = s.v[id].slice(0, 2); });
    out = serialise(s);
    if (out.length <= lim) return { data: out, truncated: s.t.slice(), dropped: true };
    s.v = {};
    out = serialise(s);
    if (out.length <= lim) return { data: out, truncated: s.t.slice(), dropped: true };

    // 4. Last resort: completion flag, quiz results and as many done ids as fit.
    var minimal = { c: s.c, d: [], a: {}, v: {}, t: [], q: s.q };
    out = serialise(minimal);
    for (var i = 0; i < s.d.length; i++) {
      minimal.d.push(s.d[i]);
      var next = serialise(minimal);
      if (next.length > lim) {
        minimal.d.pop();
        break;
      }
      out = next;
    }
    return { data: out.length <= lim ? out : '', truncated: ids.slice(), dropped: true };
  }

  /** Decodes suspend_data (or a localStorage copy). Never throws; unknown input gives null. */
  function decodeState(str) {
    if (typeof str !== 'string' || str === '') return null;
    try {
      var raw = JSON.parse(str);
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
      return normaliseState(raw);
    } catch (e) {
      return null;
    }
  }

  /**
   * Merges the state restored from the LMS with the local full copy: truncated answers are
   * completed from the local copy when it starts with the stored text.
   */
  function mergeLocalAnswers(lmsState, localState) {
    var s = normaliseState(lmsState);
    if (!localState) return s;
    var keep = [];
    s.t.forEach(function (id) {
      var local = localState.a && localState.a[id];
      var stored = s.a[id] || '';
      if (typeof local === 'string' && local.length >= stored.length && local.slice(0, stored.length) === stored) {
        s.a[id] = local;
      } else {
        keep.push(id);
      }
    });
    s.t = keep;
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Knowledge checks: drawing, grading, scoring, and the interaction records LMSs keep
  // ---------------------------------------------------------------------------------------------

  /** Text answers compare without case and with runs of spaces as one. */
  function normaliseText(s) {
    return String(s == null ? '' : s).replace(/\s+/g, ' ').replace(/^ | $/g, '').toLowerCase();
  }

  /** Whether `response` answers `question` (from the page's quiz data) right. */
  function gradeQuestion(question, response) {
    if (!question) return false;
    if (question.type === 'text') {
      var given = normaliseText(response);
      return given !== '' && (question.accept || []).some(function (a) { return normaliseText(a) === given; });
    }
    var chosen = Array.isArray(response) ? response.slice().sort() : [];
    var right = (question.correct || []).slice().sort();
    return chosen.length === right.length && chosen.every(function (x, i) { return x === right[i]; });
  }

  /** Fisher-Yates with the given random source (Math.random by default). */
  function shuffled(list, random) {
    var out = list.slice();
    var rnd = random || Math.random;
    for (var i = out.length - 1; i > 0; i--) {
      var j = Math.floor(rnd() * (i + 1));
      var t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  /** A new attempt: the questions drawn (all, in order, without `draw`) and option orders. */
  function drawAttempt(quiz, random) {
    var ids = (quiz.questions || []).map(function (q) { return q.id; });
    var k = quiz.draw ? shuffled(ids, random).slice(0, quiz.draw) : ids;
    var o = {};
    if (quiz.shuffle) {
      (quiz.questions || []).forEach(function (q) {
        if (k.indexOf(q.id) >= 0 && q.options && q.options.length && q.type !== 'true-false') o[q.id] = shuffled(q.options, random);
      });
    }
    return { k: k, o: o };
  }

  /** How many of an attempt's responses are right. */
  function countRight(quiz, k, responses) {
    var byId = {};
    (quiz.questions || []).forEach(function (q) { byId[q.id] = q; });
    var n = 0;
    (k || []).forEach(function (id) { if (gradeQuestion(byId[id], (responses || {})[id])) n++; });
    return n;
  }

  /**
   * The session's score from its quizzes' best attempts: {raw: right answers, max: questions,
   * scored: every quiz submitted, passed: true/false with a pass mark once scored, else null}.
   */
  function sessionScore(quizzes, states, passPercent) {
    var raw = 0;
    var max = 0;
    var scored = true;
    var ids = Object.keys(quizzes || {});
    ids.forEach(function (id) {
      var q = (states || {})[id];
      max += quizzes[id].size || 0;
      if (q && q.n > 0) raw += Math.min(q.b, quizzes[id].size || 0);
      else scored = false;
    });
    var passed = null;
    if (ids.length && scored && typeof passPercent === 'number') {
      passed = max === 0 ? true : (raw / max) * 100 >= passPercent - 1e-9;
    }
    return { raw: raw, max: max, scored: ids.length > 0 && scored, passed: passed, any: ids.length > 0 };
  }

  var LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';

  /** Text on one line: line breaks and runs of spaces become one space. */
  function oneLine(text) {
    return String(text == null ? '' : text).replace(/\s+/g, ' ').replace(/^ | $/g, '');
  }

  /**
   * The SCORM values of one interaction. `it`: {id, type: single|multiple|true-false|text|
   * reflection, response, correct: [option ids], accept: [texts], options: [option ids],
   * result: true|false|null, description, latency (ms), at (Date)}. SCORM 1.2 answers choices
   * with one character per option (a, b, c… in authored order) and caps fill-in at 255
   * characters; 2004 uses the option ids and keeps reflections whole up to 4000 characters.
   */
  function interactionValues(version, it) {
    var v12 = version === '1.2';
    var out = [];
    var choice = it.type === 'single' || it.type === 'multiple';
    var letters = function (ids) {
      return (ids || []).map(function (x) {
        var i = (it.options || []).indexOf(x);
        return i >= 0 && i < LETTERS.length ? LETTERS.charAt(i) : '';
      }).filter(Boolean).join(',');
    };
    var type;
    var response;
    var pattern = null;
    if (choice) {
      type = 'choice';
      var chosen = Array.isArray(it.response) ? it.response : [];
      response = v12 ? letters(chosen) : chosen.join('[,]');
      pattern = v12 ? letters(it.correct) : (it.correct || []).join('[,]');
    } else if (it.type === 'true-false') {
      type = 'true-false';
      var tf = Array.isArray(it.response) ? it.response[0] : it.response;
      response = v12 ? (tf === 'true' ? 't' : 'f') : (tf === 'true' ? 'true' : 'false');
      var right = (it.correct || [])[0];
      pattern = v12 ? (right === 'true' ? 't' : 'f') : right;
    } else if (it.type === 'text') {
      type = 'fill-in';
      response = cut(oneLine(it.response), v12 ? 255 : 250);
      pattern = cut(oneLine((it.accept || [])[0]), v12 ? 255 : 250);
    } else {
      type = v12 ? 'fill-in' : 'long-fill-in';
      // A 1.2 fill-in is one line (CMIFeedback); 2004's long-fill-in keeps line breaks.
      response = v12 ? cut(oneLine(it.response), 255) : cut(String(it.response || ''), 4000);
    }
    var at = it.at || new Date();
    out.push(['id', it.id]);
    out.push(['type', type]);
    if (!v12 && it.description) out.push(['description', cut(it.description, 250)]);
    // SCORM 2004 allows a time zone only after fractional seconds: 2026-12-01T09:30:00.00Z.
    if (!v12) out.push(['timestamp', at.toISOString().slice(0, 22) + 'Z']);
    else out.push(['time', pad(at.getHours(), 2) + ':' + pad(at.getMinutes(), 2) + ':' + pad(at.getSeconds(), 2)]);
    if (pattern !== null && pattern !== '') out.push(['correct_responses.0.pattern', pattern]);
    out.push([v12 ? 'student_response' : 'learner_response', response]);
    var result = it.result === true ? 'correct' : it.result === false ? (v12 ? 'wrong' : 'incorrect') : 'neutral';
    out.push(['result', result]);
    if (isFinite(it.latency) && it.latency >= 0) out.push(['latency', v12 ? formatTime12(it.latency) : formatTime2004(it.latency)]);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // LMS API discovery
  // ---------------------------------------------------------------------------------------------

  function readProp(win, name) {
    try {
      var v = win && win[name];
      return v && (typeof v === 'object' || typeof v === 'function') ? v : null;
    } catch (e) {
      return null; // cross-origin frame
    }
  }

  function parentOf(win) {
    try {
      var p = win.parent;
      return p && p !== win ? p : null;
    } catch (e) {
      return null;
    }
  }

  function openerOf(win) {
    try {
      return win.opener || null;
    } catch (e) {
      return null;
    }
  }

  /** Windows to search, in order: this window, its parents, then the opener and its parents. */
  function candidateWindows(win) {
    var out = [];
    var add = function (start) {
      var w = start;
      for (var i = 0; w && i <= MAX_PARENT_LEVELS; i++) {
        if (out.indexOf(w) < 0) out.push(w);
        w = parentOf(w);
      }
    };
    add(win);
    var top = out[out.length - 1];
    var opener = openerOf(win) || (top && openerOf(top));
    if (opener) add(opener);
    return out;
  }

  /**
   * Finds the LMS API: `API_1484_11` (SCORM 2004) anywhere in the window tree first, then
   * `API` (SCORM 1.2). Returns {version: '2004'|'1.2', api} or null.
   */
  function findAPI(win) {
    var wins = candidateWindows(win);
    var i;
    var api;
    for (i = 0; i < wins.length; i++) {
      api = readProp(wins[i], 'API_1484_11');
      if (api && typeof api.Initialize === 'function') return { version: '2004', api: api };
    }
    for (i = 0; i < wins.length; i++) {
      api = readProp(wins[i], 'API');
      if (api && typeof api.LMSInitialize === 'function') return { version: '1.2', api: api };
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // Backends: where progress goes
  // ---------------------------------------------------------------------------------------------
  //
  // The session page (Runtime) and the course player (Player) never ask which environment they
  // run in: each picks one backend when it starts (sessionBackend, courseBackend) and then only
  // calls it. One unit per environment:
  //   scorm12Backend   SCORM 1.2, the LMS's `API` (scorm12Model)
  //   scorm2004Backend SCORM 2004, the LMS's `API_1484_11` (scorm2004Model)
  //   hostBackend      a session page inside the course player (course.html), which owns the
  //                    one SCO and lends its pages `coursepackHost` (hostModel, Player.host)
  //   ltiBackend       the LTI tool: the state is posted as JSON to the endpoint in #cp-lti
  //   cmi5Backend      a cmi5 assignable unit: xAPI statements and state to the LMS's LRS
  //                    (its page carries #cp-cmi5; cmi5Prepare reads the launch first)
  //   localBackend     a browser alone: nothing beyond the page's own localStorage copy
  // The first three speak the SCORM data model, so they share its rules (dataModelBackend) and
  // differ only in their model. A new environment (cmi5, a preview LMS) is one new unit: a
  // model for dataModelBackend when it speaks the SCORM data model, else a backend of its own;
  // then one line in sessionBackend and/or courseBackend.
  //
  // What every backend implements. No method throws or waits for the network, so the learner
  // never waits for one; a failed session write is retried by the backend itself, a failed
  // course write by the player (saveCourse's `again`).
  //   mode             the environment's name, as coursepackRuntime.mode reports it:
  //                    'scorm12', 'scorm2004', 'course', 'lti', 'cmi5', 'local'
  //   ownsFrame        true when the page is a SCO of its own in the LMS's frame: a link that
  //                    loads another page of the course there would break tracking (bindNav)
  //   open(snapshot)   takes the page; false leaves it to the next backend. `snapshot()` gives
  //                    what a session save writes, read afresh at each write: {state, location,
  //                    progress, score (sessionScore), elapsed (ms on the page)}
  //   restore(local)   the session as the environment kept it: {state (or null), location,
  //                    readOnly (browse/review: nothing is recorded), complete (the
  //                    environment holds it complete)}; `local` is this browser's copy
  //   save(why)        the session changed or must be kept now; the backend decides when to
  //                    write. `why`: 'start' (page opened), 'edit' (may wait), 'complete' (just
  //                    completed), 'submit' (a knowledge check was submitted), 'hide' (page
  //                    hidden), 'leave' (page going away: the last write, with session time)
  //   interaction(it)  records one answer (see interactionValues); false when it is not kept
  //   canNavigate(r)   true when the environment will follow navigation request r ('previous',
  //                    'continue', '{target=<item>}choice')
  //   ended()          true once leave() has ended the session: nothing more is written
  //   leave(request)   ends the session (LMSFinish / Terminate), asking first for navigation
  //                    request `request` when one is given
  // and, for the course player (the course as one SCO):
  //   restoreCourse()  null when the environment keeps no record of the course (the player then
  //                    leaves each session page to its own backend), else {mode, readOnly,
  //                    complete, data (the course's suspend_data, '' when not resumed),
  //                    location, objectives: {objective id: true when completed}}
  //   saveCourse(course, again)  writes the course (Player.prototype.report) and commits;
  //                    `again`: a retry, every value is sent again. True when all was accepted.

  // -- the SCORM API, every call wrapped ----------------------------------------------------------

  function call(api, fn, args) {
    try {
      var r = api[fn].apply(api, args || []);
      return r === true || r === 'true';
    } catch (e) {
      warn('coursepack: ' + fn + ' threw', e);
      return false;
    }
  }

  function get(api, fn, el) {
    try {
      var r = api[fn](el);
      return r == null ? '' : String(r);
    } catch (e) {
      return '';
    }
  }

  /** The calls both SCORM versions share, under the version's function names. */
  function scormApi(api, names, version) {
    var last = {}; // values already accepted by the LMS, to avoid resending them
    var m = {
      initialize: function () { return call(api, names.init, ['']); },
      finish: function () { return call(api, names.fin, ['']); },
      commit: function () { return call(api, names.commit, ['']); },
      get: function (name) { return get(api, names.get, name); },
      set: function (name, value) {
        var v = String(value);
        if (last[name] === v) return true;
        var ok = call(api, names.set, [name, v]);
        if (ok) last[name] = v; else delete last[name];
        return ok;
      },
      /** SetValue every time: for requests, where the same value twice means twice. */
      setNow: function (name, value) { return call(api, names.set, [name, value]); },
      forget: function () { last = {}; },
      /** Appends one interaction record (see interactionValues). */
      interaction: function (it) {
        var n = parseInt(m.get('cmi.interactions._count'), 10) || 0;
        var ok = true;
        interactionValues(version, it).forEach(function (kv) {
          ok = m.setNow('cmi.interactions.' + n + '.' + kv[0], kv[1]) && ok;
        });
        return ok;
      }
    };
    return m;
  }

  // -- data models: what dataModelBackend needs of one ------------------------------------------
  //
  //   mode, ownsFrame      as the backend reports them
  //   initialize(), finish(), commit(), get(name), set(name, value) (skips a value already
  //   accepted), forget() (send everything again), interaction(it), navValid(request) ->
  //   'true'|'false', navRequest(request)
  //   el                   element names: entry, status, mode, location, suspend, time, exit,
  //                        score (a prefix), and progress and success where the model has them
  //   suspendLimit, locationLimit, formatTime(ms), completedValues (statuses that mean done)
  //   oneStatus            the status element also carries passed/failed (SCORM 1.2)
  //   browseStatus         the status a browse-mode launch reports, or null
  //   resumeAlways         suspend_data and location are read on every launch, not only when
  //                        the entry is `resume` (SCORM 2004 reports an error for reading a
  //                        value never set)
  //   objectiveStatus      the element of an objective that says it is done
  //   writeScore(prefix, raw, max), writeObjective(prefix, objective) (see saveCourse)

  function scorm12Model(api) {
    var m = scormApi(api, { init: 'LMSInitialize', fin: 'LMSFinish', get: 'LMSGetValue', set: 'LMSSetValue',
      commit: 'LMSCommit' }, '1.2');
    m.mode = 'scorm12';
    m.ownsFrame = true;
    m.el = { entry: 'cmi.core.entry', status: 'cmi.core.lesson_status', mode: 'cmi.core.lesson_mode',
      location: 'cmi.core.lesson_location', suspend: 'cmi.suspend_data', time: 'cmi.core.session_time',
      exit: 'cmi.core.exit', score: 'cmi.core.score.' };
    m.suspendLimit = SUSPEND_LIMIT_12;
    m.locationLimit = LOCATION_LIMIT_12;
    m.formatTime = formatTime12;
    m.completedValues = ['completed', 'passed'];
    m.oneStatus = true;
    // SCORM 1.2 defines `browsed` for browse mode (an LMS may otherwise mark an untouched SCO
    // completed).
    m.browseStatus = 'browsed';
    m.resumeAlways = true;
    m.objectiveStatus = 'status';
    m.writeScore = function (prefix, raw, max) { return setScore(m, prefix, true, raw, max); };
    m.writeObjective = function (pre, o) {
      var st = o.success === 'passed' || o.success === 'failed' ? o.success
        : (o.complete ? 'completed' : (o.started ? 'incomplete' : 'not attempted'));
      var ok = m.set(pre + 'status', st);
      if (o.scored) ok = m.writeScore(pre + 'score.', o.raw, o.max) && ok;
      return ok;
    };
    // SCORM 1.2 has no navigation requests.
    m.navValid = function () { return 'false'; };
    m.navRequest = function () { return false; };
    return m;
  }

  function scorm2004Model(api) {
    var m = scormApi(api, { init: 'Initialize', fin: 'Terminate', get: 'GetValue', set: 'SetValue',
      commit: 'Commit' }, '2004');
    m.mode = 'scorm2004';
    m.ownsFrame = true;
    m.el = { entry: 'cmi.entry', status: 'cmi.completion_status', mode: 'cmi.mode', location: 'cmi.location',
      suspend: 'cmi.suspend_data', time: 'cmi.session_time', exit: 'cmi.exit', progress: 'cmi.progress_measure',
      score: 'cmi.score.', success: 'cmi.success_status' };
    m.suspendLimit = SUSPEND_LIMIT_2004;
    m.locationLimit = LOCATION_LIMIT_2004;
    m.formatTime = formatTime2004;
    m.completedValues = ['completed'];
    m.oneStatus = false;
    m.browseStatus = null;
    m.resumeAlways = false;
    m.objectiveStatus = 'completion_status';
    m.writeScore = function (prefix, raw, max) { return setScore(m, prefix, false, raw, max); };
    m.writeObjective = function (pre, o) {
      var ok = m.set(pre + 'completion_status', o.complete ? 'completed' : (o.started ? 'incomplete' : 'not attempted'));
      var p = o.complete ? 1 : Math.max(0, Math.min(1, o.progress || 0));
      ok = m.set(pre + 'progress_measure', String(share(p, 1))) && ok;
      if (o.scored) ok = m.writeScore(pre + 'score.', o.raw, o.max) && ok;
      if (o.success === 'passed' || o.success === 'failed') ok = m.set(pre + 'success_status', o.success) && ok;
      return ok;
    };
    /** 'true' when the LMS will honour this navigation request. */
    m.navValid = function (request) {
      var r = /^\{target=([^}]*)\}choice$/.exec(request);
      return m.get(r ? 'adl.nav.request_valid.choice.{target=' + r[1] + '}' : 'adl.nav.request_valid.' + request);
    };
    /** Asks the LMS to navigate once this SCO terminates. */
    m.navRequest = function (request) { return m.setNow('adl.nav.request', request); };
    return m;
  }

  /**
   * A session page inside the course player talks to the player (`coursepackHost` on its
   * parent window, see Player.prototype.host) through the SCORM 2004 rules under short names;
   * the player owns the one SCO and keeps each session's state.
   */
  function hostModel(host, session) {
    var wrap = function (fn, fallback) {
      return function () {
        try {
          return fn.apply(null, arguments);
        } catch (e) {
          warn('coursepack: course player call failed', e);
          return fallback;
        }
      };
    };
    var m = {
      mode: 'course',
      // The player's frame shows every page of the course: links stay as they are.
      ownsFrame: false,
      el: { entry: 'entry', status: 'status', mode: 'mode', location: 'location', suspend: 'suspend',
        time: 'time', exit: 'exit', progress: 'progress', score: 'score.', success: 'success' },
      suspendLimit: SUSPEND_LIMIT_2004,
      locationLimit: LOCATION_LIMIT_2004,
      formatTime: formatTime2004,
      completedValues: ['completed'],
      oneStatus: false,
      browseStatus: null,
      resumeAlways: false,
      objectiveStatus: 'status',
      initialize: wrap(function () { return host.attach(session) === true; }, false),
      finish: wrap(function () { return host.detach(session) === true; }, false),
      commit: wrap(function () { return host.commit(session) === true; }, false),
      get: wrap(function (name) { var v = host.get(session, name); return v == null ? '' : String(v); }, ''),
      set: wrap(function (name, value) { return host.set(session, name, String(value)) === true; }, false),
      forget: function () {},
      interaction: wrap(function (it) { return host.interaction(session, it) === true; }, false),
      navValid: function () { return 'false'; },
      navRequest: function () { return false; },
      // A player is never inside another player: the course's record is not the host's.
      writeObjective: function () { return false; }
    };
    m.writeScore = function (prefix, raw, max) { return setScore(m, prefix, false, raw, max); };
    return m;
  }

  // -- the SCORM data model's rules, for any model --------------------------------------------

  /**
   * Runs `again` later on behalf of `owner` (a backend's timers, or the Player: its retryTimer,
   * retryIndex, finished and win): one pending retry at a time, with growing delays.
   */
  function retryLater(owner, again) {
    if (owner.retryTimer || owner.finished) return;
    var delay = RETRY_DELAYS[Math.min(owner.retryIndex, RETRY_DELAYS.length - 1)];
    owner.retryIndex++;
    owner.retryTimer = owner.win.setTimeout(safe(function () {
      owner.retryTimer = null;
      if (!owner.finished) again();
    }), delay);
  }

  function dataModelBackend(m, win) {
    var el = m.el;
    var snapshot = null;
    // Timers and the retry count, in the shape retryLater expects.
    var t = { win: win, finished: false, retryTimer: null, retryIndex: 0, syncTimer: null, commitTimer: null };
    // What the LMS holds: launch mode, status, success, whether it has a state to keep.
    var lms = { mode: '', status: '', success: '', hasState: false, complete: false, readOnly: false };
    var objectives = { index: {}, next: 0 };
    var done = function (status) { return m.completedValues.indexOf(status) >= 0; };

    // Always `suspend`: an LMS keeps the data model for the next launch only after a suspend
    // (SCORM 2004 RTE 4.2.8; Moodle follows it), so a completed session comes back completed,
    // with its answers.
    var EXIT = 'suspend';

    /** Sends the session's state (SetValue only; Commit is separate). */
    function sync() {
      if (t.finished) return true;
      if (t.syncTimer) {
        win.clearTimeout(t.syncTimer);
        t.syncTimer = null;
      }
      var ok = true;
      if (lms.readOnly) {
        // Browse (preview) and review never grade; review writes nothing.
        if (lms.mode === 'browse' && m.browseStatus && !lms.complete &&
            (lms.status === '' || lms.status === 'not attempted' || lms.status === m.browseStatus)) {
          ok = m.set(el.status, m.browseStatus);
        }
        if (!ok) scheduleRetry();
        return ok;
      }
      var snap = snapshot();
      var state = snap.state;
      var complete = state.c || lms.complete;
      var sc = snap.score;
      // One status for both (SCORM 1.2): passed/failed once a pass mark applies.
      var judged = m.oneStatus && sc.passed !== null;
      if (judged) {
        if (lms.status !== 'passed') {
          var verdict = sc.passed ? 'passed' : 'failed';
          ok = m.set(el.status, verdict) && ok;
          if (ok) lms.status = verdict;
        }
        if (complete && ok) lms.complete = true;
      } else if (complete) {
        // Never rewrite a status the LMS already holds as complete (e.g. `passed`).
        if (!done(lms.status)) {
          ok = m.set(el.status, 'completed') && ok;
          if (ok) lms.status = 'completed';
        }
        if (el.progress) ok = m.set(el.progress, '1') && ok;
        if (ok) lms.complete = true;
      } else if (!done(lms.status)) {
        ok = m.set(el.status, 'incomplete') && ok;
        if (el.progress) ok = m.set(el.progress, String(snap.progress)) && ok;
      }
      if (sc.any && sc.scored) {
        ok = m.writeScore(el.score, sc.raw, sc.max) && ok;
        // SCORM 2004 (and the player) keep passed/failed apart from completion.
        if (el.success && sc.passed !== null && lms.success !== 'passed') {
          var success = sc.passed ? 'passed' : 'failed';
          ok = m.set(el.success, success) && ok;
          if (ok) lms.success = success;
        }
      }
      ok = m.set(el.exit, EXIT) && ok;
      var enc = encodeState(state, m.suspendLimit);
      // An empty state never overwrites what the LMS holds.
      if (enc.data !== '{}' || lms.hasState) {
        ok = m.set(el.suspend, enc.data) && ok;
        if (ok && enc.data !== '{}') lms.hasState = true;
      }
      if (snap.location) ok = m.set(el.location, cut(snap.location, m.locationLimit)) && ok;
      if (!ok) scheduleRetry();
      return ok;
    }

    function commit() {
      if (t.finished) return false;
      if (t.commitTimer) {
        win.clearTimeout(t.commitTimer);
        t.commitTimer = null;
      }
      var ok = m.commit();
      if (ok) {
        t.retryIndex = 0;
        if (t.retryTimer) {
          win.clearTimeout(t.retryTimer);
          t.retryTimer = null;
        }
      } else {
        scheduleRetry();
      }
      return ok;
    }

    function scheduleRetry() {
      retryLater(t, function () {
        // Values that failed may not have been stored: send everything again.
        m.forget();
        sync();
        commit();
      });
    }

    function objective(id) {
      if (!hasOwn(objectives.index, id)) {
        var n = objectives.next++;
        if (!m.set('cmi.objectives.' + n + '.id', id)) {
          objectives.next--;
          return -1;
        }
        objectives.index[id] = n;
      }
      return objectives.index[id];
    }

    /** Reads the launch: its mode, status and, on a resume, what was kept. */
    function launch() {
      var entry = m.get(el.entry);
      lms.mode = m.get(el.mode);
      lms.readOnly = lms.mode === 'review' || lms.mode === 'browse';
      lms.status = m.get(el.status);
      lms.complete = done(lms.status);
      return m.resumeAlways || entry === 'resume';
    }

    return {
      mode: m.mode,
      ownsFrame: m.ownsFrame,
      open: function (snap) {
        snapshot = snap;
        return m.initialize();
      },
      restore: function (local) {
        var resumed = launch();
        if (el.success) lms.success = m.get(el.success);
        var state = null;
        var location = '';
        if (resumed) {
          var raw = m.get(el.suspend);
          lms.hasState = raw !== '' && raw !== '{}';
          state = decodeState(raw);
          location = m.get(el.location);
        }
        if (state) {
          state = mergeLocalAnswers(state, local);
          // Completion never goes back, whichever copy knew it.
          if (local && local.c && !lms.readOnly) state.c = true;
        } else if (local && lms.mode !== 'browse') {
          // The LMS handed back nothing (a new attempt, or an LMS that dropped the data model)
          // but this browser remembers the learner's work: restore it and write it back.
          state = local;
          if (local.l) location = local.l;
        }
        return { state: state, location: location, readOnly: lms.readOnly, complete: lms.complete };
      },
      save: function (why) {
        if (why === 'edit') {
          if (t.syncTimer) win.clearTimeout(t.syncTimer);
          t.syncTimer = win.setTimeout(safe(function () { t.syncTimer = null; sync(); }), 1000);
          // Save to the LMS now and then, not on every keystroke.
          if (!t.commitTimer) {
            t.commitTimer = win.setTimeout(safe(function () {
              t.commitTimer = null;
              sync();
              commit();
            }), 15000);
          }
          return;
        }
        if (t.finished) return;
        // Session time only right before the final commit, so LMSs that add it to the total
        // on every commit do not count time twice.
        if (why === 'leave' && !lms.readOnly) m.set(el.time, m.formatTime(snapshot().elapsed));
        sync();
        commit();
      },
      interaction: function (it) { return m.interaction(it); },
      canNavigate: function (request) { return m.navValid(request) === 'true'; },
      ended: function () { return t.finished; },
      leave: function (request) {
        if (t.finished) return;
        if (request) m.navRequest(request);
        m.finish();
        t.finished = true;
        ['retryTimer', 'syncTimer', 'commitTimer'].forEach(function (k) {
          if (t[k]) win.clearTimeout(t[k]);
          t[k] = null;
        });
      },
      restoreCourse: function () {
        var resumed = launch();
        var kept = { mode: lms.mode, readOnly: lms.readOnly, complete: lms.complete, data: '', location: '', objectives: {} };
        if (resumed) {
          kept.data = m.get(el.suspend);
          kept.location = m.get(el.location);
        }
        // The LMS's own record of each session, kept even where suspend_data is not.
        var count = parseInt(m.get('cmi.objectives._count'), 10) || 0;
        for (var i = 0; i < count; i++) {
          var id = m.get('cmi.objectives.' + i + '.id');
          objectives.index[id] = i;
          var st = m.get('cmi.objectives.' + i + '.' + m.objectiveStatus);
          kept.objectives[id] = kept.objectives[id] === true || st === 'completed' || st === 'passed';
        }
        objectives.next = count;
        return kept;
      },
      saveCourse: function (course, again) {
        if (again) m.forget();
        if (course.elapsed != null && !lms.readOnly) m.set(el.time, m.formatTime(course.elapsed));
        var ok = true;
        if (lms.readOnly) {
          if (lms.mode === 'browse' && m.browseStatus && !done(lms.status)) ok = m.set(el.status, m.browseStatus);
          return m.commit() && ok;
        }
        course.sessions.forEach(function (o) {
          var n = objective(o.objective);
          if (n < 0) {
            ok = false;
            return;
          }
          ok = m.writeObjective('cmi.objectives.' + n + '.', o) && ok;
        });
        // The course's score: right answers over questions across every scored session. The
        // course is passed when every session with a pass mark passed, failed once all of
        // them are judged and one failed.
        var scoreOk = true;
        var judged = course.withMark && course.judged === course.withMark;
        if (course.max) {
          scoreOk = m.writeScore(el.score, course.raw, course.max);
          if (m.oneStatus) {
            if (judged && lms.status !== 'passed') {
              var verdict = course.passed === course.withMark ? 'passed' : 'failed';
              if (verdict === 'passed' || course.done === course.total) {
                scoreOk = m.set(el.status, verdict) && scoreOk;
                if (scoreOk) lms.status = verdict;
              }
            }
          } else if (judged) {
            scoreOk = m.set(el.success, course.passed === course.withMark ? 'passed' : 'failed') && scoreOk;
          }
        }
        ok = scoreOk && ok;
        if (m.oneStatus && lms.status === 'failed') {
          // Judged by the pass marks (above); a later pass replaces it.
        } else if (course.done === course.total && course.total > 0) {
          if (!done(lms.status)) {
            ok = m.set(el.status, 'completed') && ok;
            if (ok) lms.status = 'completed';
          }
        } else if (!done(lms.status)) {
          ok = m.set(el.status, 'incomplete') && ok;
        }
        if (el.progress) {
          ok = m.set(el.progress, String(course.total ? share(course.done, course.total) : 1)) && ok;
        }
        ok = m.set(el.exit, EXIT) && ok;
        ok = m.set(el.suspend, course.data(m.suspendLimit)) && ok;
        if (course.location) ok = m.set(el.location, cut(course.location, m.locationLimit)) && ok;
        return m.commit() && ok;
      }
    };
  }

  function scorm12Backend(api, win) {
    return dataModelBackend(scorm12Model(api), win);
  }

  function scorm2004Backend(api, win) {
    return dataModelBackend(scorm2004Model(api), win);
  }

  function hostBackend(host, session, win) {
    return dataModelBackend(hostModel(host, session), win);
  }

  // -- the LTI tool ---------------------------------------------------------------------------

  /**
   * The LTI tool gives the page an endpoint and a token (#cp-lti, or `coursepackLti`) and
   * takes the whole state as JSON; it grades from it. Returns null without them.
   */
  function ltiBackend(win, doc, cfg) {
    var lti = readJSONIsland(doc, 'cp-lti') || win.coursepackLti;
    if (!lti || typeof lti.endpoint !== 'string' || typeof lti.token !== 'string') return null;
    var endpoint = lti.endpoint;
    var token = lti.token;
    // The tool's copy of this learner's state, for a learner on another device.
    var saved = lti.state && typeof lti.state === 'object' ? lti.state : null;
    var snapshot = null;
    var q = { timer: null, pending: false, again: false, failures: 0 };

    /** delay: ms to debounce; 0 = now; -1 = now, the page is going away (keepalive request). */
    function send(delay) {
      if (q.timer) {
        win.clearTimeout(q.timer);
        q.timer = null;
      }
      if (delay > 0) {
        q.timer = win.setTimeout(safe(function () { q.timer = null; send(0); }), delay);
        return;
      }
      if (q.pending && delay === 0) {
        q.again = true;
        return;
      }
      var snap = snapshot();
      var body = { session: cfg.session, state: JSON.parse(serialise(snap.state)), completed: !!snap.state.c };
      var sc = snap.score;
      if (sc.any && sc.scored) body.score = { raw: sc.raw, max: sc.max, passed: sc.passed };
      var payload = JSON.stringify(body);
      if (typeof win.fetch !== 'function') return;
      q.pending = true;
      var done = function (ok) {
        q.pending = false;
        if (!ok) {
          q.failures++;
          var d = RETRY_DELAYS[Math.min(q.failures - 1, RETRY_DELAYS.length - 1)];
          q.timer = win.setTimeout(safe(function () { q.timer = null; send(0); }), d);
        } else {
          q.failures = 0;
          if (q.again) {
            q.again = false;
            send(0);
          }
        }
      };
      try {
        win.fetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token },
          body: payload,
          keepalive: delay < 0,
          credentials: 'omit'
        }).then(function (res) { done(!!res && res.ok); }, function () { done(false); });
      } catch (e) {
        done(false);
      }
    }

    return {
      mode: 'lti',
      ownsFrame: false,
      open: function (snap) {
        snapshot = snap;
        return true;
      },
      restore: function (local) {
        // This browser's copy is the newest; the tool's copy serves a new device.
        var state = local || (saved ? normaliseState(saved) : null);
        return { state: state, location: state && state.l ? state.l : '', readOnly: false, complete: false };
      },
      save: function (why) {
        // One request for a burst of changes; at once when it counts or the page goes away.
        if (why === 'hide' || why === 'leave') send(-1);
        else if (why === 'complete' || why === 'submit') send(0);
        else send(2000);
      },
      interaction: function () { return false; },
      canNavigate: function () { return false; },
      // The page keeps saving after a pagehide: it may come back from the back-forward cache.
      ended: function () { return false; },
      leave: function () {},
      restoreCourse: function () { return null; },
      saveCourse: function () { return false; }
    };
  }

  // -- no environment: this browser only --------------------------------------------------------

  /** The page's own localStorage copy (Runtime.writeLocal) is all there is. */
  function localBackend() {
    return {
      mode: 'local',
      ownsFrame: false,
      open: function () { return true; },
      restore: function (local) {
        return { state: local, location: local && local.l ? local.l : '', readOnly: false, complete: false };
      },
      save: function () {},
      interaction: function () { return false; },
      canNavigate: function () { return false; },
      ended: function () { return false; },
      leave: function () {},
      restoreCourse: function () { return null; },
      saveCourse: function () { return false; }
    };
  }

  // -- cmi5: an assignable unit reporting xAPI statements to the LMS's LRS ---------------------
  //
  // A page of a cmi5 package carries the `cp-cmi5` island ({au: the AU's IRI in cmi5.xml}). Before
  // the page starts, cmi5Prepare reads the launch (cmi5 8.1: endpoint, fetch, actor, registration,
  // activityId), POSTs once to `fetch` for the auth token (8.2), reads the LMS.LaunchData state
  // (10), the cmi5LearnerPreferences agent profile (11) and the learner's own state, and sends
  // `initialized`; the page then starts on cmi5Backend. The learner's state is the State API
  // document CMI5_STATE under the AU's activity id and registration; LMS.LaunchData is never
  // written. Statements are sent one at a time, in order; `terminated` is the last.

  var XAPI_VERSION = '1.0.3';
  var CMI5_STATE = 'coursepack.state';
  var VERB = 'http://adlnet.gov/expapi/verbs/';
  var CMI5_CATEGORY = 'https://w3id.org/xapi/cmi5/context/categories/cmi5';
  var MOVEON_CATEGORY = 'https://w3id.org/xapi/cmi5/context/categories/moveon';
  var MASTERY_EXT = 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore';
  // What the page says when the LMS refused the launch (8.2.3.2 error codes): catalogue keys.
  var CMI5_ERRORS = { '1': 'cmi5_used', '2': 'cmi5_security', '3': 'cmi5_lms_error' };

  /** The launch parameters of the page's address, or null when one is missing. */
  function cmi5Params(win) {
    var q;
    try {
      q = new URLSearchParams(win.location.search);
    } catch (e) {
      return null;
    }
    var p = { endpoint: q.get('endpoint'), fetch: q.get('fetch'), registration: q.get('registration'),
      activityId: q.get('activityId'), actor: null };
    try {
      p.actor = JSON.parse(q.get('actor') || 'null');
    } catch (e) {
      p.actor = null;
    }
    if (!p.endpoint || !p.fetch || !p.registration || !p.activityId || !p.actor || typeof p.actor !== 'object') return null;
    if (p.endpoint.charAt(p.endpoint.length - 1) !== '/') p.endpoint += '/';
    return p;
  }

  /** A version 4 UUID for a statement id (cmi5 9.1). */
  function uuid(win) {
    var c = win && win.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    var b = [];
    for (var i = 0; i < 16; i++) b.push(Math.floor(Math.random() * 256));
    if (c && typeof c.getRandomValues === 'function') b = Array.prototype.slice.call(c.getRandomValues(new Uint8Array(16)));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = b.map(function (x) { return (x < 16 ? '0' : '') + x.toString(16); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /** Shows a notice at the top of the page's main content (the launch failed, or ended). */
  function cmi5Notice(doc, text) {
    try {
      var node = doc.querySelector('[data-cp-cmi5-notice]');
      if (!node) {
        node = doc.createElement('p');
        node.setAttribute('data-cp-cmi5-notice', '');
        node.setAttribute('role', 'alert');
        node.className = 'cp-preview';
        var main = doc.querySelector('main') || doc.body;
        main.insertBefore(node, main.firstChild);
      }
      node.textContent = text;
    } catch (e) { /* no document to tell */ }
  }

  /** One xAPI request: a promise of the response, or of null when the network failed. */
  function xapi(win, launch, method, path, body, keepalive) {
    var headers = { 'X-Experience-API-Version': XAPI_VERSION, 'Authorization': 'Basic ' + launch.token };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return win.fetch(launch.endpoint + path, {
        method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
        keepalive: !!keepalive, credentials: 'omit', cache: 'no-store'
      }).then(function (res) { return res; }, function () { return null; });
    } catch (e) {
      return Promise.resolve(null);
    }
  }

  function query(params) {
    return Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]);
    }).join('&');
  }

  /** The State API address of document `stateId` of this AU and registration. */
  function statePath(launch, stateId) {
    return 'activities/state?' + query({ stateId: stateId, activityId: launch.activityId,
      agent: JSON.stringify(launch.actor), registration: launch.registration });
  }

  /** A GET of a JSON document: its value, null when there is none (404), or a rejection. */
  function getDocument(win, launch, path) {
    return xapi(win, launch, 'GET', path).then(function (res) {
      if (res && res.status === 404) return null;
      if (!res || !res.ok) throw new Error('xAPI GET ' + path + ': ' + (res ? res.status : 'network'));
      return res.text().then(function (t) { return t ? JSON.parse(t) : null; });
    });
  }

  /**
   * Reads the launch and sends `initialized`; calls `start` once, whatever happens: with the
   * launch on `win.coursepackCmi5` when it succeeded, without it (and a notice on the page saying
   * why) when it did not. Returns false when the page is not a cmi5 AU (`start` is then not called).
   */
  function cmi5Prepare(win, doc, start) {
    var island = readJSONIsland(doc, 'cp-cmi5');
    if (!island) return false;
    var started = false;
    var go = safe(function () {
      if (started) return;
      started = true;
      start();
    });
    var p = cmi5Params(win);
    if (!p || typeof win.fetch !== 'function') {
      cmi5Notice(doc, tr('cmi5_no_launch'));
      go();
      return true;
    }
    var launch = { endpoint: p.endpoint, actor: p.actor, registration: p.registration, activityId: p.activityId,
      au: typeof island.au === 'string' ? island.au : p.activityId, token: '', data: {}, prefs: null, kept: null,
      startedAt: Date.now() };
    var fail = function (text) {
      cmi5Notice(doc, text);
      go();
    };
    var request;
    try {
      // POST, never GET (cmi5 8.2.1), once.
      request = win.fetch(p.fetch, { method: 'POST', credentials: 'omit', cache: 'no-store' });
    } catch (e) {
      fail(tr('cmi5_unreachable'));
      return true;
    }
    request.then(function (res) {
      if (!res || !res.ok) throw new Error('fetch ' + (res ? res.status : 'network'));
      return res.json();
    }).then(function (body) {
      if (body && typeof body['auth-token'] === 'string' && body['auth-token']) {
        launch.token = body['auth-token'];
        return Promise.all([
          getDocument(win, launch, statePath(launch, 'LMS.LaunchData')),
          getDocument(win, launch, 'agents/profile?' + query({ agent: JSON.stringify(launch.actor),
            profileId: 'cmi5LearnerPreferences' })).catch(function () { return null; }),
          getDocument(win, launch, statePath(launch, CMI5_STATE))
        ]).then(function (docs) {
          if (!docs[0] || typeof docs[0] !== 'object') throw new Error('no LMS.LaunchData');
          launch.data = docs[0];
          launch.prefs = docs[1];
          launch.kept = docs[2] && typeof docs[2] === 'object' ? docs[2] : null;
          try {
            win.coursepackCmi5 = launch;
          } catch (e) { /* read-only window */ }
          go();
        }, function (e) {
          warn('coursepack: cmi5 launch data could not be read', e);
          fail(tr('cmi5_unreachable'));
        });
      }
      var code = body && body['error-code'] != null ? String(body['error-code']) : '3';
      warn('coursepack: cmi5 fetch refused: ' + code + ' ' + (body && body['error-text'] || ''));
      fail(tr(CMI5_ERRORS[code] || CMI5_ERRORS['3']));
    }).catch(function (e) {
      warn('coursepack: cmi5 fetch failed', e);
      fail(tr('cmi5_unreachable'));
    });
    return true;
  }

  /**
   * The statement sender and judge of one AU session, for a session page (snapshot) or the
   * course player (saveCourse). `launch` is what cmi5Prepare read.
   */
  function cmi5Backend(win, doc, launch) {
    var data = launch.data;
    var mode = data.launchMode === 'Browse' || data.launchMode === 'Review' ? data.launchMode : 'Normal';
    var readOnly = mode !== 'Normal';
    var mastery = typeof data.masteryScore === 'number' ? data.masteryScore : null;
    var kept = launch.kept || {};
    // What this registration has already been sent (completed and passed go once per
    // registration), and what this session has: one of passed/failed (cmi5 9.3).
    var sent = { completed: !!kept.completed, passed: !!kept.passed };
    var session = { judged: false };
    // Statements wait in `queue` and go one at a time, in order.
    var q = { queue: [], inflight: 0, finals: 0, failures: 0, timer: null };
    var st = { timer: null, busy: false, again: false, failures: 0 };
    var finished = false;
    var snapshot = null;
    // Whether the learner's last check failed (sent at the end unless passed by then).
    var failing = null;
    var lastState = null;

    function context(defined, moveOn, extra) {
      var ctx = JSON.parse(JSON.stringify(data.contextTemplate || {}));
      ctx.registration = launch.registration;
      var acts = ctx.contextActivities = ctx.contextActivities || {};
      if (defined || moveOn) {
        var cat = acts.category = Array.isArray(acts.category) ? acts.category : (acts.category ? [acts.category] : []);
        if (defined) cat.push({ id: CMI5_CATEGORY, objectType: 'Activity' });
        if (moveOn) cat.push({ id: MOVEON_CATEGORY, objectType: 'Activity' });
      }
      if (extra) {
        ctx.extensions = ctx.extensions || {};
        Object.keys(extra).forEach(function (k) { if (!hasOwn(ctx.extensions, k)) ctx.extensions[k] = extra[k]; });
      }
      return ctx;
    }

    function statement(verb, object, result, ctx) {
      var s = { id: uuid(win), timestamp: new Date().toISOString(), actor: launch.actor,
        verb: { id: VERB + verb, display: { 'en-US': verb } }, object: object, context: ctx };
      if (result) s.result = result;
      return s;
    }

    function auObject() {
      return { id: launch.activityId, objectType: 'Activity' };
    }

    /** A cmi5 defined statement about the AU. */
    function defined(verb, result, extra) {
      var moveOn = !!result && (hasOwn(result, 'success') || hasOwn(result, 'completion'));
      return statement(verb, auObject(), result, context(true, moveOn, extra));
    }

    function pump(final) {
      if (final) {
        // The page may be going away: whatever is not already on its way goes now, in order,
        // in one request that outlives the page.
        // A statement still on its way goes again: the LRS keeps one copy of an id (xAPI).
        var rest = q.queue.splice(0, q.queue.length);
        if (!rest.length) return;
        q.finals++;
        xapi(win, launch, 'POST', 'statements', rest, true).then(function () { q.finals--; });
        return;
      }
      if (q.inflight || !q.queue.length) return;
      if (q.timer) {
        win.clearTimeout(q.timer);
        q.timer = null;
      }
      q.inflight = 1;
      var one = q.queue[0];
      xapi(win, launch, 'POST', 'statements', [one], false).then(function (res) {
        q.inflight = 0;
        // 409: already stored (a retry of a request that arrived).
        if (res && (res.ok || res.status === 409)) {
          q.failures = 0;
          var at = q.queue.indexOf(one);
          if (at >= 0) q.queue.splice(at, 1);
          pump(false);
        } else {
          var d = RETRY_DELAYS[Math.min(q.failures++, RETRY_DELAYS.length - 1)];
          q.timer = win.setTimeout(safe(function () { q.timer = null; pump(false); }), d);
        }
      });
    }

    /** Queues a statement; `final`: send the queue now, in one request that outlives the page. */
    function send(s, final) {
      q.queue.push(s);
      pump(final);
    }

    /** Writes the learner's state document (never LMS.LaunchData). */
    function putState(value, keepalive) {
      if (readOnly) return;
      lastState = value;
      if (st.busy && !keepalive) {
        st.again = true;
        return;
      }
      st.busy = true;
      xapi(win, launch, 'PUT', statePath(launch, CMI5_STATE), value, keepalive).then(function (res) {
        st.busy = false;
        if (res && res.ok) {
          st.failures = 0;
          if (st.again) {
            st.again = false;
            putState(lastState, false);
          }
        } else if (!finished) {
          var d = RETRY_DELAYS[Math.min(st.failures++, RETRY_DELAYS.length - 1)];
          win.setTimeout(safe(function () { putState(lastState, false); }), d);
        }
      });
    }

    function elapsed() {
      return formatTime2004(Date.now() - launch.startedAt);
    }

    /** The verdict and result of a score: {passed, result}, by the LMS's masteryScore if given. */
    function judge(raw, max, passedByMark) {
      var scaled = max > 0 ? Math.round((raw / max) * 10000) / 10000 : 1;
      var passed = mastery !== null ? scaled >= mastery : passedByMark;
      return { passed: passed, score: { scaled: scaled, raw: raw, min: 0, max: max } };
    }

    /** Sends what the session's state now earns: completed once, passed once (failed at the end). */
    function report(complete, verdict, keepalive) {
      if (readOnly || finished) return;
      var changed = false;
      if (complete && !sent.completed) {
        sent.completed = true;
        changed = true;
        send(defined('completed', { completion: true, duration: elapsed() }), keepalive);
      }
      if (verdict && verdict.passed === true && !sent.passed && !session.judged) {
        sent.passed = true;
        session.judged = true;
        changed = true;
        failing = null;
        send(defined('passed', { score: verdict.score, success: true, duration: elapsed() },
          mastery !== null ? (function () { var e = {}; e[MASTERY_EXT] = mastery; return e; })() : null), keepalive);
      } else if (verdict && verdict.passed === false && !sent.passed) {
        failing = verdict;
      }
      return changed;
    }

    function sessionVerdict(snap) {
      var sc = snap.score;
      if (!sc.any || !sc.scored) return null;
      if (sc.passed === null && mastery === null) return null;
      return judge(sc.raw, sc.max, sc.passed);
    }

    function saveSession(keepalive) {
      var snap = snapshot();
      report(!!snap.state.c, sessionVerdict(snap), keepalive);
      var o = JSON.parse(serialise(snap.state));
      if (snap.location) o.l = snap.location;
      putState({ state: o, completed: sent.completed, passed: sent.passed }, keepalive);
    }

    function end(keepalive) {
      if (finished) return;
      if (!readOnly && failing && !sent.passed && !session.judged) {
        session.judged = true;
        var e = null;
        if (mastery !== null) {
          e = {};
          e[MASTERY_EXT] = mastery;
        }
        q.queue.push(defined('failed', { score: failing.score, success: false, duration: elapsed() }, e));
      }
      finished = true;
      send(defined('terminated', { duration: elapsed() }), keepalive);
      var back = typeof data.returnURL === 'string' && data.returnURL ? data.returnURL : '';
      // Leave for returnURL once the statements are out (or after a few seconds).
      var waited = 0;
      var check = safe(function () {
        if ((q.inflight || q.finals) && waited < 5000) {
          waited += 100;
          win.setTimeout(check, 100);
          return;
        }
        if (back) win.location.href = back;
        else cmi5Notice(doc, tr('cmi5_ended'));
      });
      check();
    }

    function interaction(it) {
      if (readOnly || finished) return false;
      var def = { type: 'http://adlnet.gov/expapi/activities/cmi.interaction' };
      var lang = (doc.documentElement && doc.documentElement.lang) || 'en';
      if (it.description) {
        def.description = {};
        def.description[lang] = it.description;
      }
      var result = {};
      var choice = it.type === 'single' || it.type === 'multiple';
      if (choice) {
        def.interactionType = 'choice';
        def.choices = (it.options || []).map(function (o) { return { id: o, description: { und: o } }; });
        def.correctResponsesPattern = [(it.correct || []).join('[,]')];
        result.response = (Array.isArray(it.response) ? it.response : []).join('[,]');
      } else if (it.type === 'true-false') {
        def.interactionType = 'true-false';
        def.correctResponsesPattern = [String((it.correct || [])[0])];
        var tf = Array.isArray(it.response) ? it.response[0] : it.response;
        result.response = tf === 'true' ? 'true' : 'false';
      } else if (it.type === 'text') {
        def.interactionType = 'fill-in';
        def.correctResponsesPattern = (it.accept || []).slice(0, 1).map(oneLine);
        result.response = oneLine(it.response);
      } else {
        def.interactionType = 'long-fill-in';
        result.response = String(it.response || '');
      }
      if (it.result === true || it.result === false) result.success = it.result;
      if (isFinite(it.latency) && it.latency >= 0) result.duration = formatTime2004(it.latency);
      var object = { id: launch.au + '/' + encodeURIComponent(it.id), objectType: 'Activity', definition: def };
      var ctx = context(false, false, null);
      ctx.contextActivities.parent = [auObject()];
      send(statement('answered', object, result, ctx), false);
      return true;
    }

    // `initialized` first, before anything the page may send (cmi5 7.1.1).
    send(defined('initialized', null, null), false);

    return {
      mode: 'cmi5',
      // The page is the AU: another page of the course in its frame would not be launched.
      ownsFrame: true,
      open: function (snap) {
        snapshot = snap;
        return true;
      },
      restore: function () {
        // A new registration starts fresh: this browser's copy may be another registration's.
        var state = kept.state && typeof kept.state === 'object' ? kept.state : null;
        return { state: state, location: state && typeof state.l === 'string' ? state.l : '', readOnly: readOnly,
          complete: !!kept.completed };
      },
      save: function (why) {
        if (finished || readOnly) return;
        if (st.timer) {
          win.clearTimeout(st.timer);
          st.timer = null;
        }
        if (why === 'edit') {
          st.timer = win.setTimeout(safe(function () { st.timer = null; saveSession(false); }), 2000);
          return;
        }
        saveSession(why === 'hide' || why === 'leave');
      },
      interaction: interaction,
      canNavigate: function () { return false; },
      ended: function () { return finished; },
      leave: function () { end(true); },
      restoreCourse: function () {
        return { mode: 'cmi5', readOnly: readOnly, complete: !!kept.completed,
          data: typeof kept.data === 'string' ? kept.data : '', location: typeof kept.location === 'string' ? kept.location : '',
          objectives: {} };
      },
      saveCourse: function (course) {
        if (finished || readOnly) return true;
        var leaving = course.elapsed != null;
        var verdict = null;
        if (course.max && course.withMark && course.judged === course.withMark) {
          verdict = judge(course.raw, course.max, course.passed === course.withMark);
        }
        report(course.total > 0 && course.done === course.total, verdict, leaving);
        putState({ data: course.data(SUSPEND_LIMIT_2004), location: course.location || '', completed: sent.completed,
          passed: sent.passed }, leaving);
        return true;
      }
    };
  }

  /** The AU's backend when cmi5Prepare launched this page, opened; else null. */
  function openCmi5(win, doc, snapshot) {
    var launch = readProp(win, 'coursepackCmi5');
    if (!launch || !launch.token) return null;
    // The learner's audio preference holds from the start (cmi5 11.2).
    if (launch.prefs && launch.prefs.audioPreference === 'off') {
      var media = doc.querySelectorAll('video, audio');
      for (var i = 0; i < media.length; i++) media[i].muted = true;
    }
    var b = cmi5Backend(win, doc, launch);
    b.open(snapshot);
    return b;
  }

  /** Adds the AU's Finish button: it ends the session (and returns to the LMS when it says where). */
  function cmi5FinishButton(win, doc, leave) {
    try {
      var main = doc.querySelector('main') || doc.body;
      var p = doc.createElement('p');
      p.className = 'cp-cmi5-finish';
      var button = doc.createElement('button');
      button.type = 'button';
      button.className = 'cp-button';
      button.setAttribute('data-cp-cmi5-finish', '');
      button.textContent = tr('cmi5_finish');
      button.addEventListener('click', safe(function () {
        button.disabled = true;
        leave();
      }));
      p.appendChild(button);
      main.appendChild(p);
    } catch (e) { /* no page to add it to */ }
  }

  // -- choosing one -----------------------------------------------------------------------------

  /** The LMS found in the window tree (findAPI), opened; null when there is none or it refuses. */
  function openScorm(win, snapshot, failed) {
    var found = findAPI(win);
    if (!found) return null;
    var b = found.version === '1.2' ? scorm12Backend(found.api, win) : scorm2004Backend(found.api, win);
    if (b.open(snapshot)) return b;
    warn(failed);
    return null;
  }

  /**
   * The backend of a session page, opened: the course player above it when there is one (it
   * owns the LMS, so the page never looks for one itself), else an LMS, else the LTI tool,
   * else this browser alone.
   */
  function sessionBackend(win, doc, cfg, snapshot) {
    var b = openCmi5(win, doc, snapshot);
    if (b) return b;
    var host = readProp(parentOf(win), 'coursepackHost');
    if (host) {
      if (typeof host.attach === 'function') {
        b = hostBackend(host, cfg.session, win);
        if (!b.open(snapshot)) b = null;
      }
    } else {
      b = openScorm(win, snapshot, 'coursepack: LMS initialise failed; progress is kept in this browser only');
    }
    if (!b) {
      b = ltiBackend(win, doc, cfg);
      if (b && !b.open(snapshot)) b = null;
    }
    if (!b) {
      b = localBackend();
      b.open(snapshot);
    }
    return b;
  }

  /** The backend of the course player, opened: an LMS, else none that keeps the course. */
  function courseBackend(win) {
    var b = openCmi5(win, win.document, null);
    if (b) return b;
    b = openScorm(win, null, 'coursepack: LMS initialise failed; each session keeps its progress in this browser');
    if (b) return b;
    b = localBackend();
    b.open(null);
    return b;
  }

  // ---------------------------------------------------------------------------------------------
  // The course as one SCO: the player page (course.html)
  // ---------------------------------------------------------------------------------------------
  //
  // The player is the SCO. It opens its backend once, shows the overview and the session pages
  // in an inner frame, and keeps each session's state for them (see hostModel). It reports:
  //   - one objective per session (`OBJ-<session>`) carrying that session's completion;
  //   - completion of the whole course when every session is complete, and (2004) the share of
  //     sessions complete as cmi.progress_measure;
  //   - the session last opened as the bookmark, and every session's state in suspend_data as
  //     {"s": {session: state}, "l": {session: bookmark}}, shrunk to the budget session by
  //     session, the sessions that need least first, each with the rule at the top of this file.

  /**
   * Encodes every session's state within `limit` characters. `sessions` maps id ->
   * {state, location}. Each session gets a fair share of what the others leave unused.
   */
  function encodeCourse(sessions, limit) {
    var ids = Object.keys(sessions).sort();
    var full = {};
    var locs = {};
    ids.forEach(function (id) {
      full[id] = serialise(cloneState(normaliseState(sessions[id].state)));
      if (sessions[id].location) locs[id] = sessions[id].location;
    });
    var build = function (parts) {
      var o = { s: {} };
      ids.forEach(function (id) { if (parts[id] !== '{}') o.s[id] = JSON.parse(parts[id]); });
      if (Object.keys(locs).length) o.l = locs;
      return JSON.stringify(o);
    };
    var out = build(full);
    if (out.length <= limit) return out;
    // What the keys and bookmarks cost, and then a share of the rest for each session.
    var empty = {};
    ids.forEach(function (id) { empty[id] = '{}'; });
    var overhead = build(empty).length + ids.length * (8 + 4);
    for (var slack = 0; slack < 8; slack++) {
      var budget = Math.max(0, limit - overhead - slack * 64);
      var order = ids.slice().sort(function (a, b) { return full[a].length - full[b].length || (a < b ? -1 : 1); });
      var parts = {};
      for (var i = 0; i < order.length; i++) {
        var share = Math.floor(budget / (order.length - i));
        var id = order[i];
        var enc = full[id].length <= share ? full[id] : encodeState(sessions[id].state, Math.max(2, share)).data || '{}';
        parts[id] = enc;
        budget -= enc.length;
      }
      out = build(parts);
      if (out.length <= limit) return out;
    }
    locs = {};
    var none = {};
    ids.forEach(function (id) { none[id] = encodeState(sessions[id].state, 16).data || '{}'; });
    out = build(none);
    return out.length <= limit ? out : '';
  }

  /** Decodes the player's suspend_data; never throws. Returns id -> {state, location}. */
  function decodeCourse(str) {
    var out = {};
    if (typeof str !== 'string' || str === '') return out;
    try {
      var raw = JSON.parse(str);
      if (!raw || typeof raw !== 'object' || !raw.s || typeof raw.s !== 'object') return out;
      Object.keys(raw.s).forEach(function (id) {
        out[id] = { state: normaliseState(raw.s[id]), location: '' };
      });
      if (raw.l && typeof raw.l === 'object') {
        Object.keys(raw.l).forEach(function (id) {
          if (typeof raw.l[id] !== 'string') return;
          if (!out[id]) out[id] = { state: emptyState(), location: '' };
          out[id].location = raw.l[id];
        });
      }
    } catch (e) { /* unreadable: start again */ }
    return out;
  }

  function Player(win, doc, cfg) {
    this.win = win;
    this.doc = doc;
    this.cfg = cfg;
    this.sessions = Array.isArray(cfg.sessions) ? cfg.sessions : [];
    this.key = 'coursepack:' + cfg.course + ':' + cfg.version + ':course';
    this.ls = storage(win);
    this.backend = null;
    // True when the backend keeps the course; the sessions then keep their state through the
    // player (coursepackHost), else each page keeps its own.
    this.recording = false;
    this.data = {};
    this.current = '';
    this.readOnly = false;
    this.finished = false;
    this.retryIndex = 0;
    this.retryTimer = null;
    this.startedAt = Date.now();
    this.frame = doc.getElementById('cp-content');
  }

  Player.prototype.start = function () {
    var self = this;
    this.backend = courseBackend(this.win);
    var kept = this.backend.restoreCourse();
    if (kept) {
      this.recording = true;
      this.restore(kept);
      // Sessions find the player before any LMS, so they never initialise the LMS themselves.
      this.win.coursepackHost = this.host();
      if (this.readOnly) showPreview(this.doc);
      this.save();
    }
    this.showProgress();
    var first = this.cfg.overview || 'index.html';
    if (this.current) {
      for (var i = 0; i < this.sessions.length; i++) {
        if (this.sessions[i].id === this.current) first = this.sessions[i].href;
      }
    }
    if (this.frame) {
      this.frame.addEventListener('load', safe(function () { self.onPage(); }));
      this.frame.setAttribute('src', first);
    }
    this.win.addEventListener('pagehide', safe(function () { self.leave(); }));
    this.doc.addEventListener('visibilitychange', safe(function () {
      if (self.doc.visibilityState === 'hidden') self.save();
    }));
  };

  Player.prototype.sessionData = function (id) {
    if (!this.data[id]) this.data[id] = { state: emptyState(), location: '', progress: 0 };
    return this.data[id];
  };

  /** Takes up what the backend kept of the course (see restoreCourse) and this browser's copy. */
  Player.prototype.restore = function (kept) {
    var self = this;
    this.mode = kept.mode;
    this.readOnly = kept.readOnly;
    var fromLms = decodeCourse(kept.data);
    this.current = kept.location;
    var local = null;
    // cmi5: a new registration starts fresh, whatever this browser remembers.
    if (this.ls && kept.mode !== 'browse' && kept.mode !== 'cmi5') {
      try { local = JSON.parse(this.ls.getItem(this.key) || 'null'); } catch (e) { local = null; }
    }
    var haveLms = Object.keys(fromLms).length > 0;
    var source = haveLms ? fromLms : decodeCourse(local && JSON.stringify(local));
    if (!haveLms && local) {
      this.restoredLocally = true;
      if (typeof local.c === 'string') this.current = local.c;
    }
    Object.keys(source).forEach(function (id) {
      var d = self.sessionData(id);
      d.state = source[id].state;
      d.location = source[id].location;
    });
    // Objectives: the LMS's own record of each session (kept even where suspend_data is not).
    this.sessions.forEach(function (s) {
      if (typeof s.objective === 'string' && hasOwn(kept.objectives, s.objective) && kept.objectives[s.objective]) {
        self.sessionData(s.id).state.c = true;
      }
    });
    if (kept.complete) {
      // The LMS holds the course as complete: every session is.
      this.sessions.forEach(function (s) { self.sessionData(s.id).state.c = true; });
    }
    // A local copy may know of completions the LMS lost; completion never goes back.
    if (haveLms && local && !this.readOnly) {
      var localData = decodeCourse(JSON.stringify(local));
      Object.keys(localData).forEach(function (id) {
        if (localData[id].state.c) self.sessionData(id).state.c = true;
      });
    }
    // Each session's score from its saved quiz state, so the course's score and verdict count
    // the sessions not opened in this visit too.
    this.sessions.forEach(function (s) {
      if (!(s.questions > 0)) return;
      var d = self.sessionData(s.id);
      var quizzes = d.state.q || {};
      var right = 0;
      var asked = 0;
      Object.keys(quizzes).forEach(function (id) {
        if (quizzes[id].n > 0) {
          asked += quizzes[id].k.length;
          right += Math.min(quizzes[id].b, quizzes[id].k.length);
        }
      });
      if (asked < s.questions) return;
      d.raw = right;
      d.max = s.questions;
      if (s.pass != null) d.success = (right / s.questions) * 100 >= s.pass - 1e-9 ? 'passed' : 'failed';
    });
  };

  /** The interface session pages use (see hostModel). */
  Player.prototype.host = function () {
    var self = this;
    var known = function (id) {
      return self.sessions.some(function (s) { return s.id === id; });
    };
    return {
      attach: function (id) {
        if (!known(id) || self.finished) return false;
        self.current = id;
        return true;
      },
      detach: function (id) {
        self.save();
        return known(id);
      },
      commit: function () { return self.save(); },
      get: function (id, name) {
        var d = self.sessionData(id);
        switch (name) {
          case 'entry': return serialise(d.state) !== '{}' ? 'resume' : 'ab-initio';
          case 'mode': return self.mode || 'normal';
          case 'status': return d.state.c ? 'completed' : (serialise(d.state) !== '{}' ? 'incomplete' : 'not attempted');
          case 'suspend': return serialise(d.state);
          case 'location': return d.location;
          default: return '';
        }
      },
      set: function (id, name, value) {
        if (self.finished || !known(id)) return false;
        var d = self.sessionData(id);
        if (name === 'suspend') {
          var st = decodeState(value) || emptyState();
          if (d.state.c) st.c = true;
          d.state = st;
        } else if (name === 'status') {
          if (value === 'completed') d.state.c = true;
        } else if (name === 'progress') {
          d.progress = Number(value) || 0;
        } else if (name === 'location') {
          d.location = value;
        } else if (name === 'score.raw') {
          d.raw = Number(value);
        } else if (name === 'score.max') {
          d.max = Number(value);
        } else if (name === 'success') {
          if (d.success !== 'passed') d.success = value;
        }
        self.showProgress();
        return true;
      },
      interaction: function (id, it) {
        if (self.finished || !known(id) || self.readOnly) return false;
        return self.backend.interaction(it);
      }
    };
  };

  Player.prototype.doneCount = function () {
    var self = this;
    return this.sessions.filter(function (s) { return self.data[s.id] && self.data[s.id].state.c; }).length;
  };

  /** Marks each session's entry in the player's menu with its state. */
  Player.prototype.showProgress = function () {
    var self = this;
    this.sessions.forEach(function (s) {
      var node = self.doc.querySelector('[data-cp-player-status="' + s.id + '"]');
      if (!node) return;
      var d = self.data[s.id];
      var text = d ? sessionSummary(d.state, s.questions || 0, s.pass) : '';
      if (node.textContent !== text) node.textContent = text;
    });
  };

  /** Writes the course's state to the backend and commits; `again`: a retry. */
  Player.prototype.save = function (again, elapsed) {
    this.writeLocal();
    if (!this.recording || this.finished) return false;
    var ok = this.backend.saveCourse(this.report(elapsed), again);
    // Browse and review record nothing worth a retry.
    if (this.readOnly) return ok;
    if (ok) {
      this.retryIndex = 0;
    } else {
      this.scheduleRetry();
    }
    return ok;
  };

  /**
   * What the backend writes of the course: each session's objective (complete, started,
   * progress, score and success), the course's score (right answers over questions across
   * every scored session) with how many sessions have a pass mark, are judged and passed, how
   * many are done, every session's state as `data(limit)`, the bookmark and, when leaving, the
   * time spent.
   */
  Player.prototype.report = function (elapsed) {
    var self = this;
    var out = {
      sessions: [], raw: 0, max: 0, withMark: 0, judged: 0, passed: 0,
      done: this.doneCount(), total: this.sessions.length,
      data: function (limit) { return encodeCourse(self.data, limit); },
      location: this.current,
      elapsed: elapsed
    };
    this.sessions.forEach(function (s) {
      var d = self.sessionData(s.id);
      var scored = d.max > 0 && isFinite(d.raw);
      out.sessions.push({ objective: s.objective, complete: d.state.c, started: serialise(d.state) !== '{}',
        progress: d.progress, scored: scored, raw: d.raw, max: d.max, success: d.success });
      if (scored) {
        out.raw += d.raw;
        out.max += d.max;
      }
      if (s.pass != null) {
        out.withMark++;
        if (d.success === 'passed' || d.success === 'failed') out.judged++;
        if (d.success === 'passed') out.passed++;
      }
    });
    return out;
  };

  Player.prototype.scheduleRetry = function () {
    var self = this;
    retryLater(this, function () { self.save(true); });
  };

  Player.prototype.writeLocal = function () {
    if (!this.ls || this.readOnly || !this.recording) return;
    try {
      var o = JSON.parse(encodeCourse(this.data, 1e9) || '{}');
      if (this.current) o.c = this.current;
      this.ls.setItem(this.key, JSON.stringify(o));
    } catch (e) { /* quota or disabled */ }
  };

  /** A page loaded in the inner frame: mark it current in the menu. */
  Player.prototype.onPage = function () {
    var file = '';
    try {
      var path = this.frame.contentWindow.location.pathname;
      file = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
    } catch (e) { return; }
    var links = this.doc.querySelectorAll('[data-cp-player-page]');
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute('data-cp-player-page') === file) links[i].setAttribute('aria-current', 'page');
      else links[i].removeAttribute('aria-current');
    }
  };

  Player.prototype.leave = function () {
    if (this.finished) return;
    // The inner page saves first (its own pagehide comes after this one).
    try {
      var inner = this.frame && this.frame.contentWindow && this.frame.contentWindow.coursepackRuntime;
      if (inner && typeof inner.leave === 'function') inner.leave();
    } catch (e) { /* a page of another origin: nothing to save */ }
    if (!this.recording) return;
    this.save(false, Date.now() - this.startedAt);
    this.backend.leave();
    this.finished = true;
    if (this.retryTimer) this.win.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  };

  // ---------------------------------------------------------------------------------------------
  // Browser side
  // ---------------------------------------------------------------------------------------------

  function readJSONIsland(doc, id) {
    try {
      var node = doc.getElementById(id);
      if (!node) return null;
      var v = JSON.parse(node.textContent || '');
      return v && typeof v === 'object' ? v : null;
    } catch (e) {
      warn('coursepack: could not read #' + id, e);
      return null;
    }
  }

  function storage(win) {
    try {
      var ls = win.localStorage;
      var probe = 'coursepack:probe';
      ls.setItem(probe, '1');
      ls.removeItem(probe);
      return ls;
    } catch (e) {
      return null;
    }
  }

  function safe(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) {
        warn('coursepack: handler failed', e);
      }
    };
  }

  /** Where a learner is in a session: 'done', 'started' or 'new' (nothing saved yet). */
  function sessionState(state) {
    if (!state) return 'new';
    if (state.c) return 'done';
    return serialise(state) !== '{}' ? 'started' : 'new';
  }

  /** A session's state for the overview and the player's menu: its completion and, with quizzes, its score. */
  function sessionSummary(state, questions, pass) {
    if (!state) return '';
    var parts = [tr({ done: 'done', started: 'in_progress', new: 'not_started' }[sessionState(state)])];
    var right = 0;
    var submitted = 0;
    Object.keys(state.q || {}).forEach(function (id) {
      if (state.q[id].n > 0) {
        right += state.q[id].b;
        submitted++;
      }
    });
    if (questions > 0 && submitted > 0) {
      var pct = Math.round((right / questions) * 100);
      var key = typeof pass === 'number' ? (pct >= pass ? 'score_passed' : 'score_not_passed') : 'score';
      parts.push(tr(key, { pct: pct }));
    }
    return parts.join(' · ');
  }

  /** Sets a <progress> bar's value in percent. */
  function showBar(bar, share01) {
    if (!bar) return;
    var v = String(Math.round(Math.max(0, Math.min(1, share01)) * 100));
    if (bar.getAttribute('value') !== v) bar.setAttribute('value', v);
  }

  /**
   * The overview shows each session's state (from the course player, else this browser), the
   * course's progress, a "Continue" to the first session not done, and a message once every
   * session is done.
   */
  function showOverview(win, doc, cfg) {
    var host = readProp(parentOf(win), 'coursepackHost');
    var ls = storage(win);
    var sessions = cfg.sessions || [];
    var done = 0;
    var next = null;
    var known = !!host || !!ls;
    sessions.forEach(function (s) {
      var state = null;
      try {
        if (host && typeof host.get === 'function') state = decodeState(host.get(s.id, 'suspend'));
        else if (ls) state = decodeState(ls.getItem('coursepack:' + cfg.course + ':' + cfg.version + ':' + s.id));
      } catch (e) { state = null; }
      var kind = sessionState(state);
      if (kind === 'done') done++;
      else if (next === null) next = s.id;
      var node = doc.querySelector('[data-cp-session-state="' + s.id + '"]');
      if (node && known) {
        node.textContent = sessionSummary(state || emptyState(), s.questions || 0, s.pass);
        node.setAttribute('data-cp-state', kind);
      }
      var item = doc.querySelector('[data-cp-session-item="' + s.id + '"]');
      if (item && known) item.setAttribute('data-cp-state', kind);
    });
    if (!known || !sessions.length) return;
    var box = doc.querySelector('[data-cp-course-progress]');
    if (box) {
      showBar(box.querySelector('[data-cp-progress]'), done / sessions.length);
      var text = box.querySelector('[data-cp-progress-text]');
      if (text) text.textContent = tr('sessions_done', { done: done }, sessions.length);
      box.hidden = false;
    }
    var start = doc.querySelector('[data-cp-start]');
    if (start && done > 0) {
      var link = next ? doc.querySelector('[data-cp-session-item="' + next + '"] a[href]') : null;
      if (link) {
        start.setAttribute('href', link.getAttribute('href'));
        start.textContent = tr('continue', { title: link.textContent });
      } else {
        start.textContent = tr('first_session');
      }
    }
    var end = doc.querySelector('[data-cp-end]');
    if (end) end.hidden = done < sessions.length;
  }

  /** A page inside the course player leaves its header and menus to the player's. */
  function markFramed(win, doc) {
    var parent = parentOf(win);
    if (doc.body && (readProp(parent, 'coursepackHost') || readProp(parent, 'coursepackPlayer'))) {
      doc.body.setAttribute('data-cp-framed', '');
    }
  }

  function boot(win, doc) {
    useStrings(readJSONIsland(doc, 'cp-strings'));
    var body = doc.body;
    if (body && body.getAttribute('data-cp-page') !== 'player') markFramed(win, doc);
    if (body && body.getAttribute('data-cp-page') === 'overview') {
      var overview = readJSONIsland(doc, 'cp-overview');
      if (overview) showOverview(win, doc, overview);
      return null;
    }
    if (body && body.getAttribute('data-cp-page') === 'player') {
      var course = readJSONIsland(doc, 'cp-course');
      if (!course) return null;
      var player = new Player(win, doc, course);
      var startPlayer = function () {
        player.start();
        try { win.coursepackPlayer = player; } catch (e) { /* read-only window */ }
        if (player.mode === 'cmi5') cmi5FinishButton(win, doc, function () { player.leave(); });
      };
      // A cmi5 AU reads its launch from the LMS first (cmi5Prepare), then starts.
      if (!cmi5Prepare(win, doc, startPlayer)) startPlayer();
      return player;
    }
    if (!body || body.getAttribute('data-cp-page') !== 'session') return null;
    var cfg = readJSONIsland(doc, 'cp-session');
    if (!cfg || typeof cfg.session !== 'string') return null;
    var rt = new Runtime(win, doc, cfg);
    var startPage = function () {
      rt.start();
      try { win.coursepackRuntime = rt; } catch (e) { /* read-only window */ }
      if (rt.mode === 'cmi5') cmi5FinishButton(win, doc, function () { rt.leave(); });
    };
    if (!cmi5Prepare(win, doc, startPage)) startPage();
    return rt;
  }

  function Runtime(win, doc, cfg) {
    this.win = win;
    this.doc = doc;
    this.cfg = cfg;
    this.key = 'coursepack:' + cfg.course + ':' + cfg.version + ':' + cfg.session;
    this.required = Array.isArray(cfg.required) ? cfg.required : [];
    this.videoPercent = typeof cfg.video_percent === 'number' ? cfg.video_percent : 90;
    this.state = emptyState();
    this.blocks = {};
    this.backend = null;
    this.ls = storage(win);
    // The backend's name (see the backends): 'scorm12', 'scorm2004', 'course', 'lti', 'cmi5', 'local'.
    this.mode = 'local';
    this.startedAt = Date.now();
    this.location = '';
    this.readOnly = false;
  }

  Runtime.prototype.start = function () {
    var self = this;
    this.collectBlocks();
    this.backend = sessionBackend(this.win, this.doc, this.cfg, function () { return self.snapshot(); });
    this.mode = this.backend.mode;
    this.restore();
    this.bind();
    if (this.backend.ownsFrame) this.bindNav();
    this.showNavStates();
    if (this.readOnly) showPreview(this.doc);
    this.update(true);
    var onHide = safe(function () { self.leave(); });
    this.win.addEventListener('pagehide', onHide);
    this.doc.addEventListener('visibilitychange', safe(function () {
      if (self.doc.visibilityState === 'hidden') self.flush(false);
    }));
    if (this.location) this.showBookmark();
  };

  /** Shows the page's preview notice (browse and review modes record nothing). */
  function showPreview(doc) {
    var nodes = doc.querySelectorAll('[data-cp-preview]');
    for (var i = 0; i < nodes.length; i++) nodes[i].hidden = false;
  }

  /** The file name a link points to when it stays in this package's folder, else null. */
  function localPage(doc, link) {
    try {
      var target = link.getAttribute('target');
      if (target && target !== '_self') return null; // opens elsewhere: the SCO stays
      var url = new URL(link.getAttribute('href'), doc.baseURI);
      var here = new URL(doc.baseURI);
      if (url.origin !== here.origin) return null;
      var dir = here.pathname.slice(0, here.pathname.lastIndexOf('/') + 1);
      if (url.pathname.slice(0, dir.length) !== dir) return null;
      var rest = decodeURIComponent(url.pathname.slice(dir.length));
      return /\.html?$/i.test(rest) && rest.indexOf('/') < 0 ? rest : null;
    } catch (e) {
      return null;
    }
  }

  /**
   * Inside an LMS (one SCO per session), a link that loads another page of the course into
   * this SCO's frame breaks tracking: the LMS would store that page's work on this SCO. Such
   * links become LMS navigation requests where the LMS says it will honour them (SCORM 2004
   * `adl.nav.request`), and are taken away otherwise, with a hint to use the LMS's menu.
   */
  Runtime.prototype.bindNav = function () {
    var self = this;
    var nav = this.cfg.nav && typeof this.cfg.nav === 'object' ? this.cfg.nav : {};
    var overview = nav.overview || 'index.html';
    var player = nav.player || 'course.html';
    var prefix = typeof nav.item_prefix === 'string' ? nav.item_prefix : 'ITEM-';
    var links = this.doc.querySelectorAll('a[href]');
    var removed = 0;
    for (var i = 0; i < links.length; i++) {
      var link = links[i];
      var file = localPage(this.doc, link);
      if (!file) continue;
      var kind = link.getAttribute('data-cp-nav');
      var request = null;
      if (kind === 'previous') request = 'previous';
      else if (kind === 'continue') request = 'continue';
      else {
        // Every other page of the package is a session's: `<id>.html` is item `<prefix><id>`.
        var m = /^([a-z][a-z0-9-]*)\.html$/.exec(file);
        if (m && file !== overview && file !== player && prefix + m[1] !== this.cfg.item) {
          request = '{target=' + prefix + m[1] + '}choice';
        }
      }
      if (request && this.backend.canNavigate(request)) {
        link.addEventListener('click', this.navHandler(request));
        continue;
      }
      removed++;
      disableLink(link);
    }
    // Lists whose every link was taken away go too.
    var lists = this.doc.querySelectorAll('[data-cp-nav-list]');
    for (var j = 0; j < lists.length; j++) {
      if (!lists[j].querySelector('a[href]')) lists[j].hidden = true;
    }
    if (removed) {
      var hints = this.doc.querySelectorAll('[data-cp-nav-hint]');
      for (var k = 0; k < hints.length; k++) hints[k].hidden = false;
    }
    return removed;
  };

  /**
   * The session bar marks the sessions this browser has seen done (the page's own from its
   * state); the others stay as they are, since the page cannot know them.
   */
  Runtime.prototype.showNavStates = function () {
    var links = this.doc.querySelectorAll('.cp-nav a[href]');
    var prefix = 'coursepack:' + this.cfg.course + ':' + this.cfg.version + ':';
    for (var i = 0; i < links.length; i++) {
      var m = /^([a-z][a-z0-9-]*)\.html$/.exec(links[i].getAttribute('href') || '');
      if (!m || m[1] === 'index') continue;
      var state = null;
      if (m[1] === this.cfg.session) state = this.state;
      else if (this.ls) {
        try { state = decodeState(this.ls.getItem(prefix + m[1])); } catch (e) { state = null; }
      }
      this.markNav(links[i], sessionState(state) === 'done');
    }
  };

  Runtime.prototype.markNav = function (link, done) {
    if ((link.getAttribute('data-cp-state') === 'done') === done) return;
    var note = link.querySelector('.cp-visually-hidden');
    if (done) {
      link.setAttribute('data-cp-state', 'done');
      if (!note) {
        note = this.doc.createElement('span');
        note.className = 'cp-visually-hidden';
        note.textContent = tr('done_mark');
        link.appendChild(note);
      }
    } else {
      link.removeAttribute('data-cp-state');
      if (note) link.removeChild(note);
    }
  };

  /** A link that cannot be followed: its text stays (in content), navigation items go. */
  function disableLink(link) {
    var item = link.closest ? link.closest('[data-cp-nav-list] li, [data-cp-nav-list] > a') : null;
    if (item || link.hasAttribute('data-cp-nav')) {
      (item || link).hidden = true;
      return;
    }
    link.removeAttribute('href');
    link.removeAttribute('target');
  }

  Runtime.prototype.navHandler = function (request) {
    var self = this;
    return safe(function (event) {
      if (event && event.preventDefault) event.preventDefault();
      self.leave(request);
    });
  };

  Runtime.prototype.collectBlocks = function () {
    var nodes = this.doc.querySelectorAll('[data-cp-block]');
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      var id = n.getAttribute('data-cp-block');
      if (!id || this.blocks[id]) continue;
      this.blocks[id] = {
        id: id,
        node: n,
        kind: n.getAttribute('data-cp-kind') || '',
        media: n.querySelector('video[data-cp-media], audio[data-cp-media]'),
        checkbox: n.querySelector('input[type="checkbox"][data-cp-done]'),
        open: n.querySelectorAll('a[data-cp-open]'),
        answer: n.querySelector('textarea[data-cp-answer]'),
        quiz: n.querySelector('form[data-cp-quiz]'),
        status: n.querySelector('[data-cp-block-status]'),
        lastPos: null
      };
    }
    // A required id with no block on the page cannot be done by the learner: leave it out, so
    // the session can still be completed, and say so in the console.
    var self = this;
    this.required = this.required.filter(function (id) {
      if (self.blocks[id]) return true;
      warn('coursepack: required block "' + id + '" is not on this page');
      return false;
    });
  };

  Runtime.prototype.isDone = function (id) {
    var b = this.blocks[id];
    if (!b) return true;
    if (b.quiz) return !!this.state.q[id] && this.state.q[id].n > 0;
    if (b.answer) return (this.state.a[id] || '').replace(/^\s+|\s+$/g, '') !== '';
    if (b.media) {
      if (this.state.d.indexOf(id) >= 0) return true;
      var v = this.state.v[id];
      return !!v && videoDone(v.slice(2), v[0], this.videoPercent);
    }
    if (b.checkbox || b.open.length) return this.state.d.indexOf(id) >= 0;
    return true; // text block: nothing to do
  };

  Runtime.prototype.markDone = function (id, done) {
    var i = this.state.d.indexOf(id);
    if (done && i < 0) this.state.d.push(id);
    if (!done && i >= 0) this.state.d.splice(i, 1);
  };

  // -- restore ------------------------------------------------------------------------------

  /** The local copy: the whole state plus the bookmark under "l". */
  Runtime.prototype.readLocal = function () {
    if (!this.ls) return null;
    try {
      var raw = this.ls.getItem(this.key);
      var s = decodeState(raw);
      if (s) {
        var l = JSON.parse(raw).l;
        s.l = typeof l === 'string' ? l : '';
      }
      return s;
    } catch (e) {
      return null;
    }
  };

  Runtime.prototype.writeLocal = function () {
    // A preview or review must not leak into a graded attempt through this browser's copy.
    if (!this.ls || this.readOnly) return;
    try {
      var copy = cloneState(this.state);
      copy.t = [];
      var o = JSON.parse(serialise(copy));
      if (this.location) o.l = this.location;
      this.ls.setItem(this.key, JSON.stringify(o));
    } catch (e) { /* quota or disabled: the LMS copy still stands */ }
  };

  Runtime.prototype.restore = function () {
    var kept = this.backend.restore(this.readLocal());
    this.readOnly = kept.readOnly;
    this.location = kept.location || '';
    if (kept.state) this.state = normaliseState(kept.state);
    if (kept.complete) this.state.c = true;
    this.state.t = [];
  };

  Runtime.prototype.showBookmark = function () {
    var b = this.blocks[this.location];
    if (!b) return;
    try {
      if (b.node.scrollIntoView) b.node.scrollIntoView({ block: 'start' });
    } catch (e) { /* old browser */ }
  };

  // -- page bindings --------------------------------------------------------------------------

  Runtime.prototype.bind = function () {
    var self = this;
    Object.keys(this.blocks).forEach(function (id) {
      var b = self.blocks[id];
      if (b.checkbox) {
        b.checkbox.checked = self.state.d.indexOf(id) >= 0;
        b.checkbox.addEventListener('change', safe(function () {
          self.markDone(id, b.checkbox.checked);
          self.touch(id);
        }));
      }
      for (var i = 0; i < b.open.length; i++) {
        var onOpen = safe(function () {
          self.markDone(id, true);
          self.touch(id);
        });
        b.open[i].addEventListener('click', onOpen);
        b.open[i].addEventListener('auxclick', onOpen);
      }
      if (b.answer) {
        if (hasOwn(self.state.a, id)) b.answer.value = self.state.a[id];
        self.showCount(b, false);
        b.answer.addEventListener('input', safe(function () {
          self.state.a[id] = b.answer.value;
          self.touch(id);
          self.showCount(b, true);
        }));
      }
      if (b.media) self.bindMedia(b);
      if (b.quiz) self.bindQuiz(b);
    });
  };

  /**
   * A reflection's character count against its limit, and, once the learner has typed, "Saved"
   * (the answer is in this browser at once and goes to the LMS with the next save).
   */
  Runtime.prototype.showCount = function (b, typed) {
    var count = b.node.querySelector('[data-cp-count]');
    var max = b.answer.maxLength > 0 ? b.answer.maxLength : null;
    if (count) {
      var n = b.answer.value.length;
      count.textContent = max ? tr('characters_of', { count: n }, max) : tr('characters', null, n);
    }
    var saved = b.node.querySelector('[data-cp-saved]');
    if (!saved) return;
    if (this.readOnly) {
      saved.textContent = tr('not_saved_preview');
      return;
    }
    if (!typed) {
      if (b.answer.value) {
        saved.textContent = tr('saved');
        saved.setAttribute('data-cp-state', 'saved');
      }
      return;
    }
    // Announced once the learner pauses, not at every key.
    saved.textContent = tr('saving');
    saved.removeAttribute('data-cp-state');
    if (b.savedTimer) this.win.clearTimeout(b.savedTimer);
    b.savedTimer = this.win.setTimeout(safe(function () {
      b.savedTimer = null;
      saved.textContent = tr('saved');
      saved.setAttribute('data-cp-state', 'saved');
    }), 700);
  };

  // -- knowledge checks -----------------------------------------------------------------------

  Runtime.prototype.quizData = function (id) {
    var all = this.cfg.quizzes && typeof this.cfg.quizzes === 'object' ? this.cfg.quizzes : {};
    return all[id] || null;
  };

  Runtime.prototype.score = function () {
    var all = this.cfg.quizzes && typeof this.cfg.quizzes === 'object' ? this.cfg.quizzes : {};
    var pass = typeof this.cfg.pass_percent === 'number' ? this.cfg.pass_percent : null;
    return sessionScore(all, this.state.q, pass);
  };

  Runtime.prototype.bindQuiz = function (b) {
    var self = this;
    var quiz = this.quizData(b.id);
    if (!quiz) return;
    var form = b.quiz;
    var sets = {};
    var nodes = form.querySelectorAll('[data-cp-question]');
    for (var i = 0; i < nodes.length; i++) sets[nodes[i].getAttribute('data-cp-question')] = nodes[i];
    var st = this.state.q[b.id];
    if (!st || !st.k.length) {
      // First visit: draw the questions; the draw is kept, so a re-launch shows the same ones.
      var drawn = drawAttempt(quiz);
      st = this.state.q[b.id] = { n: st ? st.n : 0, b: st ? st.b : 0, k: drawn.k, o: drawn.o, r: {} };
    }
    b.startedAt = Date.now();
    this.layoutQuiz(b, quiz, sets);
    if (st.n > 0 && Object.keys(st.r).length) this.showQuizResult(b, quiz, sets, false);
    else this.showQuizScore(b, quiz);
    form.addEventListener('submit', safe(function (e) {
      if (e && e.preventDefault) e.preventDefault();
      self.submitQuiz(b, quiz, sets);
    }));
    var retry = form.querySelector('[data-cp-retry]');
    if (retry) {
      retry.addEventListener('click', safe(function () {
        var cur = self.state.q[b.id];
        var next = drawAttempt(quiz);
        cur.k = next.k;
        cur.o = next.o;
        cur.r = {};
        b.startedAt = Date.now();
        self.layoutQuiz(b, quiz, sets);
        self.showQuizScore(b, quiz);
        self.touch(b.id);
        var first = form.querySelector('fieldset:not([hidden]) [data-cp-response]');
        if (first && first.focus) first.focus();
      }));
    }
    if (this.readOnly) this.lockQuiz(b, true);
  };

  /** Shows the drawn questions in their order, options in theirs, inputs cleared. */
  Runtime.prototype.layoutQuiz = function (b, quiz, sets) {
    var st = this.state.q[b.id];
    var form = b.quiz;
    var anchor = form.querySelector('.cp-quiz-actions');
    Object.keys(sets).forEach(function (id) { sets[id].hidden = st.k.indexOf(id) < 0; });
    st.k.forEach(function (id, i) {
      var set = sets[id];
      if (!set) return;
      form.insertBefore(set, anchor);
      var num = set.querySelector('[data-cp-qnum]');
      if (num) num.textContent = tr('question_of', { i: i + 1 }, st.k.length);
      var order = st.o[id];
      if (order) {
        var holder = set.querySelector('[data-cp-result]');
        order.forEach(function (oid) {
          var opt = set.querySelector('[data-cp-option="' + oid + '"]');
          if (opt && holder) set.insertBefore(opt, holder);
        });
      }
      var inputs = set.querySelectorAll('[data-cp-response]');
      for (var j = 0; j < inputs.length; j++) {
        if (inputs[j].type === 'text') inputs[j].value = '';
        else inputs[j].checked = false;
        inputs[j].disabled = false;
      }
      set.removeAttribute('data-cp-correct');
      var res = set.querySelector('[data-cp-result]');
      if (res) res.textContent = '';
      var hide = set.querySelectorAll('[data-cp-feedback], [data-cp-explanation]');
      for (var h = 0; h < hide.length; h++) hide[h].hidden = true;
    });
    var submit = form.querySelector('[data-cp-submit]');
    if (submit) submit.hidden = false;
    var retry = form.querySelector('[data-cp-retry]');
    if (retry) retry.hidden = true;
  };

  Runtime.prototype.lockQuiz = function (b, locked) {
    var inputs = b.quiz.querySelectorAll('[data-cp-response], [data-cp-submit]');
    for (var i = 0; i < inputs.length; i++) inputs[i].disabled = locked;
  };

  /** What the learner chose for one question: option ids, or the text. */
  function responseOf(set) {
    var text = set.querySelector('input[type="text"][data-cp-response]');
    if (text) return text.value;
    var out = [];
    var inputs = set.querySelectorAll('[data-cp-response]');
    for (var i = 0; i < inputs.length; i++) if (inputs[i].checked) out.push(inputs[i].value);
    return out;
  }

  Runtime.prototype.submitQuiz = function (b, quiz, sets) {
    if (this.readOnly) return;
    var st = this.state.q[b.id];
    var attemptsLeft = quiz.attempts == null || st.n < quiz.attempts;
    if (!attemptsLeft || Object.keys(st.r).length) return;
    var responses = {};
    var missing = 0;
    st.k.forEach(function (id) {
      var r = sets[id] ? responseOf(sets[id]) : [];
      if ((typeof r === 'string' && normaliseText(r) === '') || (Array.isArray(r) && r.length === 0)) missing++;
      responses[id] = typeof r === 'string' ? cut(r, 250) : r;
    });
    var scoreNode = b.quiz.querySelector('[data-cp-score]');
    if (missing) {
      if (scoreNode) {
        scoreNode.textContent = tr('unanswered', null, missing);
        if (scoreNode.focus) scoreNode.focus();
      }
      return;
    }
    st.n += 1;
    st.r = responses;
    var right = countRight(quiz, st.k, responses);
    if (right > st.b) st.b = right;
    this.reportQuiz(b, quiz, responses);
    this.showQuizResult(b, quiz, sets, true);
    this.touch(b.id);
    // A submitted check is saved at once, like a completion.
    this.backend.save('submit');
  };

  /** One interaction per question answered, to the backend. */
  Runtime.prototype.reportQuiz = function (b, quiz, responses) {
    if (this.readOnly) return;
    var self = this;
    var latency = Date.now() - (b.startedAt || Date.now());
    var byId = {};
    quiz.questions.forEach(function (q) { byId[q.id] = q; });
    this.state.q[b.id].k.forEach(function (id) {
      var q = byId[id];
      if (!q) return;
      self.backend.interaction({
        id: b.id + '-' + id, type: q.type, response: responses[id], correct: q.correct, accept: q.accept,
        options: q.options, result: gradeQuestion(q, responses[id]), description: q.description, latency: latency
      });
    });
  };

  /** Marks each question right or wrong, shows feedback, explanations and the score. */
  Runtime.prototype.showQuizResult = function (b, quiz, sets, announce) {
    var st = this.state.q[b.id];
    var byId = {};
    quiz.questions.forEach(function (q) { byId[q.id] = q; });
    st.k.forEach(function (id) {
      var set = sets[id];
      var q = byId[id];
      if (!set || !q) return;
      var r = st.r[id];
      var text = set.querySelector('input[type="text"][data-cp-response]');
      if (text) text.value = typeof r === 'string' ? r : '';
      var inputs = set.querySelectorAll('[data-cp-response]');
      for (var i = 0; i < inputs.length; i++) {
        if (inputs[i].type !== 'text') inputs[i].checked = Array.isArray(r) && r.indexOf(inputs[i].value) >= 0;
        inputs[i].disabled = true;
      }
      var ok = gradeQuestion(q, r);
      set.setAttribute('data-cp-correct', String(ok));
      var res = set.querySelector('[data-cp-result]');
      if (res) res.textContent = ok ? tr('right') : tr('not_quite');
      if (Array.isArray(r)) {
        r.forEach(function (oid) {
          var fb = set.querySelector('[data-cp-option="' + oid + '"] [data-cp-feedback]');
          if (fb) fb.hidden = false;
        });
      }
      var ex = set.querySelector('[data-cp-explanation]');
      if (ex) ex.hidden = false;
    });
    var submit = b.quiz.querySelector('[data-cp-submit]');
    if (submit) submit.hidden = true;
    this.showQuizScore(b, quiz, announce);
  };

  Runtime.prototype.showQuizScore = function (b, quiz, focus) {
    var st = this.state.q[b.id];
    var node = b.quiz.querySelector('[data-cp-score]');
    var retry = b.quiz.querySelector('[data-cp-retry]');
    var size = quiz.size || st.k.length;
    var left = quiz.attempts == null ? null : Math.max(0, quiz.attempts - st.n);
    var submitted = Object.keys(st.r).length > 0;
    var parts = [];
    if (submitted) {
      var right = countRight(quiz, st.k, st.r);
      parts.push(tr('answered', { right: right, pct: Math.round((right / Math.max(1, size)) * 100) }, size));
      var s = this.score();
      if (s.passed === true) parts.push(tr('pass_mark_passed', { pct: this.cfg.pass_percent }));
      else if (s.passed === false) parts.push(tr('pass_mark_not_passed', { pct: this.cfg.pass_percent }));
      if (st.b > right) parts.push(tr('best_attempt', { best: st.b }, size));
      var canRetry = (left === null || left > 0) && right < size && !this.readOnly;
      if (retry) retry.hidden = !canRetry;
      if (left !== null) parts.push(left === 0 ? tr('no_attempts_left') : tr('attempts_left', null, left));
    } else {
      if (retry) retry.hidden = true;
      if (left !== null && st.n > 0) parts.push(tr('attempts_left', null, left));
      if (left === 0) this.lockQuiz(b, true);
    }
    if (node) {
      node.textContent = parts.join(' ');
      if (focus && node.focus) node.focus();
    }
  };

  Runtime.prototype.bindMedia = function (b) {
    var self = this;
    var m = b.media;
    var id = b.id;
    var entry = function () {
      if (!self.state.v[id]) self.state.v[id] = [0, 0];
      return self.state.v[id];
    };
    var sync = function (final) {
      var v = entry();
      if (isFinite(m.duration) && m.duration > 0) v[0] = Math.round(m.duration * 10) / 10;
      var ranges = v.slice(2);
      if (!m.seeking) {
        ranges = trackStep(ranges, b.lastPos, m.currentTime, m.playbackRate);
      }
      // The browser's own record of what was played, where it exists.
      try {
        var played = m.played;
        for (var i = 0; played && i < played.length; i++) ranges = addRange(ranges, played.start(i), played.end(i));
      } catch (e) { /* not supported */ }
      ranges = roundRanges(ranges);
      var pos = Math.floor(m.currentTime || 0);
      var changed = ranges.join(',') !== v.slice(2).join(',') || pos !== v[1];
      self.state.v[id] = [v[0], pos].concat(ranges);
      b.lastPos = final ? null : m.currentTime;
      if (self.state.d.indexOf(id) < 0 && videoDone(ranges, v[0], self.videoPercent)) {
        self.markDone(id, true);
      }
      if (changed) self.touch(id);
    };
    m.addEventListener('play', safe(function () { b.lastPos = m.currentTime; }));
    m.addEventListener('playing', safe(function () { b.lastPos = m.currentTime; }));
    m.addEventListener('timeupdate', safe(function () {
      if (m.paused || m.seeking) return;
      sync(false);
    }));
    m.addEventListener('seeking', safe(function () { b.lastPos = null; }));
    m.addEventListener('seeked', safe(function () { if (!m.paused) b.lastPos = m.currentTime; }));
    m.addEventListener('pause', safe(function () { sync(true); }));
    m.addEventListener('ended', safe(function () { sync(true); }));
    var resume = safe(function () {
      var v = self.state.v[id];
      if (v && isFinite(m.duration) && m.duration > 0) {
        v[0] = Math.round(m.duration * 10) / 10;
        // Return to where the learner stopped, unless that was the end.
        if (v[1] > 0 && v[1] < m.duration - 1 && m.currentTime === 0) m.currentTime = v[1];
      }
    });
    if (m.readyState >= 1) resume(); else m.addEventListener('loadedmetadata', resume);
  };

  // -- progress -------------------------------------------------------------------------------

  Runtime.prototype.touch = function (id) {
    if (id && this.blocks[id]) this.location = id;
    this.update(false);
  };

  Runtime.prototype.result = function () {
    var self = this;
    var r = evaluate(this.required, function (id) { return self.isDone(id); });
    if (this.cfg.require_pass && r.complete && this.score().passed !== true) {
      // Every step done, but the session completes only once its check is passed.
      r.complete = false;
      r.needsPass = true;
      r.progress = Math.min(r.progress, 0.99);
    }
    return r;
  };

  Runtime.prototype.update = function (initial) {
    var r = this.result();
    var newlyComplete = r.complete && !this.state.c;
    if (r.complete) this.state.c = true;
    this.showStatus(r);
    if (newlyComplete) this.showNavStates();
    this.writeLocal();
    this.backend.save(newlyComplete ? 'complete' : (initial ? 'start' : 'edit'));
  };

  /** What the backend writes, read afresh at each of its writes (see the backends). */
  Runtime.prototype.snapshot = function () {
    return {
      state: this.state,
      location: this.location,
      progress: this.result().progress,
      score: this.score(),
      elapsed: Date.now() - this.startedAt
    };
  };

  Runtime.prototype.showStatus = function (r) {
    var all = r || this.result();
    var el = this.doc.getElementById('cp-status');
    var text = statusText(all);
    if (el && el.textContent !== text) el.textContent = text;
    showBar(this.doc.querySelector('[data-cp-progress]'), all.complete ? 1 : all.progress);
    var end = this.doc.querySelector('[data-cp-end]');
    if (end) end.hidden = !this.state.c;
    var self = this;
    Object.keys(this.blocks).forEach(function (id) {
      var b = self.blocks[id];
      if (self.required.indexOf(id) < 0) return;
      var done = self.isDone(id);
      // The stylesheet marks done blocks with [data-cp-done="true"].
      if (b.node.getAttribute('data-cp-done') !== String(done)) b.node.setAttribute('data-cp-done', String(done));
      if (!b.status) return;
      var t = done ? tr('done') : tr('not_done_yet');
      if (b.status.textContent !== t) b.status.textContent = t;
    });
  };

  /** Each reflection answer changed since it was last reported, as an interaction. */
  Runtime.prototype.reportReflections = function () {
    if (this.readOnly) return;
    var self = this;
    this.reported = this.reported || {};
    Object.keys(this.blocks).forEach(function (id) {
      var b = self.blocks[id];
      var text = b.answer ? (self.state.a[id] || '') : '';
      if (!b.answer || text.replace(/^\s+|\s+$/g, '') === '' || self.reported[id] === text) return;
      var label = b.node.querySelector('label.cp-question');
      self.backend.interaction({ id: id, type: 'reflection', response: text, result: null,
        description: label ? label.textContent.replace(/\s+/g, ' ').replace(/^ | $/g, '') : '' });
      self.reported[id] = text;
    });
  };

  /** Saves now: on visibilitychange(hidden), and (with final) on pagehide before finishing. */
  Runtime.prototype.flush = function (final) {
    this.writeLocal();
    if (final && !this.backend.ended()) this.reportReflections();
    this.backend.save(final ? 'leave' : 'hide');
  };

  /**
   * Saves and ends the session (pagehide, or a link that became navigation `request`); once
   * ended, nothing more is written.
   */
  Runtime.prototype.leave = function (request) {
    if (this.backend.ended()) return;
    this.flush(true);
    this.backend.leave(request);
  };

  return {
    boot: boot,
    warn: warn,
    formatTime12: formatTime12,
    formatTime2004: formatTime2004,
    addRange: addRange,
    rangeTotal: rangeTotal,
    videoDone: videoDone,
    trackStep: trackStep,
    evaluate: evaluate,
    statusText: statusText,
    useStrings: useStrings,
    tr: tr,
    encodeState: encodeState,
    decodeState: decodeState,
    encodeCourse: encodeCourse,
    decodeCourse: decodeCourse,
    normaliseText: normaliseText,
    gradeQuestion: gradeQuestion,
    drawAttempt: drawAttempt,
    countRight: countRight,
    sessionScore: sessionScore,
    sessionSummary: sessionSummary,
    sessionState: sessionState,
    interactionValues: interactionValues,
    mergeLocalAnswers: mergeLocalAnswers,
    findAPI: findAPI,
    candidateWindows: candidateWindows,
    backends: {
      scorm12: scorm12Backend,
      scorm2004: scorm2004Backend,
      host: hostBackend,
      lti: ltiBackend,
      cmi5: cmi5Backend,
      local: localBackend
    },
    sessionBackend: sessionBackend,
    courseBackend: courseBackend,
    SUSPEND_LIMIT_12: SUSPEND_LIMIT_12,
    SUSPEND_LIMIT_2004: SUSPEND_LIMIT_2004
  };
});
