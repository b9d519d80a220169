/*! coursepack preview: the simulated LMS. No dependencies; served from the coursepack binary. */
/*
 * The shell page plays the course the way an LMS does: it puts the SCORM API object on this
 * window (`API` for SCORM 1.2, `API_1484_11` for SCORM 2004), where the runtime of the pages
 * finds it by the standard search of parent windows, and launches each SCO of the package in
 * the frame. It keeps what an LMS keeps of each SCO (the data model committed, the exit value,
 * the status) and launches it again by the rules of the chosen profile:
 *
 *   strict       the SCORM books to the letter: every value type-checked, limits (SPM) refused,
 *                a fresh API object per SCO, sequencing honours continue/previous/choice;
 *   moodle       Moodle 4.5 (mod/scorm, ../shared/LMS-NOTES.md "Moodle 4.5.0, observed"): SCORM
 *                1.2 limits enforced (scorm12standard), ONE SCORM 2004 API object per player page,
 *                never reset after Terminate (a second SCO's Initialize fails with 104), no
 *                sequencing (adl.nav.request_valid.* is "unknown"), its 1.2 player gives back the
 *                whole attempt after any exit (get_scorm_default), and in browse mode a 1.2 SCO
 *                that set no lesson_status is recorded completed by Moodle's finish code;
 *   blackboard   Blackboard Learn's SCORM engine: a fresh API per SCO, sequencing honoured, and
 *                the attempt is graded only when the SCO finishes (a SCO that never calls
 *                LMSFinish/Terminate stays "attempt in progress", Numbas#290);
 *   scorm-cloud  SCORM Cloud: a fresh API per SCO, sequencing honoured, values beyond the
 *                limits kept (and flagged in the panel).
 *
 * Re-launch: the data model comes back (entry = resume, with suspend_data and the location)
 * after exit = suspend; otherwise a new attempt: SCORM 2004 starts afresh (entry = ab-initio,
 * completion_status unknown), SCORM 1.2 keeps the status only (entry ""). Moodle's 1.2 player
 * is the exception: it gives back the whole attempt whatever the exit (entry "").
 *
 *
 * `--lms lti` frames the pages as the LTI tool serves them and shows what its progress endpoint
 * received; `--lms none` frames the pages alone and shows this browser's copy.
 */
