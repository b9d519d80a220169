#!/usr/bin/env python3
"""A test cmi5 LMS with its LRS, written from the cmi5 specification (AICC CMI-5, Quartz) and
xAPI 1.0.3, sharing no code with coursepack. Standard library only.

    python3 tests/cmi5/lms.py PACKAGE_DIR [--port N]

It imports PACKAGE_DIR/cmi5.xml, serves the package under /content/, and prints
`listening on http://127.0.0.1:PORT` once ready. A test drives it over HTTP:

    POST /lms/launch {"au": index, "registration": uuid or omitted (new), "mode": "Normal",
                      "returnURL": true}
        -> {"url": launch URL, "registration", "session", "activityId"}
    GET  /lms/report -> {"statements": [...], "violations": [...], "writes": [...], "fetches": [...]}

The LMS side answers the fetch URL once (a second POST gets error-code 1), keeps LMS.LaunchData,
the learner's State documents and the cmi5LearnerPreferences agent profile, and records every
statement. Every request and every statement is checked against the rules of the specification
as it arrives (and each session again when it ends): anything that breaks one is added to
`violations`, which the tests require to be empty.
"""

import argparse
import json
import re
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

NS = "{https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd}"
VERB = "http://adlnet.gov/expapi/verbs/"
CMI5_VERBS = {VERB + v for v in ("initialized", "completed", "passed", "failed", "terminated")}
CAT_CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
CAT_MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
EXT_SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
EXT_MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
DURATION_RE = re.compile(r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                         r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")
HOME = "https://lms.test"


def parse_course(path):
    root = ET.parse(path).getroot()
    if root.tag != NS + "courseStructure":
        raise SystemExit(f"{path}: root is {root.tag}")
    course = root.find(NS + "course")
    aus = []
    for au in root.iter(NS + "au"):
        aus.append({
            "id": au.get("id"),
            "url": au.find(NS + "url").text.strip(),
            "moveOn": au.get("moveOn", "NotApplicable"),
            "masteryScore": float(au.get("masteryScore")) if au.get("masteryScore") else None,
            "launchMethod": au.get("launchMethod", "AnyWindow"),
            "title": au.find(NS + "title").find(NS + "langstring").text,
        })
    return {"id": course.get("id"), "aus": aus}


def timestamp(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


class Lms:
    def __init__(self, course, base):
        self.course = course
        self.base = base
        self.lock = threading.Lock()
        self.statements = []      # every statement accepted, in order of receipt
        self.ids = {}           # statement id -> its canonical JSON
        self.violations = []
        self.writes = []          # State / profile writes: (method, stateId or profileId)
        self.fetches = []         # every POST to a fetch URL: (key, answer)
        self.fetch_keys = {}      # key -> session id (None once used)
        self.tokens = {}          # auth token -> session id
        self.sessions = {}        # session id -> launch
        self.state = {}           # (activityId, agent, registration, stateId) -> bytes
        self.registrations = {}   # (registration, activityId) -> {"completed", "passed"}

    def violation(self, where, text):
        self.violations.append(f"{where}: {text}")

    # -- launching --------------------------------------------------------------------------

    def launch(self, req):
        au = self.course["aus"][int(req.get("au", 0))]
        registration = req.get("registration") or str(uuid.uuid4())
        mode = req.get("mode", "Normal")
        session = str(uuid.uuid4())
        # The LMS's own activity id for the AU: never the publisher's id (cmi5 8.1.5), the same
        # on every launch.
        activity = f"{HOME}/activities/{uuid.uuid5(uuid.NAMESPACE_URL, au['id'])}"
        actor = {"objectType": "Agent", "account": {"homePage": HOME, "name": req.get("learner", "learner-1")}}
        key = uuid.uuid4().hex
        token = uuid.uuid4().hex
        template = {
            "contextActivities": {"grouping": [{"id": au["id"], "objectType": "Activity"}]},
            "extensions": {EXT_SESSION: session},
        }
        data = {"contextTemplate": template, "launchMode": mode, "moveOn": au["moveOn"],
                "launchMethod": au["launchMethod"], "entitlementKey": {"courseStructure": "test"}}
        if au["masteryScore"] is not None:
            data["masteryScore"] = au["masteryScore"]
        if req.get("returnURL"):
            data["returnURL"] = f"{self.base}/lms/returned?session={session}"
        with self.lock:
            self.fetch_keys[key] = session
            self.tokens[token] = session
            self.sessions[session] = {"au": au, "registration": registration, "mode": mode, "actor": actor,
                                      "activityId": activity, "token": token, "data": data, "ended": False,
                                      "statements": [], "audio": req.get("audio", "on")}
            self.state[(activity, canon(actor), registration, "LMS.LaunchData")] = json.dumps(data).encode()
            self.registrations.setdefault((registration, activity), {"completed": False, "passed": False})
        query = urlencode({"endpoint": f"{self.base}/xapi/", "fetch": f"{self.base}/lms/fetch/{key}",
                           "actor": json.dumps(actor), "registration": registration, "activityId": activity})
        return {"url": f"{self.base}/content/{au['url']}?{query}", "registration": registration,
                "session": session, "activityId": activity, "fetch": f"{self.base}/lms/fetch/{key}"}

    def fetch(self, key):
        with self.lock:
            if key not in self.fetch_keys:
                answer = {"error-code": "2", "error-text": "Unknown fetch URL."}
            elif self.fetch_keys[key] is None:
                answer = {"error-code": "1", "error-text": "The authorization token has already been returned."}
            else:
                session = self.fetch_keys[key]
                self.fetch_keys[key] = None
                answer = {"auth-token": self.sessions[session]["token"]}
            self.fetches.append({"key": key, "answer": answer})
        return answer

    # -- the LRS ----------------------------------------------------------------------------

    def session_of(self, headers, where):
        """The session a request's credentials belong to, or None (a violation)."""
        if headers.get("X-Experience-API-Version") != "1.0.3":
            self.violation(where, f"X-Experience-API-Version is {headers.get('X-Experience-API-Version')!r}, not 1.0.3")
        auth = headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            self.violation(where, f"Authorization {auth!r} is not `Basic <auth-token>`")
            return None
        session = self.tokens.get(auth[len("Basic "):])
        if session is None:
            self.violation(where, "unknown auth token")
        return session

    def statement(self, s, sid):
        """Checks one statement as it arrives (cmi5 7.1, 9) and records it."""
        launch = self.sessions[sid]
        where = f"statement {s.get('id')} ({s.get('verb', {}).get('id', '?').rsplit('/', 1)[-1]})"
        v = lambda text: self.violation(where, text)  # noqa: E731
        if not isinstance(s.get("id"), str) or not UUID_RE.match(s["id"]):
            v("the AU must give every statement a UUID id (9.1)")
        elif s["id"] in self.ids:
            # xAPI: the same statement again is stored once; another one under its id is a conflict.
            if self.ids[s["id"]] != canon(s):
                v("statement id used for two different statements")
            return False
        self.ids[s.get("id")] = canon(s)
        ts = s.get("timestamp")
        try:
            t = timestamp(ts)
            if t.utcoffset() is None or t.utcoffset().total_seconds() != 0:
                v(f"timestamp {ts} is not UTC (9.7)")
        except (TypeError, ValueError):
            v(f"timestamp {ts!r} missing or malformed (9.7)")
        if s.get("actor") != launch["actor"]:
            v(f"actor {s.get('actor')} is not the launch's actor (8.1.3)")
        if launch["ended"]:
            v("statement after terminated (9.3.8)")
        verb = s.get("verb", {}).get("id")
        ctx = s.get("context") or {}
        if ctx.get("registration") != launch["registration"]:
            v("context.registration is not the launch's registration (9.6.1)")
        template = launch["data"]["contextTemplate"]
        for kind, acts in template["contextActivities"].items():
            got = [a.get("id") for a in (ctx.get("contextActivities") or {}).get(kind, [])]
            for a in acts:
                if a["id"] not in got:
                    v(f"contextTemplate's {kind} {a['id']} missing (9.6.2, 10.2.1)")
        for k, val in template["extensions"].items():
            if (ctx.get("extensions") or {}).get(k) != val:
                v(f"contextTemplate extension {k} missing or changed (9.6.3.1)")
        cats = [a.get("id") for a in (ctx.get("contextActivities") or {}).get("category", [])]
        defined = CAT_CMI5 in cats
        result = s.get("result") or {}
        earlier = [x for x in launch["statements"]]
        if not earlier and verb != VERB + "initialized":
            v("the first statement of a session must be initialized (7.1.1)")
        if verb == VERB + "initialized":
            if not launch.get("launchdata_read"):
                v("initialized before reading LMS.LaunchData (10)")
            if not launch.get("profile_read"):
                v("initialized before reading cmi5LearnerPreferences (11: on startup)")
        if launch["mode"] != "Normal" and verb not in (VERB + "initialized", VERB + "terminated"):
            v(f"{launch['mode']} mode: only initialized and terminated may be sent (10.2.2)")
        if defined:
            if verb not in CMI5_VERBS:
                v(f"verb {verb} is not one an AU may send as cmi5 defined")
            if (s.get("object") or {}).get("id") != launch["activityId"]:
                v("object.id of a cmi5 defined statement must be the launch's activityId (9.4)")
            if any(x["verb"]["id"] == verb and CAT_CMI5 in x["cats"] for x in earlier):
                v("verb used twice in one session (9.3)")
            if verb in (VERB + "passed", VERB + "failed") and any(
                    x["verb"]["id"] in (VERB + "passed", VERB + "failed") for x in earlier):
                v("more than one of passed/failed in one session (9.3)")
            moveon = "success" in result or "completion" in result
            if moveon != (CAT_MOVEON in cats):
                v("moveOn category must be present exactly when result has success or completion (9.6.2.2)")
            if "score" in result and verb not in (VERB + "passed", VERB + "failed"):
                v("score only on passed/failed (9.5.1)")
            if ("success" in result) != (verb in (VERB + "passed", VERB + "failed")):
                v("success only on passed/failed (9.5.2)")
            if verb == VERB + "passed" and result.get("success") is not True:
                v("passed needs success true")
            if verb == VERB + "failed" and result.get("success") is not False:
                v("failed needs success false")
            if ("completion" in result) != (verb == VERB + "completed") or (
                    verb == VERB + "completed" and result.get("completion") is not True):
                v("completion true on completed only (9.5.3)")
            if verb in (VERB + "terminated", VERB + "completed", VERB + "passed", VERB + "failed"):
                if not isinstance(result.get("duration"), str) or not DURATION_RE.match(result["duration"]):
                    v(f"duration {result.get('duration')!r} required as ISO 8601 (9.5.4)")
            score = result.get("score")
            if score is not None:
                if "raw" in score and ("min" not in score or "max" not in score):
                    v("raw score without min and max (9.5.1)")
                if "raw" in score and not (score.get("min", 0) <= score["raw"] <= score.get("max", 0)):
                    v("raw score outside min..max")
                if "scaled" in score and not 0 <= score["scaled"] <= 1:
                    v("scaled score outside 0..1")
            mastery = launch["data"].get("masteryScore")
            if verb in (VERB + "passed", VERB + "failed") and mastery is not None:
                if (ctx.get("extensions") or {}).get(EXT_MASTERY) != mastery:
                    v("passed/failed judged by masteryScore must carry it in context (9.6.3.2)")
                scaled = (score or {}).get("scaled")
                if scaled is not None and verb == VERB + "passed" and scaled < mastery:
                    v("passed with a scaled score below masteryScore (9.3.4)")
                if scaled is not None and verb == VERB + "failed" and scaled >= mastery:
                    v("failed with a scaled score at or above masteryScore (9.3.5)")
            reg = self.registrations[(launch["registration"], launch["activityId"])]
            if verb == VERB + "completed":
                if reg["completed"]:
                    v("a second completed in one registration (9.3.3)")
                reg["completed"] = True
            if verb == VERB + "passed":
                if reg["passed"]:
                    v("a second passed in one registration (9.3.4)")
                reg["passed"] = True
            if verb == VERB + "failed" and reg["passed"]:
                v("failed after passed in one registration (9.3)")
        else:
            if CAT_MOVEON in cats:
                v("moveOn category on a statement that is not cmi5 defined (9.6.2.2)")
            if verb == VERB + "answered":
                obj = s.get("object") or {}
                d = obj.get("definition") or {}
                if d.get("type") != "http://adlnet.gov/expapi/activities/cmi.interaction" or not d.get("interactionType"):
                    v("answered without an interaction activity definition")
                if "response" not in result:
                    v("answered without result.response")
        if verb == VERB + "terminated":
            launch["ended"] = True
        launch["statements"].append({"verb": s.get("verb"), "cats": cats, "ts": ts})
        self.statements.append({"session": sid, "statement": s})
        return True

    def end_checks(self):
        """Per session, by timestamp: initialized first, terminated last (7.1, 9.3)."""
        for sid, launch in self.sessions.items():
            got = launch["statements"]
            if not got:
                continue
            try:
                order = sorted(got, key=lambda x: timestamp(x["ts"]))
            except (TypeError, ValueError):
                continue
            if order[0]["verb"]["id"] != VERB + "initialized":
                self.violation(f"session {sid}", "initialized is not the first statement by timestamp")
            ended = [x for x in got if x["verb"]["id"] == VERB + "terminated"]
            if ended and order[-1]["verb"]["id"] != VERB + "terminated":
                self.violation(f"session {sid}", "terminated is not the last statement by timestamp")


def canon(agent):
    return json.dumps(agent, sort_keys=True, separators=(",", ":"))


def make_handler(lms, content):
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=content, **k)

        def log_message(self, *a):
            pass

        def cors(self):
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Experience-API-Version")
            self.send_header("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE")

        def reply(self, status, body=None, ctype="application/json"):
            data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            self.send_response(status)
            self.cors()
            if body is not None:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            if self.path.startswith("/xapi/"):
                self.send_header("X-Experience-API-Version", "1.0.3")
            self.end_headers()
            if data:
                self.wfile.write(data)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_OPTIONS(self):
            self.reply(204)

        def do_GET(self):
            u = urlsplit(self.path)
            if u.path.startswith("/content/"):
                self.path = self.path[len("/content"):]
                return super().do_GET()
            if u.path == "/lms/report":
                with lms.lock:
                    lms.end_checks()
                    report = {"statements": lms.statements, "violations": lms.violations,
                              "writes": lms.writes, "fetches": lms.fetches,
                              "state": {"|".join(k): v.decode() for k, v in lms.state.items()}}
                    lms.violations = [x for x in lms.violations if not x.startswith("session ")]
                return self.reply(200, report)
            if u.path == "/lms/returned":
                return self.reply(200, b"<!DOCTYPE html><title>LMS</title><h1>Back in the LMS</h1>", "text/html")
            if u.path.startswith("/lms/fetch/"):
                with lms.lock:
                    lms.violation("fetch", "GET on the fetch URL: it must be POST (8.2.1)")
                return self.reply(405)
            if u.path.startswith("/xapi/"):
                return self.xapi("GET", u)
            self.reply(404, {"error": "not found"})

        def do_PUT(self):
            u = urlsplit(self.path)
            if u.path.startswith("/xapi/"):
                return self.xapi("PUT", u)
            self.reply(404)

        def do_DELETE(self):
            u = urlsplit(self.path)
            if u.path.startswith("/xapi/"):
                return self.xapi("DELETE", u)
            self.reply(404)

        def do_POST(self):
            u = urlsplit(self.path)
            if u.path == "/lms/launch":
                return self.reply(200, lms.launch(json.loads(self.body() or b"{}")))
            if u.path.startswith("/lms/fetch/"):
                self.body()
                return self.reply(200, lms.fetch(u.path.rsplit("/", 1)[-1]))
            if u.path.startswith("/xapi/"):
                return self.xapi("POST", u)
            self.reply(404)

        def xapi(self, method, u):
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            body = self.body() if method in ("PUT", "POST") else b""
            where = f"{method} {u.path}"
            with lms.lock:
                sid = lms.session_of(self.headers, where)
                if sid is None:
                    return self.reply(401, {"error": "unauthorised"})
                launch = lms.sessions[sid]
                if u.path == "/xapi/statements" and method in ("POST", "PUT"):
                    try:
                        got = json.loads(body)
                    except ValueError:
                        lms.violation(where, "body is not JSON")
                        return self.reply(400)
                    if method == "PUT":
                        got = dict(got, id=q.get("statementId"))
                    batch = got if isinstance(got, list) else [got]
                    for s in batch:
                        lms.statement(s, sid)
                    return self.reply(200, [s.get("id") for s in batch])
                if u.path == "/xapi/activities/state":
                    agent = json.loads(q.get("agent", "null"))
                    if agent != launch["actor"]:
                        lms.violation(where, "agent is not the launch's actor (8.1.3)")
                    if q.get("activityId") != launch["activityId"]:
                        lms.violation(where, "activityId is not the launch's")
                    if q.get("registration") != launch["registration"]:
                        lms.violation(where, "registration is not the launch's")
                    key = (q.get("activityId"), canon(agent), q.get("registration"), q.get("stateId"))
                    if method == "GET":
                        if q.get("stateId") == "LMS.LaunchData":
                            launch["launchdata_read"] = True
                        if key not in lms.state:
                            return self.reply(404)
                        return self.reply(200, lms.state[key])
                    lms.writes.append({"session": sid, "method": method, "stateId": q.get("stateId"),
                                       "mode": launch["mode"]})
                    if q.get("stateId") == "LMS.LaunchData":
                        lms.violation(where, "the AU must not modify LMS.LaunchData (10.2.1)")
                        return self.reply(403)
                    if method == "DELETE":
                        lms.state.pop(key, None)
                    else:
                        try:
                            json.loads(body)
                        except ValueError:
                            lms.violation(where, "state document is not JSON")
                        lms.state[key] = body
                    return self.reply(204)
                if u.path == "/xapi/agents/profile" and method == "GET":
                    launch["profile_read"] = True
                    if q.get("profileId") != "cmi5LearnerPreferences":
                        return self.reply(404)
                    return self.reply(200, {"languagePreference": "en-GB,fr-FR", "audioPreference": launch["audio"]})
                if u.path == "/xapi/agents/profile":
                    # The LMS may refuse the AU's preference changes (cmi5 11).
                    return self.reply(403)
                return self.reply(404)

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("package")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    course = parse_course(f"{args.package}/cmi5.xml")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), None)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    lms = Lms(course, base)
    server.RequestHandlerClass = make_handler(lms, args.package)
    print(f"listening on {base}", flush=True)
    print(json.dumps({"course": course}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