(function () {
  'use strict';

  var cfg = JSON.parse(document.getElementById('cp-preview').textContent);
  var LMS = cfg.lms;
  var PROFILE = cfg.profile;
  var SCORM = LMS === 'scorm12' || LMS === 'scorm2004';
  var V12 = LMS === 'scorm12';
  var $ = function (id) { return document.getElementById(id); };
  var frame = $('pv-frame');
  var BLANK = 'about:blank';

  // -------------------------------------------------------------------------------------------
  // The data models: elements, access and types
  // -------------------------------------------------------------------------------------------

  var STATUS12 = ['passed', 'completed', 'failed', 'incomplete', 'browsed', 'not attempted'];
  var DEFS12 = [
    ['cmi.core._children', 'ro'], ['cmi.core.student_id', 'ro'], ['cmi.core.student_name', 'ro'],
    ['cmi.core.lesson_location', 'rw', 'str:255'], ['cmi.core.credit', 'ro'],
    ['cmi.core.lesson_status', 'rw', 'status12'], ['cmi.core.entry', 'ro'],
    ['cmi.core.score._children', 'ro'], ['cmi.core.score.raw', 'rw', 'score12'],
    ['cmi.core.score.max', 'rw', 'score12'], ['cmi.core.score.min', 'rw', 'score12'],
    ['cmi.core.total_time', 'ro'], ['cmi.core.lesson_mode', 'ro'],
    ['cmi.core.exit', 'wo', 'vocab:time-out,suspend,logout,'], ['cmi.core.session_time', 'wo', 'time12'],
    ['cmi.suspend_data', 'rw', 'suspend'], ['cmi.launch_data', 'ro'],
    ['cmi.comments', 'rw', 'str:4096'], ['cmi.comments_from_lms', 'ro'],
    ['cmi.objectives._children', 'ro'], ['cmi.objectives._count', 'ro'],
    ['cmi.objectives.n.id', 'rw', 'id12'], ['cmi.objectives.n.score._children', 'ro'],
    ['cmi.objectives.n.score.raw', 'rw', 'score12'], ['cmi.objectives.n.score.max', 'rw', 'score12'],
    ['cmi.objectives.n.score.min', 'rw', 'score12'], ['cmi.objectives.n.status', 'rw', 'status12'],
    ['cmi.student_data._children', 'ro'], ['cmi.student_data.mastery_score', 'ro'],
    ['cmi.student_data.max_time_allowed', 'ro'], ['cmi.student_data.time_limit_action', 'ro'],
    ['cmi.student_preference._children', 'ro'], ['cmi.student_preference.audio', 'rw', 'int:-1:100'],
    ['cmi.student_preference.language', 'rw', 'str:255'], ['cmi.student_preference.speed', 'rw', 'int:-100:100'],
    ['cmi.student_preference.text', 'rw', 'int:-1:1'],
    ['cmi.interactions._children', 'ro'], ['cmi.interactions._count', 'ro'],
    ['cmi.interactions.n.id', 'wo', 'id12'], ['cmi.interactions.n.objectives._count', 'ro'],
    ['cmi.interactions.n.objectives.n.id', 'wo', 'id12'], ['cmi.interactions.n.time', 'wo', 'hms'],
    ['cmi.interactions.n.type', 'wo', 'vocab:true-false,choice,fill-in,matching,performance,sequencing,likert,numeric'],
    ['cmi.interactions.n.correct_responses._count', 'ro'],
    ['cmi.interactions.n.correct_responses.n.pattern', 'wo', 'str:255'],
    ['cmi.interactions.n.weighting', 'wo', 'decimal'], ['cmi.interactions.n.student_response', 'wo', 'str:255'],
    ['cmi.interactions.n.result', 'wo', 'result12'], ['cmi.interactions.n.latency', 'wo', 'time12']
  ];
  var DEFS2004 = [
    ['cmi._version', 'ro'],
    ['cmi.comments_from_learner._children', 'ro'], ['cmi.comments_from_learner._count', 'ro'],
    ['cmi.comments_from_learner.n.comment', 'rw', 'str:4000'], ['cmi.comments_from_learner.n.location', 'rw', 'str:250'],
    ['cmi.comments_from_learner.n.timestamp', 'rw', 'time'],
    ['cmi.comments_from_lms._children', 'ro'], ['cmi.comments_from_lms._count', 'ro'],
    ['cmi.completion_status', 'rw', 'vocab:completed,incomplete,not attempted,unknown'],
    ['cmi.completion_threshold', 'ro'], ['cmi.credit', 'ro'], ['cmi.entry', 'ro'],
    ['cmi.exit', 'wo', 'vocab:time-out,suspend,logout,normal,'],
    ['cmi.interactions._children', 'ro'], ['cmi.interactions._count', 'ro'],
    ['cmi.interactions.n.id', 'rw', 'uri'],
    ['cmi.interactions.n.type', 'rw', 'vocab:true-false,choice,fill-in,long-fill-in,matching,performance,sequencing,likert,numeric,other'],
    ['cmi.interactions.n.objectives._count', 'ro'], ['cmi.interactions.n.objectives.n.id', 'rw', 'uri'],
    ['cmi.interactions.n.timestamp', 'rw', 'time'],
    ['cmi.interactions.n.correct_responses._count', 'ro'], ['cmi.interactions.n.correct_responses.n.pattern', 'rw', 'any'],
    ['cmi.interactions.n.weighting', 'rw', 'real'], ['cmi.interactions.n.learner_response', 'rw', 'any'],
    ['cmi.interactions.n.result', 'rw', 'result2004'], ['cmi.interactions.n.latency', 'rw', 'duration'],
    ['cmi.interactions.n.description', 'rw', 'str:250'],
    ['cmi.launch_data', 'ro'], ['cmi.learner_id', 'ro'], ['cmi.learner_name', 'ro'],
    ['cmi.learner_preference._children', 'ro'], ['cmi.learner_preference.audio_level', 'rw', 'real:0:'],
    ['cmi.learner_preference.language', 'rw', 'str:250'], ['cmi.learner_preference.delivery_speed', 'rw', 'real:0:'],
    ['cmi.learner_preference.audio_captioning', 'rw', 'vocab:-1,0,1'],
    ['cmi.location', 'rw', 'str:1000'], ['cmi.max_time_allowed', 'ro'], ['cmi.mode', 'ro'],
    ['cmi.objectives._children', 'ro'], ['cmi.objectives._count', 'ro'],
    ['cmi.objectives.n.id', 'rw', 'uri'], ['cmi.objectives.n.score._children', 'ro'],
    ['cmi.objectives.n.score.scaled', 'rw', 'real:-1:1'], ['cmi.objectives.n.score.raw', 'rw', 'real'],
    ['cmi.objectives.n.score.min', 'rw', 'real'], ['cmi.objectives.n.score.max', 'rw', 'real'],
    ['cmi.objectives.n.success_status', 'rw', 'vocab:passed,failed,unknown'],
    ['cmi.objectives.n.completion_status', 'rw', 'vocab:completed,incomplete,not attempted,unknown'],
    ['cmi.objectives.n.progress_measure', 'rw', 'real:0:1'], ['cmi.objectives.n.description', 'rw', 'str:250'],
    ['cmi.progress_measure', 'rw', 'real:0:1'], ['cmi.scaled_passing_score', 'ro'],
    ['cmi.score._children', 'ro'], ['cmi.score.scaled', 'rw', 'real:-1:1'], ['cmi.score.raw', 'rw', 'real'],
    ['cmi.score.min', 'rw', 'real'], ['cmi.score.max', 'rw', 'real'],
    ['cmi.session_time', 'wo', 'duration'],
    ['cmi.success_status', 'rw', 'vocab:passed,failed,unknown'],
    ['cmi.suspend_data', 'rw', 'suspend'], ['cmi.time_limit_action', 'ro'], ['cmi.total_time', 'ro']
  ];

  /** Element names as patterns: `.n.` is any index. */
  function compile(defs) {
    return defs.map(function (d) {
      var src = '^' + d[0].replace(/\./g, '\\.').replace(/\\\.n(?=\\\.|$)/g, '\\.(\\d+)') + '$';
      return { name: d[0], re: new RegExp(src), access: d[1], type: d[2] || '' };
    });
  }
  var DEFS = compile(V12 ? DEFS12 : DEFS2004);

  var CHILDREN = V12 ? {
    'cmi.core._children': 'student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time',
    'cmi.core.score._children': 'raw,min,max',
    'cmi.objectives._children': 'id,score,status',
    'cmi.student_data._children': 'mastery_score,max_time_allowed,time_limit_action',
    'cmi.student_preference._children': 'audio,language,speed,text',
    'cmi.interactions._children': 'id,objectives,time,type,correct_responses,weighting,student_response,result,latency'
  } : {
    'cmi.comments_from_learner._children': 'comment,location,timestamp',
    'cmi.comments_from_lms._children': 'comment,location,timestamp',
    'cmi.interactions._children': 'id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description',
    'cmi.learner_preference._children': 'audio_level,language,delivery_speed,audio_captioning',
    'cmi.objectives._children': 'id,score,success_status,completion_status,progress_measure,description',
    'cmi.score._children': 'scaled,raw,min,max'
  };
  var CHILDREN_OBJ_SCORE = V12 ? 'raw,min,max' : 'scaled,raw,min,max';

  // Error codes and their strings, per version.
  var ERRORS = V12 ? {
    0: 'No error', 101: 'General exception', 201: 'Invalid argument error',
    202: 'Element cannot have children', 203: 'Element not an array - cannot have count',
    301: 'Not initialized', 401: 'Not implemented error', 402: 'Invalid set value, element is a keyword',
    403: 'Element is read only', 404: 'Element is write only', 405: 'Incorrect data type'
  } : {
    0: 'No Error', 101: 'General Exception', 102: 'General Initialization Failure',
    103: 'Already Initialized', 104: 'Content Instance Terminated', 111: 'General Termination Failure',
    112: 'Termination Before Initialization', 113: 'Termination After Termination',
    122: 'Retrieve Data Before Initialization', 123: 'Retrieve Data After Termination',
    132: 'Store Data Before Initialization', 133: 'Store Data After Termination',
    142: 'Commit Before Initialization', 143: 'Commit After Termination',
    201: 'General Argument Error', 301: 'General Get Failure', 351: 'General Set Failure',
    391: 'General Commit Failure', 401: 'Undefined Data Model Element',
    402: 'Unimplemented Data Model Element', 403: 'Data Model Element Value Not Initialized',
    404: 'Data Model Element Is Read Only', 405: 'Data Model Element Is Write Only',
    406: 'Data Model Element Type Mismatch', 407: 'Data Model Element Value Out Of Range',
    408: 'Data Model Dependency Not Established'
  };
  var E = V12
    ? { general: 101, arg: 201, children: 202, count: 203, notInit: 301, unknown: 401, keyword: 402,
        readOnly: 403, writeOnly: 404, type: 405, range: 405, notSet: 0, dependency: 201, index: 201 }
    : { general: 101, arg: 201, children: 401, count: 401, unknown: 401, keyword: 404,
        readOnly: 404, writeOnly: 405, type: 406, range: 407, notSet: 403, dependency: 408, index: 351 };

  /** The SPM of suspend_data, and what this profile does beyond an SPM. */
  var SUSPEND_LIMIT = V12 ? 4096 : 64000;
  // Moodle enforces SCORM 1.2's limits (admin setting scorm12standard, on by default); strict
  // enforces every SPM; the others keep longer values, and the panel flags them.
  var ENFORCE_SPM = PROFILE === 'strict' || (PROFILE === 'moodle' && V12);
  var SEQUENCING = !V12 && PROFILE !== 'moodle';

  function num(v) { return /^-?\d+(\.\d+)?$/.test(v) ? parseFloat(v) : NaN; }

  /** 0 when `value` is of the element's type, else the error code. `over` is set when an SPM
   *  is exceeded but the profile keeps the value. */
  function checkType(type, value, note) {
    var parts = type.split(':');
    var kind = parts[0];
    var spm = function (n) {
      if (value.length <= n) return 0;
      if (ENFORCE_SPM) return E.type;
      note.over = value.length + ' characters, beyond the ' + n + ' the standard guarantees';
      return 0;
    };
    switch (kind) {
      case 'str': return spm(parseInt(parts[1], 10));
      case 'suspend': return spm(SUSPEND_LIMIT);
      case 'any': return 0;
      case 'vocab': return parts[1].split(',').indexOf(value) >= 0 ? 0 : E.type;
      case 'status12': return STATUS12.indexOf(value) >= 0 ? 0 : E.type;
      case 'score12':
        if (value === '') return 0;
        var s = num(value);
        return isNaN(s) ? E.type : (s < 0 || s > 100 ? E.range : 0);
      case 'decimal': case 'real':
        var r = num(value);
        if (isNaN(r)) return E.type;
        if (parts.length > 1 && parts[1] !== '' && r < parseFloat(parts[1])) return E.range;
        if (parts.length > 2 && parts[2] !== '' && r > parseFloat(parts[2])) return E.range;
        return 0;
      case 'int':
        if (!/^-?\d+$/.test(value)) return E.type;
        var i = parseInt(value, 10);
        return i < parseInt(parts[1], 10) || i > parseInt(parts[2], 10) ? E.range : 0;
      case 'id12': return /^[^\s]{1,255}$/.test(value) ? 0 : E.type;
      case 'uri': return value !== '' && value.length <= 4000 && !/\s/.test(value) ? 0 : E.type;
      case 'time12': return /^\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?$/.test(value) ? 0 : E.type;
      case 'hms': return /^\d{2}:\d{2}:\d{2}(\.\d{1,2})?$/.test(value) ? 0 : E.type;
      case 'duration':
        return /^P(?!$)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d{1,2})?S)?)?$/.test(value) ? 0 : E.type;
      case 'time':
        return /^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d{1,2}(Z|[+-]\d{2}(:\d{2})?)?)?)?)?)?)?)?$/.test(value) ? 0 : E.type;
      case 'result12':
        return ['correct', 'wrong', 'unanticipated', 'neutral'].indexOf(value) >= 0 || !isNaN(num(value)) ? 0 : E.type;
      case 'result2004':
        return ['correct', 'incorrect', 'unanticipated', 'neutral'].indexOf(value) >= 0 || !isNaN(num(value)) ? 0 : E.type;
      default: return 0;
    }
  }

  // -------------------------------------------------------------------------------------------
  // What the LMS keeps: one record per SCO (item), and the log of every call
  // -------------------------------------------------------------------------------------------

  var records = {};   // item id -> {attempt, kept: {element: value} (last commit), exit, finished, status, score}
  var log = [];       // {n, sco, fn, args, ret, err}
  var mode = 'normal';
  var scos = [];      // [{id, title, href}]
  var current = -1;
  var api = null;     // the API object on this window now
  var course = null;  // the last good build's course
  var build = 0;

  var P = V12
    ? { status: 'cmi.core.lesson_status', location: 'cmi.core.lesson_location', exit: 'cmi.core.exit',
        entry: 'cmi.core.entry', mode: 'cmi.core.lesson_mode', credit: 'cmi.core.credit',
        time: 'cmi.core.session_time', total: 'cmi.core.total_time', raw: 'cmi.core.score.raw', max: 'cmi.core.score.max' }
    : { status: 'cmi.completion_status', location: 'cmi.location', exit: 'cmi.exit', entry: 'cmi.entry',
        mode: 'cmi.mode', credit: 'cmi.credit', time: 'cmi.session_time', total: 'cmi.total_time',
        raw: 'cmi.score.raw', max: 'cmi.score.max', success: 'cmi.success_status', progress: 'cmi.progress_measure' };

  /** The data model a launch of `sco` starts with: the LMS's values and, by the re-launch
   *  rules, what it kept of the last attempt. */
  function launchValues(sco) {
    var r = records[sco.id];
    var v = {};
    var kept = r && r.kept;
    var suspended = !!kept && r.exit === 'suspend';
    // Moodle's SCORM 1.2 player gives back every value of the attempt whatever the exit was
    // (mod/scorm/datamodels/scorm_12lib.php, get_scorm_default): only `entry` tells.
    var wholeAttempt = !!kept && (suspended || sameAttempt(r));
    if (V12) {
      v['cmi.core.student_id'] = 'preview-learner';
      v['cmi.core.student_name'] = 'Learner, Preview';
      v['cmi.core.lesson_status'] = 'not attempted';
      v['cmi.core.total_time'] = (r && r.total12) || '0000:00:00.00';
      v['cmi.core.entry'] = !kept || !r.status ? 'ab-initio' : (suspended ? 'resume' : '');
      v['cmi.launch_data'] = '';
      v['cmi.comments_from_lms'] = '';
      v['cmi.suspend_data'] = '';
      v['cmi.core.lesson_location'] = '';
    } else {
      v['cmi._version'] = '1.0';
      v['cmi.learner_id'] = 'preview-learner';
      v['cmi.learner_name'] = 'Learner, Preview';
      v['cmi.completion_status'] = 'unknown';
      v['cmi.success_status'] = 'unknown';
      v['cmi.total_time'] = (r && r.total2004) || 'PT0S';
      v['cmi.entry'] = !kept ? 'ab-initio' : (suspended ? 'resume' : 'ab-initio');
      v['cmi.time_limit_action'] = 'continue,no message';
    }
    v[P.mode] = mode;
    v[P.credit] = mode === 'normal' ? 'credit' : 'no-credit';
    if (kept) {
      Object.keys(kept).forEach(function (k) {
        var objective = /^cmi\.objectives\./.test(k);
        if (wholeAttempt) {
          // The data model comes back whole, but for what a launch sets afresh.
          if (k !== P.entry && k !== P.mode && k !== P.credit && k !== P.exit && k !== P.time && k !== P.total) v[k] = kept[k];
        } else if (V12 && (k === P.status || k === P.raw || k === P.max || k === 'cmi.core.score.min' || objective)) {
          // SCORM 1.2: the status (and score) stays with the learner; suspend_data and the
          // location do not.
          v[k] = kept[k];
        } else if (!V12 && objective) {
          // The objectives' global record outlives attempts.
          v[k] = kept[k];
        }
      });
    }
    return v;
  }

  /** Whether a launch after an exit other than `suspend` goes on with the same attempt. */
  function sameAttempt(r) {
    return PROFILE === 'moodle' && V12 && !!r && !!r.kept;
  }

  // -------------------------------------------------------------------------------------------
  // The API object
  // -------------------------------------------------------------------------------------------

  function Api(sco) {
    this.sco = sco;
    this.values = launchValues(sco);
    this.state = 'new';   // 'new' -> 'running' -> 'done'
    this.lastError = 0;
    this.diagnostic = '';
    this.nav = '_none_';
    var r = records[sco.id];
    this.attempt = r && (r.exit === 'suspend' || sameAttempt(r)) ? r.attempt : ((r && r.attempt) || 0) + 1;
    this.notes = {};      // element -> flag shown in the panel (limits)
  }

  Api.prototype.fail = function (code, why) {
    this.lastError = code;
    this.diagnostic = why || ERRORS[code] || '';
    return code;
  };

  /** How many records a collection (`cmi.interactions`, `cmi.interactions.0.objectives`…) has. */
  Api.prototype.count = function (prefix) {
    var re = new RegExp('^' + prefix.replace(/\./g, '\\.') + '\\.(\\d+)\\.');
    var max = -1;
    Object.keys(this.values).forEach(function (k) {
      var m = re.exec(k);
      if (m) max = Math.max(max, parseInt(m[1], 10));
    });
    return max + 1;
  };

  Api.prototype.find = function (el) {
    for (var i = 0; i < DEFS.length; i++) if (DEFS[i].re.test(el)) return DEFS[i];
    return null;
  };

  Api.prototype.get = function (el) {
    el = String(el);
    if (el === '') return this.fail(V12 ? 201 : 301, 'no element named');
    var m = /^(.*)\._count$/.exec(el);
    if (m && this.find(el)) return { value: String(this.count(m[1])) };
    if (/\._children$/.test(el)) {
      if (CHILDREN[el]) return { value: CHILDREN[el] };
      if (/^cmi\.objectives\.\d+\.score\._children$/.test(el)) return { value: CHILDREN_OBJ_SCORE };
      return this.fail(E.children, el + ' has no children');
    }
    if (/\._count$/.test(el)) return this.fail(E.count, el + ' is not an array');
    if (!V12 && /^adl\.nav\.request_valid\./.test(el)) return { value: navValid(el.slice(22)) };
    if (!V12 && el === 'adl.nav.request') return { value: this.nav };
    var def = this.find(el);
    if (!def) return this.fail(E.unknown, el + ' is not an element of the data model');
    if (def.access === 'wo') return this.fail(E.writeOnly, el + ' is write-only');
    if (!Object.prototype.hasOwnProperty.call(this.values, el)) {
      if (V12) return { value: '' };
      return this.fail(E.notSet, el + ' has no value yet');
    }
    return { value: this.values[el] };
  };

  Api.prototype.set = function (el, value) {
    el = String(el);
    value = String(value);
    if (!V12 && el === 'adl.nav.request') {
      if (!/^(continue|previous|exit|exitAll|abandon|abandonAll|suspendAll|_none_|\{target=[^}]+\}(choice|jump))$/.test(value)) return this.fail(406, value + ' is not a navigation request');
      this.nav = value;
      return 0;
    }
    if (/\._(children|count|version)$/.test(el)) return this.fail(E.keyword, el + ' is a keyword');
    var def = this.find(el);
    if (!def) return this.fail(E.unknown, el + ' is not an element of the data model');
    if (def.access === 'ro') return this.fail(E.readOnly, el + ' is read-only');
    // An array's records are added in order; a new record starts with its id.
    var arrays = /^(cmi\.(?:objectives|interactions|comments_from_learner))\.(\d+)\.(.*)$/.exec(el);
    if (arrays) {
      var n = parseInt(arrays[2], 10);
      var count = this.count(arrays[1]);
      if (n > count) return this.fail(E.index, 'record ' + n + ' of ' + arrays[1] + ' before record ' + count);
      var rest = arrays[3];
      if (n === count && !V12 && arrays[1] !== 'cmi.comments_from_learner' && rest !== 'id') {
        return this.fail(E.dependency, arrays[1] + '.' + n + '.id must be set first');
      }
      var sub = /^(objectives|correct_responses)\.(\d+)\./.exec(rest);
      if (sub) {
        var prefix = arrays[1] + '.' + n + '.' + sub[1];
        var c = this.count(prefix);
        if (parseInt(sub[2], 10) > c) return this.fail(E.index, 'record ' + sub[2] + ' of ' + prefix + ' before record ' + c);
      }
    }
    var note = {};
    var code = checkType(def.type, value, note);
    if (code) return this.fail(code, JSON.stringify(value) + ' is not a valid ' + el + (def.type.indexOf('str') === 0 || def.type === 'suspend' ? ' (too long: ' + value.length + ' characters)' : ''));
    if (V12 && el === 'cmi.core.lesson_status' && value === 'not attempted') return this.fail(405, 'a SCO cannot set not attempted');
    if (note.over) this.notes[el] = note.over; else delete this.notes[el];
    this.values[el] = value;
    return 0;
  };

  /** What the LMS keeps at a commit: the data model as it stands. */
  Api.prototype.keep = function () {
    var r = records[this.sco.id] = records[this.sco.id] || { attempt: 0 };
    r.attempt = this.attempt;
    r.kept = JSON.parse(JSON.stringify(this.values));
    r.exit = this.values[P.exit] || '';
    r.mode = mode;
    // Blackboard grades an attempt only when the SCO finishes it.
    if (PROFILE !== 'blackboard' || this.state === 'done') this.grade(r);
    r.finished = this.state === 'done';
  };

  Api.prototype.grade = function (r) {
    if (mode !== 'normal') {
      // Browse and review launches are no-credit: the gradebook takes nothing from them.
      r.browsed = this.values[P.status] || '';
      return;
    }
    r.status = this.values[P.status] || '';
    if (!V12) r.success = this.values[P.success] || '';
    r.score = this.values[P.raw] != null ? this.values[P.raw] + (this.values[P.max] ? '/' + this.values[P.max] : '') : '';
  };

  Api.prototype.finish = function () {
    this.state = 'done';
    var t = this.values[P.time];
    var r = records[this.sco.id] = records[this.sco.id] || { attempt: 0 };
    if (t) {
      if (V12) r.total12 = addTime12(r.total12 || '0000:00:00.00', t);
      else r.total2004 = t; // shown as given; a real LMS adds it to the total
    }
    this.keep();
    // Moodle's own finish code in browse mode: a 1.2 SCO that set no status is recorded
    // completed (LMS-NOTES: a 3-SCO package graded 3/3 with nothing done).
    if (PROFILE === 'moodle' && V12 && mode === 'browse') {
      var st = this.values[P.status];
      if (!st || st === 'not attempted') {
        r.status = 'completed';
        r.browsed = 'completed (by Moodle)';
      }
    }
  };

  function addTime12(a, b) {
    var secs = function (t) { var p = t.split(':'); return (+p[0]) * 3600 + (+p[1]) * 60 + parseFloat(p[2]); };
    var s = secs(a) + secs(b);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = (s % 60).toFixed(2);
    return String(h).padStart(4, '0') + ':' + String(m).padStart(2, '0') + ':' + sec.padStart(5, '0');
  }

  /** adl.nav.request_valid.*, as this profile's sequencer answers. */
  function navValid(what) {
    if (!SEQUENCING) return 'unknown';
    if (what === 'continue') return current < scos.length - 1 ? 'true' : 'false';
    if (what === 'previous') return current > 0 ? 'true' : 'false';
    var m = /^choice\.\{target=([^}]+)\}$/.exec(what);
    if (m) return scos.some(function (s) { return s.id === m[1]; }) ? 'true' : 'false';
    return 'unknown';
  }

  /** The object the pages call: the version's functions, each logged. */
  function apiObject(a) {
    var o = {};
    var fns = V12
      ? { init: 'LMSInitialize', fin: 'LMSFinish', get: 'LMSGetValue', set: 'LMSSetValue', commit: 'LMSCommit',
          err: 'LMSGetLastError', str: 'LMSGetErrorString', diag: 'LMSGetDiagnostic' }
      : { init: 'Initialize', fin: 'Terminate', get: 'GetValue', set: 'SetValue', commit: 'Commit',
          err: 'GetLastError', str: 'GetErrorString', diag: 'GetDiagnostic' };
    var logged = function (fn, body) {
      return function () {
        var args = Array.prototype.slice.call(arguments).map(String);
        var ret = body.apply(null, args);
        record(scos[current] ? scos[current].id : a.sco.id, fn, args, ret, a.lastError);
        return ret;
      };
    };
    var ok = function (code) { a.lastError = code; if (!code) a.diagnostic = ''; return code ? 'false' : 'true'; };
    var before = V12 ? { get: 301, set: 301, commit: 301, fin: 301 } : { get: 122, set: 132, commit: 142, fin: 112 };
    var after = V12 ? { get: 301, set: 301, commit: 301, fin: 301 } : { get: 123, set: 133, commit: 143, fin: 113 };
    var guard = function (kind) {
      if (a.state === 'new') return a.fail(before[kind], fns.init + ' was not called');
      if (a.state === 'done') return a.fail(after[kind], fns.fin + ' was already called');
      return 0;
    };
    o[fns.init] = logged(fns.init, function (arg) {
      if (arg !== '' && arg !== undefined) return ok(a.fail(201, 'the argument must be ""'));
      if (a.state === 'running') return ok(a.fail(V12 ? 101 : 103, 'already initialised'));
      if (a.state === 'done') return ok(a.fail(V12 ? 101 : 104, 'this API object was terminated; ' + (PROFILE === 'moodle' && !V12 ? 'Moodle keeps one API object per player page' : 'a new launch gets a new one')));
      a.state = 'running';
      if (records[a.sco.id]) records[a.sco.id].finished = false;
      return ok(0);
    });
    o[fns.fin] = logged(fns.fin, function (arg) {
      if (arg !== '' && arg !== undefined) return ok(a.fail(201, 'the argument must be ""'));
      var g = guard('fin');
      if (g) return ok(g);
      a.finish();
      var req = a.nav;
      if (SEQUENCING && req !== '_none_') setTimeout(function () { sequence(req); }, 0);
      return ok(0);
    });
    o[fns.get] = logged(fns.get, function (el) {
      var g = guard('get');
      if (g) return '';
      var r = a.get(el);
      if (typeof r === 'number') return '';
      a.lastError = 0;
      return r.value;
    });
    o[fns.set] = logged(fns.set, function (el, value) {
      var g = guard('set');
      if (g) return ok(g);
      return ok(a.set(el, value));
    });
    o[fns.commit] = logged(fns.commit, function (arg) {
      if (arg !== '' && arg !== undefined) return ok(a.fail(201, 'the argument must be ""'));
      var g = guard('commit');
      if (g) return ok(g);
      a.keep();
      return ok(0);
    });
    o[fns.err] = function () { return String(a.lastError); };
    o[fns.str] = function (code) { return ERRORS[parseInt(code, 10)] || ''; };
    o[fns.diag] = function () { return a.diagnostic; };
    return o;
  }

  // -------------------------------------------------------------------------------------------
  // Launching SCOs
  // -------------------------------------------------------------------------------------------

  var pending = null; // the launch waiting for the frame to be empty

  /** Empties the frame (the page's pagehide saves and finishes), then calls `then`. */
  function unload(then) {
    var token = {};
    pending = token;
    var doc = null;
    try { doc = frame.contentDocument; } catch (e) { doc = null; }
    if (!doc || frame.getAttribute('src') === BLANK) {
      frame.setAttribute('src', BLANK);
      setTimeout(function () { if (pending === token) then(); }, 0);
      return;
    }
    var done = function () {
      frame.removeEventListener('load', done);
      if (pending === token) then();
    };
    frame.addEventListener('load', done);
    frame.setAttribute('src', BLANK);
  }

  /** Launches SCO `i`: a new API object (Moodle's 2004 player keeps the one it has). */
  function launch(i, fresh) {
    if (i < 0 || i >= scos.length) return;
    unload(function () {
      // A SCO left without finishing: the LMS keeps what was last committed.
      if (api && api.state === 'running') {
        var r = records[api.sco.id];
        if (r) r.finished = false;
      }
      var reuse = PROFILE === 'moodle' && !V12 && api && !fresh;
      current = i;
      if (!reuse) {
        api = new Api(scos[i]);
        window[V12 ? 'API' : 'API_1484_11'] = apiObject(api);
        var r2 = records[scos[i].id] = records[scos[i].id] || { attempt: 0 };
        r2.entry = api.values[P.entry];
      }
      $('pv-scos').value = String(i);
      frame.setAttribute('src', '/course/' + scos[i].href);
      render();
    });
  }

  /** SCORM 2004 sequencing after Terminate: continue, previous, choice. */
  function sequence(req) {
    var target = null;
    if (req === 'continue') target = current + 1;
    else if (req === 'previous') target = current - 1;
    else {
      var m = /^\{target=([^}]+)\}(choice|jump)$/.exec(req);
      if (m) target = scos.findIndex(function (s) { return s.id === m[1]; });
    }
    if (target != null && target >= 0 && target < scos.length) launch(target, false);
  }

  /** Opens the course again: the learner leaves and comes back (a new player page). */
  function relaunch() {
    if (SCORM) launch(current < 0 ? 0 : current, true);
    else {
      unload(function () { frame.setAttribute('src', pageUrl(lastPage || 'index.html')); render(); });
    }
  }

  var lastPage = null;
  function pageUrl(path) { return (LMS === 'lti' ? '/lti/' : '/course/') + path; }

  function resetLearner() {
    unload(function () {
      records = {};
      log.length = 0;
      api = null;
      // The pages' own copy in this browser goes too, or they would restore it.
      try {
        var prefix = 'coursepack:' + (course ? course.id + ':' : '');
        for (var i = localStorage.length - 1; i >= 0; i--) {
          var k = localStorage.key(i);
          if (k && k.indexOf(prefix) === 0) localStorage.removeItem(k);
        }
      } catch (e) { /* storage blocked */ }
      var after = function () {
        if (SCORM) launch(current < 0 ? 0 : current, true);
        else { frame.setAttribute('src', pageUrl('index.html')); render(); }
      };
      if (LMS === 'lti') fetch('/__preview/lti/reset', { method: 'POST' }).then(after, after);
      else after();
    });
  }

  // -------------------------------------------------------------------------------------------
  // The panel
  // -------------------------------------------------------------------------------------------

  function record(sco, fn, args, ret, err) {
    log.push({ n: log.length + 1, sco: sco, fn: fn, args: args, ret: String(ret), err: String(err) });
    schedule();
  }

  var scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setTimeout(function () { scheduled = false; render(); }, 30);
  }

  function el(tag, text, cls) {
    var n = document.createElement(tag);
    if (text != null) n.textContent = text;
    if (cls) n.className = cls;
    return n;
  }

  function rows(tbody, data, cells, rowClass) {
    var body = document.querySelector('#' + tbody + ' tbody');
    var frag = document.createDocumentFragment();
    data.forEach(function (d) {
      var tr = el('tr', null, rowClass ? rowClass(d) : '');
      cells(d).forEach(function (c, i) {
        var td = el(i === 0 ? 'th' : 'td', c);
        if (i === 0) td.setAttribute('scope', 'row');
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    body.textContent = '';
    body.appendChild(frag);
  }

  function quote(s) { return JSON.stringify(s); }

  function render() {
    if (course) $('pv-course').textContent = '· ' + course.title + ' ' + course.version;
    if (SCORM) renderScorm();
    if (LMS === 'none') renderLocal();
  }

  function renderScorm() {
    var sco = scos[current];
    $('pv-launch').textContent = sco
      ? 'Launched: ' + sco.title + ' (' + sco.id + '), attempt ' + (api ? api.attempt : '?') + ', entry ' +
        quote(api ? api.values[P.entry] : '') + ', mode ' + mode + (api && api.state === 'done' ? ' — finished' : '')
      : 'Nothing launched.';
    rows('pv-record', scos, function (s) {
      var r = records[s.id] || {};
      var status = r.status || (r.browsed != null ? '' : 'not attempted');
      if (r.browsed) status += (status ? ' ' : '') + '(' + mode + ' launch: ' + r.browsed + ', not graded)';
      if (PROFILE === 'blackboard' && r.kept && !r.finished) status += ' — attempt in progress';
      if (!V12 && r.success && r.success !== 'unknown') status += ', ' + r.success;
      return [s.title, status, r.score || '', r.exit != null ? quote(r.exit) : '', r.attempt ? String(r.attempt) : ''];
    });
    var v = api ? api.values : {};
    var sd = v['cmi.suspend_data'] || '';
    var meter = $('pv-suspend-meter');
    meter.max = SUSPEND_LIMIT;
    meter.value = Math.min(sd.length, SUSPEND_LIMIT);
    var size = $('pv-suspend-size');
    size.textContent = sd.length + ' of ' + SUSPEND_LIMIT + ' characters' + (V12 ? ' (SCORM 1.2)' : ' (SCORM 2004)') +
      (sd.length > SUSPEND_LIMIT ? ' — over the limit' : '');
    size.className = sd.length > SUSPEND_LIMIT ? 'pv-over' : '';
    $('pv-suspend-value').textContent = sd;
    var keys = Object.keys(v).filter(function (k) { return !/^cmi\.interactions\./.test(k); }).sort();
    rows('pv-cmi', keys, function (k) {
      return [k, v[k] + (api.notes[k] ? '  ⚠ ' + api.notes[k] : '')];
    }, function (k) { return api.notes[k] ? 'pv-err' : ''; });
    var n = api ? api.count('cmi.interactions') : 0;
    var its = [];
    for (var i = 0; i < n; i++) its.push(i);
    rows('pv-interactions', its, function (i) {
      var p = 'cmi.interactions.' + i + '.';
      return [String(i), v[p + 'id'] || '', v[p + 'type'] || '', v[p + (V12 ? 'student_response' : 'learner_response')] || '', v[p + 'result'] || ''];
    });
    var errorsOnly = $('pv-errors-only').checked;
    var shown = log.filter(function (c) { return !errorsOnly || c.err !== '0'; }).slice(-500);
    $('pv-calls-count').textContent = '(' + log.length + ')';
    rows('pv-calls', shown, function (c) {
      return [String(c.n), c.sco, c.fn + '(' + c.args.map(quote).join(', ') + ')', quote(c.ret),
        c.err + (c.err !== '0' ? ' ' + (ERRORS[c.err] || '') : '')];
    }, function (c) { return c.err !== '0' ? 'pv-err' : ''; });
  }

  function renderLocal() {
    var keys = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var k = localStorage.key(i);
        if (k && k.indexOf('coursepack:') === 0 && k !== 'coursepack:probe') keys.push(k);
      }
    } catch (e) { /* storage blocked */ }
    keys.sort();
    rows('pv-local-keys', keys, function (k) { return [k, String((localStorage.getItem(k) || '').length)]; });
  }

  function renderLti(lti) {
    var sessions = (course && course.sessions) || [];
    var done = 0;
    rows('pv-lti-sessions', sessions, function (s) {
      var r = lti.sessions[s.id];
      if (r && r.completed) done++;
      var score = r && r.score && r.score.max > 0 ? r.score.raw + '/' + r.score.max : '';
      var grade = '';
      if (r && r.completed) {
        grade = r.score && r.score.max > 0
          ? (Math.round(Math.min(r.score.raw, r.score.max) / r.score.max * 10000) / 100) + '/100 Completed'
          : '100/100 Completed';
      }
      return [s.title, r ? (r.completed ? 'completed' : 'in progress') : 'not started', score, grade];
    });
    var share = sessions.length ? Math.round(done / sessions.length * 10000) / 100 : 0;
    $('pv-lti-course').textContent = 'A whole-course link gets ' + share + '/100 ' +
      (done >= sessions.length && sessions.length ? 'Completed' : 'InProgress') + ' (' + done + ' of ' + sessions.length + ' sessions completed).';
    $('pv-lti-count').textContent = '(' + lti.posts.length + ')';
    rows('pv-lti-posts', lti.posts.slice().reverse(), function (p) {
      return [String(p.n), p.session, p.completed ? 'yes' : 'no', String(p.bytes)];
    });
  }

  // -------------------------------------------------------------------------------------------
  // Builds: the server's events
  // -------------------------------------------------------------------------------------------

  function onStatus(st) {
    var badge = $('pv-build');
    var problems = $('pv-problems');
    if (st.problems) {
      problems.hidden = false;
      $('pv-problems-text').textContent = st.problems;
      $('pv-problems-note').textContent = st.course
        ? 'The last good build is still shown below. Fix the course and save: the page reloads.'
        : 'Fix the course and save: the page shows it then.';
      badge.textContent = 'build failed';
      badge.className = 'pv-bad';
    } else {
      problems.hidden = true;
      badge.textContent = 'build ' + st.build + (st.course && st.course.warnings ? ', ' + st.course.warnings + ' warnings' : '');
      badge.className = '';
    }
    $('pv-warnings').hidden = !st.warnings;
    $('pv-warnings-text').textContent = st.warnings || '';
    if (st.course) {
      course = st.course;
      var list = LMS === 'scorm12' ? course.scos12 : course.scos2004;
      if (SCORM) setScos(list);
    }
    if (LMS === 'lti') renderLti(st.lti);
    if (st.build !== build && st.course) {
      var first = build === 0;
      build = st.build;
      // A new build: the open page goes and comes back, as a re-launch.
      if (SCORM) launch(first ? 0 : Math.max(0, Math.min(current, scos.length - 1)), true);
      else if (first) frame.setAttribute('src', pageUrl('index.html'));
      else {
        var at = null;
        try { at = frame.contentWindow.location.pathname.replace(/^\/(course|lti)\//, ''); } catch (e) { at = null; }
        unload(function () { frame.setAttribute('src', pageUrl(at || 'index.html')); });
      }
    }
    render();
  }

  function setScos(list) {
    scos = list;
    var sel = $('pv-scos');
    sel.textContent = '';
    list.forEach(function (s, i) {
      var o = el('option', s.title + ' (' + s.id + ')');
      o.value = String(i);
      sel.appendChild(o);
    });
    sel.value = String(Math.max(0, current));
    $('pv-lmsnav').hidden = list.length < 2;
  }

  // -------------------------------------------------------------------------------------------
  // Start
  // -------------------------------------------------------------------------------------------

  $('pv-lms').textContent = (LMS === 'scorm12' ? 'SCORM 1.2' : LMS === 'scorm2004' ? 'SCORM 2004' : LMS === 'lti' ? 'LTI tool' : 'no LMS') +
    (SCORM ? ' · profile ' + PROFILE : '');
  $('pv-scorm').hidden = !SCORM;
  $('pv-lti').hidden = LMS !== 'lti';
  $('pv-local').hidden = LMS !== 'none';
  $('pv-mode').disabled = !SCORM;
  $('pv-prev').addEventListener('click', function () { launch(current - 1, false); });
  $('pv-next').addEventListener('click', function () { launch(current + 1, false); });
  $('pv-scos').addEventListener('change', function () { launch(parseInt(this.value, 10), false); });
  $('pv-relaunch').addEventListener('click', relaunch);
  $('pv-reset').addEventListener('click', resetLearner);
  $('pv-errors-only').addEventListener('change', render);
  $('pv-mode').addEventListener('change', function () { mode = this.value; relaunch(); });
  frame.addEventListener('load', function () {
    try {
      var p = frame.contentWindow.location.pathname;
      if (/^\/(course|lti)\//.test(p)) lastPage = p.replace(/^\/(course|lti)\//, '');
    } catch (e) { /* another site */ }
    if (LMS === 'none') setTimeout(render, 300);
  });
  window.addEventListener('storage', function () { if (LMS === 'none') render(); });

  // For the tests and the curious: the simulator's state.
  window.coursepackPreview = {
    records: function () { return records; },
    log: function () { return log; },
    api: function () { return api; },
    relaunch: relaunch,
    reset: resetLearner
  };

  var events = new EventSource('/__preview/events');
  events.addEventListener('status', function (e) {
    try { onStatus(JSON.parse(e.data)); } catch (err) { if (window.console) console.error(err); }
  });
})();
