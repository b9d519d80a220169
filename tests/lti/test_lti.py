"""End-to-end tests of `coursepack serve` against the independent platform in lti_platform.py.

Usage: test_lti.py --bin target/debug/coursepack --db sqlite|postgres://... --work DIR
Prints one line per test and ends with `RESULT passed=N failed=M`.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import traceback
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import requests

from lti_platform import LTI, ROLE, SCOPE_SCORE, Key, Platform, parse_iso

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixture", "course")
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Tool:
    """One `coursepack serve` process."""

    def __init__(self, ctx, name, port=None, public_url=None, course=None, data=None, extra=()):
        self.ctx = ctx
        self.extra = list(extra)
        self.name = name
        self.course = course or ctx.course
        self.data = data or ctx.data
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.public_url = public_url or self.url
        self.proc = None

    def start(self):
        args = [self.ctx.bin, "serve", self.course, "--listen", f"127.0.0.1:{self.port}",
                "--public-url", self.public_url, "--data", self.data,
                "--platforms", self.ctx.platforms_file]
        if self.ctx.db != "sqlite" and self.data == self.ctx.data:
            args += ["--database", self.ctx.db]
        args += self.extra
        env = dict(os.environ, COURSEPACK_LTI_RETRY_BASE_MS="300", COURSEPACK_LTI_RETRY_MAX_MS="1500",
                   COURSEPACK_LTI_LEASE_MS="3000", COURSEPACK_LTI_POLL_MS="200", RUST_LOG="info,sqlx=warn")
        log = open(os.path.join(self.ctx.work, f"tool-{self.name}.log"), "a")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, env=env)
        wait_for(self.healthy, 60, f"tool {self.name} to start")
        return self

    def healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"tool {self.name} exited with {self.proc.returncode}; see tool-{self.name}.log")
        try:
            return requests.get(self.url + "/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def health(self):
        return requests.get(self.url + "/health", timeout=5).json()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise AssertionError(f"tool {self.name} ignored SIGTERM")
        return self.proc.returncode


class Ctx:
    def __init__(self, args):
        self.bin = os.path.abspath(args.bin)
        self.db = args.db
        self.work = os.path.abspath(args.work)
        self.data = os.path.join(self.work, "data")
        self.course = os.path.join(self.work, "course")
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.data)
        shutil.copytree(FIXTURE, self.course)
        # A media file large enough to be streamed from disk (with ranges), made at run time.
        os.makedirs(os.path.join(self.course, "media"))
        with open(os.path.join(self.course, "media", "clip.mp4"), "wb") as f:
            f.write(bytes(range(256)) * 4000)
        self.platform = Platform()
        self.platforms_file = os.path.join(self.work, "platforms.toml")
        with open(self.platforms_file, "w") as f:
            f.write(self.platform.platforms_toml())
        self.tool = Tool(self, "a").start()
        self.platform.tool_jwks_url = self.tool.url + "/.well-known/jwks.json"

    def db_scalar(self, sql):
        if self.db == "sqlite":
            con = sqlite3.connect(os.path.join(self.data, "coursepack-lti.sqlite"))
            try:
                return con.execute(sql).fetchone()[0]
            finally:
                con.close()
        out = subprocess.run(["psql", self.db, "-tAc", sql], capture_output=True, text=True, check=True)
        return int(out.stdout.strip())


# -- browser side of the flow -----------------------------------------------------------------

def login(ctx, browser, target=None, method="GET", tool=None, **extra):
    tool = tool or ctx.tool
    p = ctx.platform
    params = {"iss": p.issuer, "login_hint": "user-hint-1", "target_link_uri": target or tool.public_url + "/launch/s1",
              "lti_message_hint": "msg-hint-1", "client_id": p.client_id, "lti_deployment_id": p.deployment_id}
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    if method == "GET":
        r = browser.get(tool.url + "/lti/login", params=params, allow_redirects=False)
    else:
        r = browser.post(tool.url + "/lti/login", data=params, allow_redirects=False)
    assert r.status_code == 302, f"login answered {r.status_code}: {r.text[:300]}"
    loc = urlparse(r.headers["Location"])
    q = {k: v[0] for k, v in parse_qs(loc.query).items()}
    q["_location"] = r.headers["Location"]
    q["_set_cookie"] = r.headers.get("Set-Cookie", "")
    return q


def post_launch(ctx, browser, id_token, state, tool=None):
    tool = tool or ctx.tool
    data = {}
    if id_token is not None:
        data["id_token"] = id_token
    if state is not None:
        data["state"] = state
    return browser.post(tool.url + "/lti/launch", data=data, allow_redirects=False)


def launch(ctx, target=None, sub="learner-1", tool=None, lineitem=None, mutate=None, browser=None,
           message_type="LtiResourceLinkRequest", **claim_args):
    """A full, valid launch; returns (browser, page URL). `claim_args` go to Platform.claims
    (context, resource_link, roles, scopes)."""
    browser = browser or requests.Session()
    tool = tool or ctx.tool
    target = target or tool.public_url + "/launch/s1"
    q = login(ctx, browser, target=target, tool=tool)
    claims = ctx.platform.claims(q["nonce"], target, message_type=message_type, sub=sub, lineitem=lineitem,
                                 **claim_args)
    if mutate:
        mutate(claims)
    r = post_launch(ctx, browser, ctx.platform.sign(claims), q["state"], tool=tool)
    assert r.status_code == 303, f"launch answered {r.status_code}: {r.text[:300]}"
    loc = r.headers["Location"]
    assert loc.startswith(tool.public_url + "/"), f"redirect outside the public URL: {loc}"
    return browser, tool.url + loc[len(tool.public_url):]


def island(html):
    m = re.search(r'<script type="application/json" id="cp-lti">(.*?)</script>', html)
    assert m, "no cp-lti island in the page"
    return json.loads(m.group(1))


def post_progress(ctx, page_html, session, completed, state=None, token=None):
    isl = island(page_html)
    return requests.post(isl["endpoint"], json={"session": session, "state": state or {"done": ["x"]},
                                                "completed": completed},
                         headers={"Authorization": f"Bearer {token or isl['token']}"}, timeout=10)


def scores_for(ctx, user, lineitem_n=1):
    with ctx.platform.lock:
        return [s for s in ctx.platform.scores
                if s["body"]["userId"] == user and s["lineitem"] == f"/lineitems/{lineitem_n}/lineitem"]


def posts_for(ctx, user):
    with ctx.platform.lock:
        return [p for p in ctx.platform.score_posts if p[1] == user]


def no_protocol_errors(ctx):
    with ctx.platform.lock:
        errs = list(ctx.platform.errors)
    assert not errs, f"the platform saw protocol errors: {errs}"


# -- tests ------------------------------------------------------------------------------------

@test
def health_and_jwks(ctx):
    h = ctx.tool.health()
    assert h["status"] == "ok", h
    r = requests.get(ctx.tool.url + "/.well-known/jwks.json")
    keys = r.json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"], keys
    assert "d" not in keys[0] and "p" not in keys[0], "private parts published"


@test
def home_page_and_bad_input(ctx):
    r = requests.get(ctx.tool.url + "/")
    assert r.status_code == 200 and ctx.tool.public_url + "/lti/register" in r.text, r.status_code
    # Common Cartridge LTI links name <tool-url>/icon.svg.
    r = requests.get(ctx.tool.url + "/icon.svg")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/svg+xml" and r.text.startswith("<svg"), r.status_code
    root = os.path.dirname(os.path.dirname(HERE))
    bad_platforms = os.path.join(ctx.work, "bad-platforms.toml")
    with open(bad_platforms, "w") as f:
        f.write('[[platform]]\nissuer = "x"\nclient_id = "y"\n')
    cases = [
        ("a course with problems", [os.path.join(root, "tests", "fixtures", "broken", "misspelt-key")], "course.toml"),
        ("a folder that is no course", [ctx.work], "neither course.toml nor index.html"),
        ("a broken platforms file", [ctx.course, "--platforms", bad_platforms], "missing field"),
        ("a public URL that is not http(s)", [ctx.course, "--public-url", "ftp://x"], "--public-url"),
    ]
    for name, args, message in cases:
        if "--public-url" not in args:
            args = args + ["--public-url", "http://127.0.0.1:9"]
        out = subprocess.run([ctx.bin, "serve", "--data", os.path.join(ctx.work, "data-bad"),
                              "--listen", "127.0.0.1:9"] + args, capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and message in out.stderr, (name, out.returncode, out.stderr[-400:])


@test
def login_redirect_get_and_post(ctx):
    for method in ("GET", "POST"):
        b = requests.Session()
        q = login(ctx, b, method=method)
        assert q["_location"].startswith(ctx.platform.auth_url + "?"), q["_location"]
        assert q["scope"] == "openid" and q["response_type"] == "id_token", q
        assert q["response_mode"] == "form_post" and q["prompt"] == "none", q
        assert q["redirect_uri"] == ctx.tool.public_url + "/lti/launch", q
        assert q["client_id"] == ctx.platform.client_id and q["login_hint"] == "user-hint-1", q
        assert q["lti_message_hint"] == "msg-hint-1", q
        assert len(q["state"]) >= 32 and len(q["nonce"]) >= 32 and q["state"] != q["nonce"], q
        assert q["state"] in q["_set_cookie"] and "HttpOnly" in q["_set_cookie"], q["_set_cookie"]


@test
def login_refusals(ctx):
    p = ctx.platform
    cases = {
        "unknown issuer": {"iss": "https://evil.example"},
        "unknown client id": {"client_id": "nope"},
        "unknown deployment": {"lti_deployment_id": "dep-x"},
        "foreign target": {"target_link_uri": "https://evil.example/launch/s1"},
        "missing login_hint": {"login_hint": None},
        "missing iss": {"iss": None},
    }
    for name, extra in cases.items():
        params = {"iss": p.issuer, "login_hint": "h", "target_link_uri": ctx.tool.url + "/launch/s1",
                  "client_id": p.client_id, "lti_deployment_id": p.deployment_id}
        params.update(extra)
        params = {k: v for k, v in params.items() if v is not None}
        r = requests.get(ctx.tool.url + "/lti/login", params=params, allow_redirects=False)
        assert 400 <= r.status_code < 500, f"{name}: {r.status_code}"
        assert "text/html" in r.headers["Content-Type"], name
        assert "Set-Cookie" not in r.headers, name


@test
def resource_launch_serves_the_session_page(ctx):
    b, page_url = launch(ctx)
    assert re.search(r"/l/[A-Za-z0-9_-]{40,}/s1\.html$", page_url), page_url
    assert not [c.name for c in b.cookies if c.name.startswith("cp_lti_state_")], "state cookie left behind"
    r = b.get(page_url)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), r.status_code
    html = r.text
    isl = island(html)
    assert isl["endpoint"] == ctx.tool.public_url + "/lti/api/progress" and len(isl["token"]) >= 32, isl
    assert html.index('id="cp-lti"') < html.index('src="coursepack/runtime.js"')
    # Apart from the island, the bytes are the course's own.
    stripped = re.sub(r'<script type="application/json" id="cp-lti">.*?</script>\n', "", html)
    assert stripped == open(os.path.join(FIXTURE, "s1.html")).read(), "page bytes differ from the course's"
    assert r.headers.get("Referrer-Policy") == "no-referrer"
    base = page_url.rsplit("/", 1)[0]
    css = b.get(base + "/coursepack/style.css")
    assert css.status_code == 200 and css.content == open(os.path.join(FIXTURE, "coursepack/style.css"), "rb").read()
    assert css.headers["Content-Type"].startswith("text/css")
    nxt = b.get(base + "/s2.html")
    assert nxt.status_code == 200 and island(nxt.text)["token"] == isl["token"]
    # Large media are streamed with range support.
    part = b.get(base + "/media/clip.mp4", headers={"Range": "bytes=256-511"})
    assert part.status_code == 206 and part.content == bytes(range(256)), part.status_code
    assert b.get(base + "/nope.html").status_code == 404
    assert requests.get(ctx.tool.url + "/l/not-a-launch/s1.html").status_code == 403


@test
def completion_reaches_the_platform_as_a_score(ctx):
    b, page_url = launch(ctx, sub="learner-score")
    html = b.get(page_url).text
    r = post_progress(ctx, html, "s1", False)
    assert r.status_code == 200 and r.json()["saved"] is True, r.text
    time.sleep(0.5)
    assert not scores_for(ctx, "learner-score"), "a score was sent before completion"
    r = post_progress(ctx, html, "s1", True, state={"done": ["s1-a"]})
    assert r.status_code == 200 and r.json() == {"saved": True, "completed": True, "score": "queued"}, r.text
    wait_for(lambda: scores_for(ctx, "learner-score"), 15, "the score")
    s = scores_for(ctx, "learner-score")[0]
    assert s["query"] == "type_id=7", s
    body = s["body"]
    assert body["scoreGiven"] == 100 and body["scoreMaximum"] == 100, body
    assert body["activityProgress"] == "Completed" and body["gradingProgress"] == "FullyGraded", body
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"]), body["timestamp"]
    no_protocol_errors(ctx)
    # The saved state comes back on the next visit.
    again = island(b.get(page_url).text)
    assert again.get("state") == {"done": ["s1-a"]}, again


@test
def same_completion_twice_gives_one_score(ctx):
    b, page_url = launch(ctx, sub="learner-twice")
    html = b.get(page_url).text
    r1 = post_progress(ctx, html, "s1", True)
    r2 = post_progress(ctx, html, "s1", True)
    assert r1.json()["score"] == "queued" and r2.json()["score"] == "already queued", (r1.text, r2.text)
    # A second launch of the same link by the same learner: still one score.
    b2, page2 = launch(ctx, sub="learner-twice")
    r3 = post_progress(ctx, b2.get(page2).text, "s1", True)
    assert r3.json()["saved"] and r3.json()["score"] == "already queued", r3.text
    wait_for(lambda: scores_for(ctx, "learner-twice"), 15, "the score")
    time.sleep(1.5)
    assert len(posts_for(ctx, "learner-twice")) == 1, posts_for(ctx, "learner-twice")


@test
def knowledge_check_points_reach_the_platform_and_only_better_ones_again(ctx):
    b, page_url = launch(ctx, sub="learner-quiz")
    html = b.get(page_url).text
    isl = island(html)

    def post(raw, completed=True):
        return requests.post(isl["endpoint"], json={"session": "s1", "state": {"d": ["x"]}, "completed": completed,
                                                    "score": {"raw": raw, "max": 4, "passed": raw >= 3}},
                             headers={"Authorization": f"Bearer {isl['token']}"}, timeout=10)

    r = post(3)
    assert r.status_code == 200 and r.json()["score"] == "queued", r.text
    wait_for(lambda: scores_for(ctx, "learner-quiz"), 15, "the first score")
    first = scores_for(ctx, "learner-quiz")[0]["body"]
    assert first["scoreGiven"] == 75 and first["scoreMaximum"] == 100, first
    assert first["activityProgress"] == "Completed" and first["gradingProgress"] == "FullyGraded", first
    # A worse or equal attempt sends nothing; a better one is sent.
    assert post(2).json()["score"] == "already queued"
    assert post(3).json()["score"] == "already queued"
    assert post(4).json()["score"] == "queued"
    wait_for(lambda: len(scores_for(ctx, "learner-quiz")) >= 2, 15, "the better score")
    time.sleep(1.0)
    got = [s["body"]["scoreGiven"] for s in scores_for(ctx, "learner-quiz")]
    assert got == [75, 100], got
    no_protocol_errors(ctx)


@test
def progress_refusals(ctx):
    b, page_url = launch(ctx, sub="learner-refuse")
    html = b.get(page_url).text
    assert post_progress(ctx, html, "s1", True, token="forged-token").status_code == 401
    r = requests.post(island(html)["endpoint"], json={"session": "s1", "completed": True})
    assert r.status_code == 401, r.status_code
    assert post_progress(ctx, html, "no-such-session", True).status_code == 400
    big = requests.post(island(html)["endpoint"], data=b"{" + b" " * 400_000 + b"}",
                        headers={"Authorization": "Bearer " + island(html)["token"]})
    assert big.status_code == 413, big.status_code
    # A session other than the launched one is saved but not scored on this link.
    r = post_progress(ctx, html, "s2", True)
    assert r.status_code == 200 and r.json()["score"] == "none", r.text
    time.sleep(1)
    assert not posts_for(ctx, "learner-refuse")


@test
def session_from_query_and_custom_parameter(ctx):
    _, url = launch(ctx, target=ctx.tool.public_url + "/launch?session=s2")
    assert url.endswith("/s2.html"), url

    def custom(c):
        c[LTI + "custom"] = {"session": "s3"}
    _, url = launch(ctx, target=ctx.tool.public_url + "/launch", mutate=custom)
    assert url.endswith("/s3.html"), url
    b = requests.Session()
    q = login(ctx, b, target=ctx.tool.public_url + "/launch/nope")
    r = post_launch(ctx, b, ctx.platform.sign(ctx.platform.claims(q["nonce"], ctx.tool.public_url + "/launch/nope")), q["state"])
    assert r.status_code == 404 and "Location" not in r.headers, r.status_code


@test
def whole_course_link_scores_increase(ctx):
    li = ctx.platform.lineitem(2)
    b, url = launch(ctx, target=ctx.tool.public_url + "/launch", sub="learner-course", lineitem=li)
    assert url.endswith("/index.html"), url
    html = b.get(url).text
    base = url.rsplit("/", 1)[0]
    s1 = b.get(base + "/s1.html").text
    assert post_progress(ctx, s1, "s1", True).json()["score"] == "queued"
    wait_for(lambda: scores_for(ctx, "learner-course", 2), 15, "first course score")
    assert post_progress(ctx, html, "s2", True).json()["score"] == "queued"
    wait_for(lambda: len(scores_for(ctx, "learner-course", 2)) == 2, 15, "second course score")
    a, c = [s["body"] for s in scores_for(ctx, "learner-course", 2)]
    assert (a["scoreGiven"], c["scoreGiven"]) == (33.33, 66.67), (a, c)
    assert parse_iso(c["timestamp"]) > parse_iso(a["timestamp"]), (a, c)


def forged_cases(ctx):
    """(name, function(browser, login params, target) -> (id_token, state), reason shown)."""
    p = ctx.platform
    t = lambda q, target: p.claims(q["nonce"], target)  # noqa: E731

    def with_claims(f):
        def make(b, q, target):
            c = t(q, target)
            f(c)
            return p.sign(c), q["state"]
        return make

    def drop(*names):
        def f(c):
            for n in names:
                c.pop(n, None)
        return with_claims(f)

    def setc(name, value):
        return with_claims(lambda c: c.__setitem__(name, value))

    def tampered(b, q, target):
        tok = p.sign(t(q, target))
        h, body, sig = tok.split(".")
        c = json.loads(jwt.utils.base64url_decode(body))
        c["sub"] = "someone-else"
        return h + "." + jwt.utils.base64url_encode(json.dumps(c).encode()).decode() + "." + sig, q["state"]

    other = Key(p.key.kid)  # same kid, a key the platform never published

    def unknown_state_with_cookie(b, q, target):
        # The browser holds a cookie for the made-up state, so only the store can refuse it.
        fake = "made-up-state-" + "x" * 40
        b.cookies.set("cp_lti_state_" + fake[:16], fake, path="/lti/launch")
        return p.sign(t(q, target)), fake

    cases = [
        ("bad signature", tampered, "signature does not verify"),
        ("unknown kid", lambda b, q, target: (p.sign(t(q, target), kid="no-such-kid"), q["state"]), "kid is not in the platform"),
        ("no kid", lambda b, q, target: (p.sign(t(q, target), kid=None), q["state"]), "has no kid"),
        ("alg none", lambda b, q, target: (p.unsigned(t(q, target)), q["state"]), "not a well-formed RS256"),
        ("HS256 with the public key", lambda b, q, target: (p.hs256_with_public_key(t(q, target)), q["state"]), "only RS256"),
        ("signed with another key", lambda b, q, target: (p.sign(t(q, target), key=other), q["state"]), "signature does not verify"),
        ("expired", with_claims(lambda c: c.update(exp=int(time.time()) - 600, iat=int(time.time()) - 900)), "has expired"),
        ("iat in the future", with_claims(lambda c: c.update(iat=int(time.time()) + 600, exp=int(time.time()) + 900)), "issued in the future"),
        ("wrong issuer", setc("iss", "https://evil.example"), "issuer is not the registered"),
        ("wrong audience", setc("aud", "other-client"), "not addressed to this tool"),
        ("several audiences without azp", setc("aud", [p.client_id, "other-client"]), "several audiences but no azp"),
        ("wrong azp", with_claims(lambda c: c.update(aud=[p.client_id, "other-client"], azp="other-client")), "azp is not this tool"),
        ("wrong nonce", setc("nonce", "not-the-nonce"), "nonce is not the one"),
        ("missing nonce", drop("nonce"), "nonce is not the one"),
        ("missing deployment", drop(LTI + "deployment_id"), "no deployment_id"),
        ("unknown deployment", setc(LTI + "deployment_id", "deployment-x"), "Deployment deployment-x is not registered"),
        ("wrong version", setc(LTI + "version", "1.1"), "not an LTI 1.3.0 message"),
        ("missing version", drop(LTI + "version"), "not an LTI 1.3.0 message"),
        ("missing message type", drop(LTI + "message_type"), "no message_type"),
        ("unknown message type", setc(LTI + "message_type", "LtiSubmissionReviewRequest"), "does not handle LtiSubmissionReviewRequest"),
        ("missing roles", drop(LTI + "roles"), "no roles claim"),
        ("missing sub", drop("sub"), "no sub claim"),
        ("missing resource link id", setc(LTI + "resource_link", {"title": "no id"}), "no resource_link id"),
        ("target_link_uri mismatch", setc(LTI + "target_link_uri", ctx.tool.public_url + "/launch/s2"), "target_link_uri is not the one"),
        ("missing state", lambda b, q, target: (p.sign(t(q, target)), None), "has no state"),
        ("unknown state", lambda b, q, target: (p.sign(t(q, target)), "made-up-state-value-made-up-state-value"), "state cookie missing"),
        ("unknown state with its cookie", unknown_state_with_cookie, "state is unknown, used or expired"),
    ]
    return cases


@test
def forged_launches_are_refused(ctx):
    before = ctx.db_scalar("SELECT COUNT(*) FROM lti_launch")
    target = ctx.tool.public_url + "/launch/s1"
    failures = []
    for name, make, reason in forged_cases(ctx):
        b = requests.Session()
        q = login(ctx, b, target=target)
        token, state = make(b, q, target)
        r = post_launch(ctx, b, token, state)
        ok = (400 <= r.status_code < 500 and "Location" not in r.headers
              and r.headers.get("Content-Type", "").startswith("text/html") and "<h1>" in r.text
              and reason in r.text.replace("&#39;", "'"))
        if not ok:
            failures.append(f"{name}: {r.status_code} {r.headers.get('Location', '')} {r.text[-300:]!r}")
    # A state issued to another browser: the victim's state, posted without its cookie.
    victim, attacker = requests.Session(), requests.Session()
    q = login(ctx, victim, target=target)
    r = post_launch(ctx, attacker, ctx.platform.sign(ctx.platform.claims(q["nonce"], target)), q["state"])
    if not (r.status_code == 403 and "Location" not in r.headers):
        failures.append(f"foreign state: {r.status_code}")
    after = ctx.db_scalar("SELECT COUNT(*) FROM lti_launch")
    assert not failures, failures
    assert after == before, f"{after - before} launch(es) were created by forged tokens"


def storage_conf(html):
    m = re.search(r'<script type="application/json" id="cp-storage">(.*?)</script>', html)
    assert m, "no cp-storage configuration in the page"
    return json.loads(m.group(1))


@test
def cookieless_launch_through_platform_storage(ctx):
    """Browsers that block the state cookie: the secret goes through the platform's storage."""
    target = ctx.tool.public_url + "/launch/s2"
    p = ctx.platform
    params = {"iss": p.issuer, "login_hint": "h", "target_link_uri": target, "client_id": p.client_id,
              "lti_storage_target": "post_message_forwarding"}
    r = requests.get(ctx.tool.url + "/lti/login", params=params, allow_redirects=False)
    assert r.status_code == 200 and "Set-Cookie" in r.headers, r.status_code
    put = storage_conf(r.text)
    assert put["subject"] == "lti.put_data" and put["target"] == "post_message_forwarding", put
    assert put["origin"] == p.url and put["key"] and len(put["value"]) >= 32, put
    q = {k: v[0] for k, v in parse_qs(urlparse(put["next"]).query).items()}
    assert put["next"].startswith(p.auth_url + "?") and q["redirect_uri"] == ctx.tool.public_url + "/lti/launch", q
    assert put["key"].endswith(q["state"]), (put["key"], q["state"])
    token = p.sign(p.claims(q["nonce"], target))
    # The launch arrives without the cookie: the tool answers with the storage check page.
    r = requests.post(ctx.tool.url + "/lti/launch", data={"id_token": token, "state": q["state"]}, allow_redirects=False)
    assert r.status_code == 200, r.status_code
    get = storage_conf(r.text)
    assert get == {"subject": "lti.get_data", "target": "post_message_forwarding", "origin": p.url,
                   "key": put["key"]}, get
    assert re.search(r'<form id="cp-form" method="post" action="%s">' % re.escape(ctx.tool.public_url + "/lti/launch"), r.text)
    # A wrong secret is refused (it does not use up the learner's launch: the right one
    # still works, once; a replay is refused by its nonce).
    r = requests.post(ctx.tool.url + "/lti/launch", data={"id_token": token, "state": q["state"],
                                                          "storage_secret": "guess"}, allow_redirects=False)
    assert r.status_code == 403 and "platform storage" in r.text, r.status_code
    r = requests.post(ctx.tool.url + "/lti/launch", data={"id_token": token, "state": q["state"],
                                                          "storage_secret": put["value"]}, allow_redirects=False)
    assert r.status_code == 303, r.status_code
    r = requests.post(ctx.tool.url + "/lti/launch", data={"id_token": token, "state": q["state"],
                                                          "storage_secret": put["value"]}, allow_redirects=False)
    assert r.status_code == 401 and "already used" in r.text and "Location" not in r.headers, r.status_code
    # The whole way through, as the page's script would do it.
    r = requests.get(ctx.tool.url + "/lti/login", params=params, allow_redirects=False)
    put = storage_conf(r.text)
    q = {k: v[0] for k, v in parse_qs(urlparse(put["next"]).query).items()}
    token = p.sign(p.claims(q["nonce"], target))
    r = requests.post(ctx.tool.url + "/lti/launch", data={"id_token": token, "state": q["state"],
                                                          "storage_secret": put["value"]}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/s2.html"), r.status_code
    assert requests.get(r.headers["Location"]).status_code == 200
    # A login that did not use platform storage cannot be completed with a storage secret.
    b = requests.Session()
    q = login(ctx, b, target=target)
    r = requests.post(ctx.tool.url + "/lti/launch", data={"id_token": p.sign(p.claims(q["nonce"], target)),
                                                          "state": q["state"], "storage_secret": "x"},
                      allow_redirects=False)
    assert r.status_code == 403, r.status_code
    # A storage target that is not a plain frame name is ignored (cookie only).
    r = requests.get(ctx.tool.url + "/lti/login", params=dict(params, lti_storage_target="x</script>"),
                     allow_redirects=False)
    assert r.status_code == 302, r.status_code


def chromium_open(ctx, url, profile, block_all_cookies=False):
    """Headless Chromium showing `url` until the returned process is killed. Third-party
    cookies are blocked (the profile's own setting, as a user or a policy would set it), or
    with `block_all_cookies` every cookie."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed (tests/lti/run.sh installs it)"
    data = f"{ctx.work}/chromium-{profile}"
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(os.path.join(data, "Default"))
    with open(os.path.join(data, "Default", "Preferences"), "w") as f:
        prefs = {"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}}
        if block_all_cookies:
            prefs["profile"]["default_content_setting_values"] = {"cookies": 2}
        json.dump(prefs, f)
    return subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--disable-background-networking", f"--user-data-dir={data}",
                             "--remote-debugging-port=0", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def lms_frame(ctx, login_url):
    """The test platform's LMS page embedding the tool's login URL."""
    return ctx.platform.url + "/frame?" + urlencode({"login": login_url})


@test
def launch_in_a_third_party_iframe(ctx):
    """Headless Chromium with third-party cookies blocked: the LMS page (127.0.0.1) embeds the
    tool (localhost: another site, and a secure context, so Secure cookies work over http).
    With platform storage the launch succeeds through it; without it (Moodle 4.5 has none) it
    succeeds through the partitioned (CHIPS) state cookie."""
    port = free_port()
    tool = Tool(ctx, "browser", port=port, public_url=f"http://localhost:{port}",
                data=os.path.join(ctx.work, "data-browser")).start()

    def launches(sub):
        con = sqlite3.connect(os.path.join(tool.data, "coursepack-lti.sqlite"))
        try:
            return con.execute("SELECT COUNT(*) FROM lti_launch WHERE sub = ? AND session = 's3'", (sub,)).fetchone()[0]
        finally:
            con.close()

    def run_browser(sub, storage, block_all_cookies=False, launched=True):
        target = tool.public_url + "/launch/s3"
        ctx.platform.browser_launch = {"target": target, "sub": sub}
        params = {"iss": ctx.platform.issuer, "login_hint": "h", "target_link_uri": target,
                  "client_id": ctx.platform.client_id}
        if storage:
            params["lti_storage_target"] = "_parent"
        before = len(ctx.platform.auth_requests)
        browser = chromium_open(ctx, lms_frame(ctx, tool.public_url + "/lti/login?" + urlencode(params)), sub,
                                block_all_cookies=block_all_cookies)
        try:
            wait_for(lambda: len(ctx.platform.auth_requests) > before, 30, "the browser to reach the platform")
            if launched:
                wait_for(lambda: launches(sub) > 0, 15, "the launch")
            else:
                time.sleep(3)
        finally:
            browser.kill()
            browser.wait()

    try:
        # No cookie at all in this browser: platform storage carries the state.
        run_browser("learner-browser", storage=True, block_all_cookies=True)
        assert launches("learner-browser") == 1
        events = list(ctx.platform.storage_events)
        assert any(e.startswith("put cp_state_") for e in events), events
        assert any(e.startswith("get cp_state_") and e.endswith(" true") for e in events), events
        # Without platform storage: the plain cookie is blocked in the frame, the partitioned
        # one comes back.
        run_browser("learner-browser-nostorage", storage=False)
        wait_for(lambda: launches("learner-browser-nostorage") == 1, 15, "the launch through the partitioned cookie")
        # Control: no cookie and no platform storage, no launch (the page offers a new window).
        run_browser("learner-browser-nocookie", storage=False, block_all_cookies=True, launched=False)
        assert launches("learner-browser-nocookie") == 0
    finally:
        tool.stop()


@test
def real_runtime_in_a_browser_reports_completion_as_a_score(ctx):
    """Headless Chromium runs the real page runtime (templates/coursepack/runtime.js) in a
    launched page; a session with no required step completes on load, and the runtime's POST
    must end as a score on the platform."""
    course = os.path.join(ctx.work, "course-runtime")
    shutil.copytree(FIXTURE, course)
    root = os.path.dirname(os.path.dirname(HERE))
    shutil.copy(os.path.join(root, "templates", "coursepack", "runtime.js"), os.path.join(course, "coursepack", "runtime.js"))
    page = os.path.join(course, "s1.html")
    with open(page) as f:
        html = f.read()
    with open(page, "w") as f:
        f.write(html.replace('"required":["s1-a"]', '"required":[]'))
    # Same data (keys, database) as the main tool: the platform knows one key set per client.
    tool = Tool(ctx, "runtime", course=course).start()
    try:
        target = tool.public_url + "/launch/s1"
        ctx.platform.browser_launch = {"target": target, "sub": "learner-runtime"}
        login_url = tool.public_url + "/lti/login?" + urlencode({
            "iss": ctx.platform.issuer, "login_hint": "h", "target_link_uri": target, "client_id": ctx.platform.client_id})
        browser = chromium_open(ctx, lms_frame(ctx, login_url), "runtime")
        try:
            wait_for(lambda: scores_for(ctx, "learner-runtime"), 30, "the runtime's completion to reach the platform")
        finally:
            browser.kill()
            browser.wait()
        body = scores_for(ctx, "learner-runtime")[0]["body"]
        assert body["scoreGiven"] == 100 and body["activityProgress"] == "Completed", body
        no_protocol_errors(ctx)
    finally:
        tool.stop()


@test
def replayed_id_token_is_refused(ctx):
    target = ctx.tool.public_url + "/launch/s1"
    b = requests.Session()
    q = login(ctx, b, target=target)
    token = ctx.platform.sign(ctx.platform.claims(q["nonce"], target))
    assert post_launch(ctx, b, token, q["state"]).status_code == 303
    # Same token, same state again.
    r = post_launch(ctx, b, token, q["state"])
    assert r.status_code == 403 and "Location" not in r.headers, r.status_code
    # Same token with a fresh login: the nonce is not the new login's.
    q2 = login(ctx, b, target=target)
    r = post_launch(ctx, b, token, q2["state"])
    assert r.status_code == 401 and "Location" not in r.headers, r.status_code


@test
def deep_linking_round_trip(ctx):
    target = ctx.tool.public_url + "/launch"
    b, url = launch(ctx, target=target, message_type="LtiDeepLinkingRequest")
    assert "/lti/deep-link/" in url, url
    page = b.get(url)
    assert page.status_code == 200 and 'value="s2"' in page.text and "Going further" in page.text
    r = b.post(url, data=[("item", "s1"), ("item", "s3"), ("item", "*course")])
    assert r.status_code == 200, r.text[:300]
    m = re.search(r'<form id="cp-dl" method="post" action="([^"]+)">.*name="JWT" value="([^"]+)"', r.text, re.S)
    assert m and m.group(1) == ctx.platform.url + "/deep-link-return", r.text[:500]
    token = m.group(2)
    header = jwt.get_unverified_header(token)
    jwks = requests.get(ctx.tool.url + "/.well-known/jwks.json").json()
    key = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert header["alg"] == "RS256" and key, header
    c = jwt.decode(token, jwt.PyJWK(key[0]).key, algorithms=["RS256"], audience=ctx.platform.issuer,
                   issuer=ctx.platform.client_id)
    assert c[LTI + "message_type"] == "LtiDeepLinkingResponse" and c[LTI + "version"] == "1.3.0", c
    assert c[LTI + "deployment_id"] == ctx.platform.deployment_id and c.get("nonce"), c
    assert c["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-data-123", c
    items = c["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert [i["url"] for i in items] == [ctx.tool.public_url + "/launch/s1", ctx.tool.public_url + "/launch/s3",
                                        ctx.tool.public_url + "/launch"], items
    assert all(i["type"] == "ltiResourceLink" for i in items)
    assert items[0]["title"] == "Getting started" and items[0]["lineItem"] == {
        "scoreMaximum": 100.0, "label": "Getting started", "resourceId": "s1"}, items[0]
    # The request is single-use.
    assert b.post(url, data=[("item", "s1")]).status_code == 403
    # A link it created launches the right session.
    _, page_url = launch(ctx, target=items[1]["url"])
    assert page_url.endswith("/s3.html"), page_url


@test
def dynamic_registration(ctx):
    p = ctx.platform
    cfg_url = p.url + "/.well-known/openid-configuration"
    b = requests.Session()
    r = b.get(ctx.tool.url + "/lti/register", params={"openid_configuration": cfg_url,
                                                      "registration_token": "reg-token-xyz"})
    assert r.status_code == 200 and "<form" in r.text, r.status_code
    assert not p.registrations, "registered before the confirmation"
    r = b.post(ctx.tool.url + "/lti/register", data={"openid_configuration": cfg_url,
                                                     "registration_token": "reg-token-xyz"})
    assert r.status_code == 200, r.text[:400]
    assert "postMessage({subject:'org.imsglobal.lti.close'}, '*')" in r.text, r.text
    assert len(p.registrations) == 1
    reg = p.registrations[0]
    conf = reg["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    tool_host = urlparse(ctx.tool.public_url).netloc
    assert conf["domain"] == tool_host, conf
    assert urlparse(conf["target_link_uri"]).netloc == conf["domain"]
    assert reg["response_types"] == ["id_token"] and reg["token_endpoint_auth_method"] == "private_key_jwt", reg
    assert reg["redirect_uris"] == [ctx.tool.public_url + "/lti/launch"], reg
    assert reg["initiate_login_uri"] == ctx.tool.public_url + "/lti/login"
    assert reg["jwks_uri"] == ctx.tool.public_url + "/.well-known/jwks.json"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in reg["scope"].split(), reg["scope"]
    # The lineitem scope lets the tool give links without a grade column one of their own.
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem" in reg["scope"].split(), reg["scope"]
    assert {m["type"] for m in conf["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert "sub" in conf["claims"] and "iss" in conf["claims"]
    # The new registration works for a launch.
    target = ctx.tool.public_url + "/launch/s2"
    b = requests.Session()
    q = login(ctx, b, target=target, client_id="dyn-client-1", lti_deployment_id="dyn-deployment-1")
    c = p.claims(q["nonce"], target, client_id="dyn-client-1")
    c[LTI + "deployment_id"] = "dyn-deployment-1"
    r = post_launch(ctx, b, p.sign(c), q["state"])
    assert r.status_code == 303 and r.headers["Location"].endswith("/s2.html"), r.status_code
    # Without client_id the issuer is now ambiguous (file + dynamic registration).
    r = requests.get(ctx.tool.url + "/lti/login", params={"iss": p.issuer, "login_hint": "x",
                                                          "target_link_uri": target}, allow_redirects=False)
    assert r.status_code == 400, r.status_code
    # A configuration whose issuer is on another host is refused.
    r = requests.post(ctx.tool.url + "/lti/register", data={"openid_configuration": "http://localhost:%d/.well-known/openid-configuration" % p.port,
                                                            "registration_token": "reg-token-xyz"})
    assert r.status_code == 403 and len(p.registrations) == 1, r.status_code


@test
def dynamic_registration_host_allowlist(ctx):
    p = ctx.platform
    form = {"openid_configuration": p.url + "/.well-known/openid-configuration", "registration_token": "reg-token-xyz"}
    before = len(p.registrations)
    for hosts, allowed in (("example.org", False), ("example.org,127.0.0.1", True)):
        tool = Tool(ctx, "reg", data=os.path.join(ctx.work, f"data-reg-{allowed}"),
                    extra=["--registration-hosts", hosts]).start()
        try:
            r = requests.post(tool.url + "/lti/register", data=form)
            if allowed:
                assert r.status_code == 200 and len(p.registrations) == before + 1, r.status_code
            else:
                # A policy refusal, not a platform failure: 403, and the host is never contacted.
                fetched = p.config_fetches
                assert r.status_code == 403 and "only from example.org" in r.text, r.status_code
                assert len(p.registrations) == before, "registered although the host is not allowed"
                r = requests.get(tool.url + "/lti/register", params=form)
                assert r.status_code == 403 and "<form" not in r.text, r.status_code
                assert p.config_fetches == fetched, "the configuration of a refused host was fetched"
        finally:
            tool.stop()


@test
def platform_key_rotation(ctx):
    # The tool refetches an unknown kid at most once a second.
    time.sleep(1.2)
    before = ctx.platform.jwks_fetches
    ctx.platform.rotate_key("platform-key-2")
    _, url = launch(ctx, sub="learner-rotation")
    assert url.endswith("/s1.html")
    assert ctx.platform.jwks_fetches == before + 1, (before, ctx.platform.jwks_fetches)
    # The cached set now has the new key: no more fetches.
    launch(ctx, sub="learner-rotation")
    assert ctx.platform.jwks_fetches == before + 1


@test
def tool_key_rotation(ctx):
    # Deliver one score first so the tool holds a cached access token.
    b, url = launch(ctx, sub="learner-prekey", lineitem=ctx.platform.lineitem(3))
    assert post_progress(ctx, b.get(url).text, "s1", True).json()["score"] == "queued"
    wait_for(lambda: scores_for(ctx, "learner-prekey", 3), 15, "score before rotation")
    old = requests.get(ctx.tool.url + "/.well-known/jwks.json").json()["keys"]
    out = subprocess.run([ctx.bin, "serve", "--data", ctx.data, "--rotate-key"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    new = requests.get(ctx.tool.url + "/.well-known/jwks.json").json()["keys"]
    assert [k["kid"] for k in new[:1]] == [old[0]["kid"]] and len(new) == 2, (old, new)
    new_kid = new[1]["kid"]
    assert new_kid in out.stdout, out.stdout
    # The running tool signs with the new key now: a deep-linking response...
    b, url = launch(ctx, target=ctx.tool.public_url + "/launch", message_type="LtiDeepLinkingRequest")
    r = b.post(url, data=[("item", "s2")])
    token = re.search(r'name="JWT" value="([^"]+)"', r.text).group(1)
    assert jwt.get_unverified_header(token)["kid"] == new_kid
    # ... and the client assertion of a new access token (the platform revoked the old one).
    with ctx.platform.lock:
        ctx.platform.tokens.clear()
        rejected = ctx.platform.rejected_tokens
    b, url = launch(ctx, sub="learner-newkey", lineitem=ctx.platform.lineitem(3))
    assert post_progress(ctx, b.get(url).text, "s1", True).json()["score"] == "queued"
    wait_for(lambda: scores_for(ctx, "learner-newkey", 3), 15, "score after rotation")
    assert ctx.platform.rejected_tokens == rejected + 1, "the revoked token was not tried once"
    assert ctx.platform.assertion_kids[-1] == new_kid, ctx.platform.assertion_kids
    assert [s for (_, _, s) in posts_for(ctx, "learner-newkey")] == [401, 200]
    no_protocol_errors(ctx)


@test
def score_endpoint_down_then_back(ctx):
    ctx.platform.score_mode = "down"
    b, url = launch(ctx, sub="learner-down")
    assert post_progress(ctx, b.get(url).text, "s1", True).json()["score"] == "queued"
    wait_for(lambda: len(posts_for(ctx, "learner-down")) >= 3, 20, "retries while the platform is down")
    assert not scores_for(ctx, "learner-down")
    assert ctx.tool.health()["outbox"]["pending"] >= 1
    ctx.platform.score_mode = "up"
    wait_for(lambda: scores_for(ctx, "learner-down"), 20, "delivery after the platform came back")
    time.sleep(1)
    assert len(scores_for(ctx, "learner-down")) == 1
    assert [s for (_, _, s) in posts_for(ctx, "learner-down")].count(200) == 1


@test
def killed_during_delivery_delivers_once_after_restart(ctx):
    ctx.platform.score_mode = "slow"
    ctx.platform.slow_seconds = 4
    b, url = launch(ctx, sub="learner-kill")
    assert post_progress(ctx, b.get(url).text, "s1", True).json()["score"] == "queued"
    wait_for(lambda: posts_for(ctx, "learner-kill"), 15, "the delivery to start")
    ctx.tool.kill9()  # the platform has the score, the tool never heard back
    ctx.platform.score_mode = "up"
    ctx.tool.start()
    wait_for(lambda: len(posts_for(ctx, "learner-kill")) >= 2, 20, "re-delivery after restart")
    wait_for(lambda: ctx.tool.health()["outbox"]["pending"] == 0, 10, "the outbox to drain")
    assert len(scores_for(ctx, "learner-kill")) == 1, scores_for(ctx, "learner-kill")
    assert [s for (_, _, s) in posts_for(ctx, "learner-kill")] == [200, 409], posts_for(ctx, "learner-kill")


@test
def killed_before_delivery_delivers_after_restart(ctx):
    ctx.platform.score_mode = "down"
    b, url = launch(ctx, sub="learner-kill2")
    assert post_progress(ctx, b.get(url).text, "s1", True).json()["score"] == "queued"
    ctx.tool.kill9()
    ctx.platform.score_mode = "up"
    ctx.tool.start()
    wait_for(lambda: scores_for(ctx, "learner-kill2"), 20, "delivery after restart")
    time.sleep(1)
    assert len(scores_for(ctx, "learner-kill2")) == 1


@test
def graceful_shutdown(ctx):
    assert ctx.tool.stop() == 0, "SIGTERM did not end the tool cleanly"
    ctx.tool.start()


@test
def course_source_pages_match_the_scorm_package(ctx):
    """The tool serves a course.toml source with the same bytes as the SCORM 1.2 zip."""
    import zipfile
    course = os.path.join(os.path.dirname(os.path.dirname(HERE)), "course")
    out = os.path.join(ctx.work, "dist")
    r = subprocess.run([ctx.bin, "build", course, "--target", "scorm12", "--out", out, "-q"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    [pkg] = [f for f in os.listdir(out) if f.endswith(".zip")]
    z = zipfile.ZipFile(os.path.join(out, pkg))
    sessions = [n[:-5] for n in z.namelist() if n.endswith(".html") and n != "index.html"]
    assert sessions, z.namelist()
    tool = Tool(ctx, "source", course=course, data=os.path.join(ctx.work, "data-source")).start()
    try:
        for sid in sessions:
            b, url = launch(ctx, tool=tool, target=tool.public_url + "/launch/" + sid)
            html = b.get(url).text
            island(html)
            assert html.index('id="cp-lti"') < html.index('src="coursepack/runtime.js"'), "island after the runtime"
            stripped = re.sub(r'<script type="application/json" id="cp-lti">.*?</script>\n', "", html)
            assert stripped.encode() == z.read(sid + ".html"), f"{sid}.html differs from the package"
            base = url.rsplit("/", 1)[0]
            for asset in ("coursepack/runtime.js", "coursepack/style.css"):
                assert b.get(base + "/" + asset).content == z.read(asset), asset
    finally:
        tool.stop()


@test
def a_welsh_variant_is_served_and_refuses_in_welsh(ctx):
    """`serve --variant cardiff` (the Welsh variant of tests/fixtures/variants): a launch opens
    the variant's Welsh page; a session the variant leaves out, a forged id_token and an expired
    launch are refused on pages in Welsh, with the precise reason in English on a line of its
    own."""
    root = os.path.dirname(os.path.dirname(HERE))
    course = os.path.join(root, "tests", "fixtures", "variants")
    tool = Tool(ctx, "variant", course=course, data=os.path.join(ctx.work, "data-variant"),
                extra=["--variant", "cardiff"]).start()
    welsh = '<html lang="cy">'
    refused = "<h1>Does dim modd agor y gweithgaredd hwn</h1>"
    detail = "Manylion i&#39;ch gweinyddwr: <span lang=\"en\">"
    try:
        b, url = launch(ctx, tool=tool, target=tool.public_url + "/launch/where")
        page = b.get(url).text
        assert '<html lang="cy"' in page and "Ble mae cleifion yn postio" in page, page[:500]

        # A session the variant leaves out.
        b = requests.Session()
        target = tool.public_url + "/launch/channels"
        q = login(ctx, b, target=target, tool=tool)
        r = post_launch(ctx, b, ctx.platform.sign(ctx.platform.claims(q["nonce"], target)), q["state"], tool=tool)
        assert r.status_code == 404, (r.status_code, r.text)
        assert welsh in r.text and refused in r.text, r.text
        assert "nad yw&#39;n rhan o&#39;r cwrs hwn" in r.text and detail in r.text and '"channels"' in r.text.replace("&quot;", '"'), r.text

        # A forged id_token: the JWT's failure stays precise, under the Welsh words.
        b = requests.Session()
        target = tool.public_url + "/launch/where"
        q = login(ctx, b, target=target, tool=tool)
        tok = ctx.platform.sign(ctx.platform.claims(q["nonce"], target))
        h, body, sig = tok.split(".")
        c = json.loads(jwt.utils.base64url_decode(body))
        c["sub"] = "someone-else"
        forged = h + "." + jwt.utils.base64url_encode(json.dumps(c).encode()).decode() + "." + sig
        r = post_launch(ctx, b, forged, q["state"], tool=tool)
        assert r.status_code == 401, (r.status_code, r.text)
        assert welsh in r.text and refused in r.text, r.text
        assert "Ni chafodd cais eich platfform dysgu" in r.text, r.text
        assert detail + "The id_token&#39;s signature does not verify." in r.text, r.text
        learner = r.text.split('class="cp-detail"')[0]
        assert "cannot be accepted" not in learner and "signature" not in learner, learner

        # An expired (or made-up) launch link.
        r = requests.get(tool.url + "/l/no-such-handle/where.html", timeout=10)
        assert r.status_code == 403 and welsh in r.text, (r.status_code, r.text)
        assert "Mae&#39;r lansiad hwn wedi dod i ben." in r.text and "cp-detail" not in r.text, r.text
    finally:
        tool.stop()


@test
def cartridge_lti_links_open_their_sessions(ctx):
    """The Common Cartridge LTI links (`build --cc-flavour lti --tool-url`) launch, in the tool,
    the session they name, by URL and by custom parameter."""
    import zipfile
    course = os.path.join(os.path.dirname(os.path.dirname(HERE)), "course")
    out = os.path.join(ctx.work, "dist-cc")
    fake = "https://tool.example/cp"
    r = subprocess.run([ctx.bin, "build", course, "--target", "cc13", "--cc-flavour", "lti", "--tool-url", fake,
                        "--out", out, "-q"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    [pkg] = [f for f in os.listdir(out) if f.endswith(".imscc")]
    z = zipfile.ZipFile(os.path.join(out, pkg))
    links = [n for n in z.namelist() if n.startswith("lti/") and n.endswith(".xml")]
    assert links, z.namelist()
    tool = Tool(ctx, "cc", course=course, data=os.path.join(ctx.work, "data-cc")).start()
    try:
        for name in links:
            xml = z.read(name).decode()
            launch_url = re.search(r"<blti:secure_launch_url>([^<]+)<", xml).group(1)
            custom = re.search(r'<lticm:property name="session">([^<]+)<', xml).group(1)
            assert launch_url.startswith(fake + "/"), launch_url
            sid = name[len("lti/"):-len(".xml")]
            # The link's URL, moved onto this test tool's address.
            _, url = launch(ctx, tool=tool, target=tool.public_url + launch_url[len(fake):])
            assert url.endswith(f"/{sid}.html"), (name, url)

            # A platform that keeps only the custom parameter and launches the tool's base URL.
            def with_custom(c, custom=custom):
                c[LTI + "custom"] = {"session": custom}
            _, url = launch(ctx, tool=tool, target=tool.public_url + "/launch", mutate=with_custom)
            assert url.endswith(f"/{sid}.html"), (name, url)
    finally:
        tool.stop()


@test
def several_instances_share_state(ctx):
    """PostgreSQL only: two instances behind one public URL."""
    a = ctx.tool
    bt = Tool(ctx, "b", public_url=a.public_url).start()
    try:
        # Login handled by A, id_token posted to B, page and progress through A.
        browser = requests.Session()
        target = a.public_url + "/launch/s1"
        q = login(ctx, browser, target=target, tool=a)
        c = ctx.platform.claims(q["nonce"], target, sub="learner-pg")
        r = post_launch(ctx, browser, ctx.platform.sign(c), q["state"], tool=bt)
        assert r.status_code == 303, r.text[:300]
        assert r.headers["Location"].startswith(a.public_url + "/l/"), r.headers["Location"]
        html = browser.get(r.headers["Location"]).text
        # Many learners completing at once: each score delivered exactly once by the pair.
        users = [f"learner-pg-{i}" for i in range(12)]
        for u in users:
            br, url = launch(ctx, sub=u, tool=bt if users.index(u) % 2 else a)
            assert post_progress(ctx, br.get(url).text, "s1", True).json()["score"] == "queued"
        assert post_progress(ctx, html, "s1", True).json()["score"] == "queued"
        for u in users + ["learner-pg"]:
            wait_for(lambda: scores_for(ctx, u), 20, f"score of {u}")
        time.sleep(2)
        for u in users + ["learner-pg"]:
            assert len(posts_for(ctx, u)) == 1, (u, posts_for(ctx, u))
        # One learner completing two sessions of a whole-course link at the same moment, on
        # two instances: the saves are serialised, so the scores count 1 then 2 sessions.
        import threading
        li = ctx.platform.lineitem(4)
        br, url = launch(ctx, target=a.public_url + "/launch", sub="learner-pg-course", lineitem=li, tool=a)
        page = br.get(url).text
        tok = island(page)["token"]
        results = []

        def complete(tool, session):
            r = requests.post(tool.url + "/lti/api/progress", json={"session": session, "state": {}, "completed": True},
                              headers={"Authorization": f"Bearer {tok}"}, timeout=10)
            results.append(r.json().get("score"))
        threads = [threading.Thread(target=complete, args=(a, "s1")), threading.Thread(target=complete, args=(bt, "s2"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == ["queued", "queued"], results
        wait_for(lambda: len([p for p in posts_for(ctx, "learner-pg-course") if p[2] in (200, 409)]) == 2, 20,
                 "both course scores")
        # Both instances may deliver at once; the platform keeps the newest (the older gets 409).
        got = [s["body"]["scoreGiven"] for s in scores_for(ctx, "learner-pg-course", 4)]
        assert got in ([33.33, 66.67], [66.67]), got
        # Replay across instances is refused too.
        r = post_launch(ctx, browser, ctx.platform.sign(c), q["state"], tool=a)
        assert r.status_code == 403, r.status_code
    finally:
        bt.stop()


def tool_log(ctx, name):
    with open(os.path.join(ctx.work, f"tool-{name}.log")) as f:
        return f.read()


REGISTRATION_WARNING = "anyone with the registration URL"


@test
def registration_never_shows_the_platform_answer(ctx):
    """A refused registration shows its status code, never the body the target answered: the
    tool must not be a way to read what internal hosts say."""
    p = ctx.platform
    form = {"openid_configuration": p.url + "/.well-known/openid-configuration", "registration_token": "reg-token-xyz"}
    before = len(p.registrations)
    p.registration_mode = "error"
    try:
        r = requests.post(ctx.tool.url + "/lti/register", data=form)
    finally:
        p.registration_mode = "ok"
    assert r.status_code == 502 and "500" in r.text, (r.status_code, r.text[-300:])
    assert "secret-internal-detail" not in r.text and "10.0.0.5" not in r.text, r.text[-400:]
    assert len(p.registrations) == before
    # The administrator finds the answer in the log.
    wait_for(lambda: "secret-internal-detail" in tool_log(ctx, "a"), 5, "the answer in the tool's log")


@test
def registration_endpoint_must_be_on_the_configuration_origin(ctx):
    p = ctx.platform
    form = {"openid_configuration": p.url + "/.well-known/openid-configuration", "registration_token": "reg-token-xyz"}
    before = len(p.registrations)
    try:
        # Same server, other host name; then same host, other port; then other scheme.
        for endpoint in (f"http://localhost:{p.port}/register", f"http://127.0.0.1:{free_port()}/register",
                         f"https://127.0.0.1:{p.port}/register"):
            p.config_overrides = {"registration_endpoint": endpoint}
            r = requests.post(ctx.tool.url + "/lti/register", data=form)
            assert r.status_code == 403 and "registration_endpoint" in r.text, (endpoint, r.status_code, r.text[-300:])
            assert len(p.registrations) == before, f"registered through {endpoint}"
    finally:
        p.config_overrides = {}


@test
def https_tool_registers_only_https_public_platforms(ctx):
    """With an https public URL, the tool requests no http URL and no local or private address
    on a registrant's say-so, and warns at start-up that registration is open to anyone."""
    p = ctx.platform
    port = free_port()
    tool = Tool(ctx, "https", port=port, public_url=f"https://127.0.0.1:{port}",
                data=os.path.join(ctx.work, "data-https")).start()
    cases = [
        (p.url + "/.well-known/openid-configuration", "must be an https URL"),
        (f"https://127.0.0.1:{p.port}/.well-known/openid-configuration", "local or private address"),
        (f"https://localhost:{p.port}/.well-known/openid-configuration", "local or private address"),
        ("https://169.254.169.254/latest/meta-data/", "local or private address"),
        ("https://10.1.2.3/.well-known/openid-configuration", "local or private address"),
        ("https://[::1]/.well-known/openid-configuration", "local or private address"),
    ]
    try:
        before, fetched = len(p.registrations), p.config_fetches
        for cfg_url, reason in cases:
            form = {"openid_configuration": cfg_url, "registration_token": "reg-token-xyz"}
            r = requests.get(tool.url + "/lti/register", params=form)
            assert r.status_code == 403 and reason in r.text and "<form" not in r.text, (cfg_url, r.status_code)
            r = requests.post(tool.url + "/lti/register", data=form)
            assert r.status_code == 403 and reason in r.text, (cfg_url, r.status_code, r.text[-300:])
        assert len(p.registrations) == before and p.config_fetches == fetched, "a refused URL was requested"
        assert REGISTRATION_WARNING in tool_log(ctx, "https"), "no start-up warning about open registration"
    finally:
        tool.stop()
    # With an allow-list there is nothing to warn about.
    tool = Tool(ctx, "allowlist", data=os.path.join(ctx.work, "data-allowlist"),
                extra=["--registration-hosts", "lms.example"]).start()
    tool.stop()
    assert REGISTRATION_WARNING not in tool_log(ctx, "allowlist")


@test
def permanent_score_errors_are_not_retried(ctx):
    """A line item the platform does not know (404) will never take the score: one attempt,
    then the row is set aside instead of retried forever."""
    dead = ctx.tool.health()["outbox"]["dead"]
    ctx.platform.score_mode = "gone"
    b, url = launch(ctx, sub="learner-gone")
    assert post_progress(ctx, b.get(url).text, "s1", True).json()["score"] == "queued"
    wait_for(lambda: posts_for(ctx, "learner-gone"), 15, "the first attempt")
    wait_for(lambda: ctx.tool.health()["outbox"]["dead"] == dead + 1, 10, "the row to be set aside")
    time.sleep(2)  # retries would come every 0.3-1.5 s
    assert [s for (_, _, s) in posts_for(ctx, "learner-gone")] == [404], posts_for(ctx, "learner-gone")


@test
def course_title_is_text_not_html(ctx):
    """The course title reaches pages, deep-link items and the registration escaped once, from
    a folder of rendered pages (whose <title> is HTML) and from a course source."""
    p = ctx.platform
    course = os.path.join(ctx.work, "course-title")
    shutil.copytree(FIXTURE, course)
    index = os.path.join(course, "index.html")
    with open(index) as f:
        html = f.read()
    with open(index, "w") as f:
        f.write(html.replace("<title>LTI fixture course</title>", "<title>Q&amp;A &lt;basics&gt; &#x27;one&#39;</title>"))
    title = "Q&A <basics> 'one'"
    tool = Tool(ctx, "title", course=course, data=os.path.join(ctx.work, "data-title")).start()
    try:
        r = requests.get(tool.url + "/")
        assert "<h1>Q&amp;A &lt;basics&gt; &#39;one&#39;</h1>" in r.text, r.text[:600]
        b, url = launch(ctx, tool=tool, target=tool.public_url + "/launch", message_type="LtiDeepLinkingRequest")
        picker = b.get(url).text
        assert "Q&amp;A &lt;basics&gt;" in picker and "&amp;amp;" not in picker, picker[:800]
        r = b.post(url, data=[("item", "*course")])
        token = re.search(r'name="JWT" value="([^"]+)"', r.text).group(1)
        [item] = jwt.decode(token, options={"verify_signature": False})[
            "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
        assert item["title"] == title, item
        if "lineItem" in item:
            assert item["lineItem"]["label"] == title, item
        r = requests.post(tool.url + "/lti/register", data={
            "openid_configuration": p.url + "/.well-known/openid-configuration", "registration_token": "reg-token-xyz"})
        assert r.status_code == 200, r.text[-300:]
        assert p.registrations[-1]["client_name"] == title, p.registrations[-1]["client_name"]
    finally:
        tool.stop()
    # A course source: the title comes from course.toml.
    source = os.path.join(ctx.work, "course-title-src")
    shutil.copytree(os.path.join(os.path.dirname(os.path.dirname(HERE)), "course"), source)
    toml = os.path.join(source, "course.toml")
    with open(toml) as f:
        text = f.read()
    with open(toml, "w") as f:
        f.write(text.replace('title = "Public online feedback for healthcare improvement"',
                             'title = "Feedback & care <online>"', 1))
    tool = Tool(ctx, "title-src", course=source, data=os.path.join(ctx.work, "data-title-src")).start()
    try:
        r = requests.get(tool.url + "/")
        assert "<h1>Feedback &amp; care &lt;online&gt;</h1>" in r.text, r.text[:600]
    finally:
        tool.stop()


# -- issue 9: imported links, whole-course progress, offerings, hardening, iframes ------------

def lineitem_number(url):
    return int(re.search(r"/lineitems/(\d+)/lineitem", url).group(1))


@test
def imported_link_grades_through_a_created_line_item(ctx):
    """A link with no grade column (AGS claim with `lineitems` but no `lineitem`, as Moodle
    gives links imported from a cartridge): the tool finds or creates its own line item."""
    p = ctx.platform
    target = ctx.tool.public_url + "/launch/s2"
    rl = "rl-imported-1"
    b, url = launch(ctx, target=target, sub="learner-imp-1", lineitem=False, resource_link=rl)
    assert post_progress(ctx, b.get(url).text, "s2", True).json()["score"] == "queued"

    def created(link):
        with p.lock:
            return [li for li in p.lineitems if li["body"].get("resourceLinkId") == link]
    wait_for(lambda: created(rl), 15, "the tool to create a line item")
    [li] = created(rl)
    assert li["body"] == {"scoreMaximum": 100.0, "label": "Going further", "resourceLinkId": rl,
                          "resourceId": "s2", "tag": "coursepack:s2"}, li["body"]
    n = lineitem_number(li["id"])
    wait_for(lambda: scores_for(ctx, "learner-imp-1", n), 15, "the score on the created line item")
    body = scores_for(ctx, "learner-imp-1", n)[0]["body"]
    assert body["scoreGiven"] == 100 and body["activityProgress"] == "Completed", body
    # A second learner on the same link: the same line item, none created.
    b, url = launch(ctx, target=target, sub="learner-imp-2", lineitem=False, resource_link=rl)
    assert post_progress(ctx, b.get(url).text, "s2", True).json()["score"] == "queued"
    wait_for(lambda: scores_for(ctx, "learner-imp-2", n), 15, "the second learner's score")
    assert len(created(rl)) == 1, created(rl)
    # A line item the platform already has for a link (made before, e.g. by a tool whose data
    # was lost) is found by resource link and tag, not made twice.
    existing = p.add_lineitem({"scoreMaximum": 100, "label": "Going further", "resourceLinkId": "rl-imported-2",
                               "tag": "coursepack:s2"})
    posts = p.lineitem_posts
    b, url = launch(ctx, target=target, sub="learner-imp-3", lineitem=False, resource_link="rl-imported-2")
    assert post_progress(ctx, b.get(url).text, "s2", True).json()["score"] == "queued"
    wait_for(lambda: scores_for(ctx, "learner-imp-3", lineitem_number(existing["id"])), 15, "score on the found item")
    assert p.lineitem_posts == posts and len(created("rl-imported-2")) == 1
    # A platform that grants no lineitem scope: not graded, nothing asked of it.
    gets, posts = p.lineitem_gets, p.lineitem_posts
    b, url = launch(ctx, target=target, sub="learner-imp-4", lineitem=False, resource_link="rl-imported-3",
                    scopes=[SCOPE_SCORE])
    r = post_progress(ctx, b.get(url).text, "s2", True)
    assert r.json() == {"saved": True, "completed": True, "score": "none"}, r.text
    time.sleep(1)
    assert (p.lineitem_gets, p.lineitem_posts) == (gets, posts)
    assert not posts_for(ctx, "learner-imp-4")
    no_protocol_errors(ctx)


@test
def whole_course_link_is_in_progress_until_every_session_is_done(ctx):
    li = ctx.platform.lineitem(5)
    b, url = launch(ctx, target=ctx.tool.public_url + "/launch", sub="learner-states", lineitem=li,
                    context="course-states")
    html = b.get(url).text
    for i, session in enumerate(("s1", "s3", "s2")):
        assert post_progress(ctx, html, session, True).json()["score"] == "queued"
        wait_for(lambda: len(scores_for(ctx, "learner-states", 5)) == i + 1, 15, f"score {i + 1}")
    got = [(s["body"]["scoreGiven"], s["body"]["activityProgress"], s["body"]["gradingProgress"])
           for s in scores_for(ctx, "learner-states", 5)]
    assert got == [(33.33, "InProgress", "FullyGraded"), (66.67, "InProgress", "FullyGraded"),
                   (100, "Completed", "FullyGraded")], got
    no_protocol_errors(ctx)


@test
def progress_belongs_to_one_course_offering(ctx):
    sub = "learner-offering"
    b, url = launch(ctx, sub=sub, context="course-A")
    r = post_progress(ctx, b.get(url).text, "s1", True, state={"done": ["s1-a"]})
    assert r.json()["score"] == "queued", r.text
    # The same course, another link to the same session: the same progress.
    b, url = launch(ctx, sub=sub, context="course-A", resource_link="rl-second-link")
    assert island(b.get(url).text).get("state") == {"done": ["s1-a"]}
    # Another course offering (context): a fresh start.
    b, url = launch(ctx, sub=sub, context="course-B")
    assert "state" not in island(b.get(url).text), "progress from another course offering"
    # Another deployment with the same context id: a fresh start too.
    b, url = launch(ctx, sub=sub, context="course-A",
                    mutate=lambda c: c.__setitem__(LTI + "deployment_id", "deployment-2"))
    assert "state" not in island(b.get(url).text), "progress from another deployment"
    # A whole-course link in course B counts only what was done in course B.
    b, url = launch(ctx, target=ctx.tool.public_url + "/launch", sub=sub, lineitem=ctx.platform.lineitem(6),
                    context="course-B")
    assert post_progress(ctx, b.get(url).text, "s2", True).json()["score"] == "queued"
    wait_for(lambda: scores_for(ctx, sub, 6), 15, "the course B score")
    assert scores_for(ctx, sub, 6)[0]["body"]["scoreGiven"] == 33.33, scores_for(ctx, sub, 6)


# The schema of coursepack 0.1.0 (no version table), for the upgrade test.
OLD_SCHEMA = [
    "CREATE TABLE lti_login_state (state TEXT PRIMARY KEY, nonce TEXT NOT NULL, issuer TEXT NOT NULL, "
    "client_id TEXT NOT NULL, target_link_uri TEXT NOT NULL, storage_target TEXT, storage_secret TEXT, "
    "expires_ms BIGINT NOT NULL)",
    "CREATE TABLE lti_nonce (nonce TEXT PRIMARY KEY, expires_ms BIGINT NOT NULL)",
    "CREATE TABLE lti_launch (handle TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE, issuer TEXT NOT NULL, "
    "client_id TEXT NOT NULL, deployment_id TEXT NOT NULL, sub TEXT NOT NULL, session TEXT, "
    "resource_link_id TEXT NOT NULL, lineitem TEXT, created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL)",
    "CREATE TABLE lti_progress (issuer TEXT NOT NULL, client_id TEXT NOT NULL, sub TEXT NOT NULL, "
    "session TEXT NOT NULL, state TEXT NOT NULL, completed BIGINT NOT NULL, updated_ms BIGINT NOT NULL, "
    "PRIMARY KEY (issuer, client_id, sub, session))",
    "CREATE TABLE lti_outbox (key TEXT PRIMARY KEY, issuer TEXT NOT NULL, client_id TEXT NOT NULL, "
    "lineitem TEXT NOT NULL, sub TEXT NOT NULL, session TEXT NOT NULL, score_given DOUBLE PRECISION NOT NULL, "
    "score_maximum DOUBLE PRECISION NOT NULL, ts_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL, "
    "attempts BIGINT NOT NULL DEFAULT 0, next_ms BIGINT NOT NULL, lease_owner TEXT, lease_until_ms BIGINT, "
    "delivered_ms BIGINT, dead BIGINT NOT NULL DEFAULT 0, last_error TEXT)",
    "CREATE INDEX lti_outbox_due ON lti_outbox (next_ms) WHERE delivered_ms IS NULL AND dead = 0",
    "CREATE INDEX lti_outbox_learner ON lti_outbox (lineitem, sub)",
    "CREATE TABLE lti_deep_link (handle TEXT PRIMARY KEY, issuer TEXT NOT NULL, client_id TEXT NOT NULL, "
    "deployment_id TEXT NOT NULL, return_url TEXT NOT NULL, data TEXT, accept_multiple BIGINT NOT NULL, "
    "expires_ms BIGINT NOT NULL)",
    "CREATE TABLE lti_platform (issuer TEXT NOT NULL, client_id TEXT NOT NULL, config TEXT NOT NULL, "
    "created_ms BIGINT NOT NULL, PRIMARY KEY (issuer, client_id))",
]


class OldDatabase:
    """A database as coursepack 0.1.0 left it, on the backend under test."""

    def __init__(self, ctx, name):
        self.ctx = ctx
        self.data = os.path.join(ctx.work, f"data-{name}")
        os.makedirs(self.data)
        self.extra = []
        if ctx.db == "sqlite":
            self.path = os.path.join(self.data, "coursepack-lti.sqlite")
        else:
            u = urlparse(ctx.db)
            admin = u._replace(path="/postgres").geturl()
            subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE coursepack_{name}"], check=True)
            self.url = u._replace(path=f"/coursepack_{name}").geturl()
            self.extra = ["--database", self.url]
        for stmt in OLD_SCHEMA:
            self.execute(stmt)

    def execute(self, sql):
        if self.ctx.db == "sqlite":
            con = sqlite3.connect(self.path)
            try:
                con.execute(sql)
                con.commit()
            finally:
                con.close()
        else:
            subprocess.run(["psql", self.url, "-qc", sql], check=True, capture_output=True)

    def scalar(self, sql):
        if self.ctx.db == "sqlite":
            con = sqlite3.connect(self.path)
            try:
                return con.execute(sql).fetchone()[0]
            finally:
                con.close()
        out = subprocess.run(["psql", self.url, "-tAc", sql], capture_output=True, text=True, check=True)
        return out.stdout.strip()


@test
def upgrade_keeps_existing_progress_and_launches(ctx):
    """A 0.1.0 database is migrated at start-up, not wiped: a launch accepted before the
    upgrade keeps working with its saved state, and the learner's old progress goes to the
    first course offering they open afterwards (and not to any other)."""
    p = ctx.platform
    old = OldDatabase(ctx, "upgrade")
    now = int(time.time() * 1000)
    old.execute("INSERT INTO lti_progress VALUES ('%s', '%s', 'learner-old', 's1', '{\"done\":[\"old\"]}', 1, %d)"
                % (p.issuer, p.client_id, now))
    handle, token = "old-handle-" + "h" * 40, "old-token-" + "t" * 40
    old.execute("INSERT INTO lti_launch VALUES ('%s', '%s', '%s', '%s', '%s', 'learner-old', 's1', 'rl-1', NULL, %d, %d)"
                % (handle, token, p.issuer, p.client_id, p.deployment_id, now, now + 3_600_000))
    tool = Tool(ctx, "upgrade", data=old.data, extra=old.extra).start()
    try:
        assert str(old.scalar("SELECT version FROM lti_schema")) == "2"
        # The launch from before the upgrade still serves its page, with the saved state.
        r = requests.get(tool.url + f"/l/{handle}/s1.html")
        assert r.status_code == 200 and island(r.text).get("state") == {"done": ["old"]}, r.status_code
        # ... and still saves.
        r = requests.post(tool.url + "/lti/api/progress", json={"session": "s2", "state": {"done": ["old2"]},
                                                                "completed": False},
                          headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["saved"], r.text
        # The learner's first launch after the upgrade: the old progress is theirs in this course.
        b, url = launch(ctx, tool=tool, sub="learner-old", context="course-old")
        assert island(b.get(url).text).get("state") == {"done": ["old"]}
        assert island(b.get(url.replace("/s1.html", "/s2.html")).text).get("state") == {"done": ["old2"]}
        # Another course offering starts fresh.
        b, url = launch(ctx, tool=tool, sub="learner-old", context="course-new")
        assert "state" not in island(b.get(url).text)
    finally:
        tool.stop()
    # A second start finds the schema current and migrates nothing.
    tool.start()
    tool.stop()
    assert tool_log(ctx, "upgrade").count("database schema migrated") == 1, "migrated twice"


@test
def data_folder_and_database_are_private(ctx):
    data = os.path.join(ctx.work, "data-modes", "nested")
    tool = Tool(ctx, "modes", data=data).start()
    try:
        launch(ctx, tool=tool, sub="learner-modes")  # the database has its -wal and -shm files now
        assert os.stat(data).st_mode & 0o777 == 0o700, oct(os.stat(data).st_mode)
        names = os.listdir(data)
        assert "coursepack-lti.sqlite" in names and "lti-keys.json" in names, names
        for name in names:
            mode = os.stat(os.path.join(data, name)).st_mode & 0o777
            assert mode & 0o077 == 0, f"{name} is {oct(mode)}"
    finally:
        tool.stop()
    # A database left readable by an older version is made private at start-up.
    db = os.path.join(data, "coursepack-lti.sqlite")
    os.chmod(db, 0o644)
    tool.start()
    tool.stop()
    assert os.stat(db).st_mode & 0o777 == 0o600, oct(os.stat(db).st_mode)


@test
def deep_linking_is_for_instructor_roles(ctx):
    target = ctx.tool.public_url + "/launch"
    cases = [
        ([ROLE + "Learner"], False),
        ([ROLE + "Mentor", "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"], False),
        # A Learner sub-role that happens to be called Instructor is still a Learner.
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Instructor"], False),
        ([ROLE + "Instructor"], True),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], True),
        ([ROLE + "ContentDeveloper"], True),
        ([ROLE + "Administrator"], True),
        (["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"], True),
        (["Instructor"], True),  # the deprecated simple name
    ]
    for roles, allowed in cases:
        before = ctx.db_scalar("SELECT COUNT(*) FROM lti_deep_link")
        b = requests.Session()
        q = login(ctx, b, target=target)
        c = ctx.platform.claims(q["nonce"], target, message_type="LtiDeepLinkingRequest", roles=roles)
        r = post_launch(ctx, b, ctx.platform.sign(c), q["state"])
        after = ctx.db_scalar("SELECT COUNT(*) FROM lti_deep_link")
        if allowed:
            assert r.status_code == 303 and "/lti/deep-link/" in r.headers["Location"], (roles, r.status_code)
        else:
            assert r.status_code == 403 and "Location" not in r.headers, (roles, r.status_code)
            assert "for teachers" in r.text and "<h1>" in r.text, r.text[-400:]
            assert after == before, f"{roles}: a deep-linking request was stored"


def set_cookies(r):
    return r.raw.headers.getlist("Set-Cookie")


@test
def partitioned_state_cookie_and_new_window_fallback(ctx):
    """The login sets a partitioned (CHIPS) twin of the state cookie, either one admits the
    launch; without any, the tool offers a fresh login in a new window instead of a dead end."""
    port = free_port()
    tool = Tool(ctx, "chips", port=port, public_url=f"http://localhost:{port}",
                data=os.path.join(ctx.work, "data-chips")).start()
    p = ctx.platform
    target = tool.public_url + "/launch/s2"
    try:
        b = requests.Session()
        cookies = set_cookies(b.get(tool.url + "/lti/login", allow_redirects=False, params={
            "iss": p.issuer, "login_hint": "h", "target_link_uri": target, "client_id": p.client_id}))
        assert len(cookies) == 2, cookies
        plain = [c for c in cookies if "Partitioned" not in c]
        part = [c for c in cookies if "Partitioned" in c]
        assert len(plain) == 1 and "SameSite=None" in plain[0] and "Secure" in plain[0], cookies
        assert len(part) == 1 and "SameSite=None" in part[0] and "Secure" in part[0] and "HttpOnly" in part[0], cookies
        # Only the partitioned cookie comes back (what a browser blocking third-party cookies
        # sends inside the LMS's frame): the launch is accepted and both cookies are cleared.
        q = login(ctx, requests.Session(), target=target, tool=tool)
        name = [c for c in q["_set_cookie"].split(", ") if "Partitioned" in c][0].split("=")[0]
        r = requests.post(tool.url + "/lti/launch", data={"id_token": p.sign(p.claims(q["nonce"], target)),
                                                          "state": q["state"]},
                          headers={"Cookie": f"{name}={q['state']}"}, allow_redirects=False)
        assert r.status_code == 303, (r.status_code, r.text[-300:])
        cleared = set_cookies(r)
        assert len(cleared) == 2 and all("Max-Age=0" in c for c in cleared), cleared
        # No cookie at all: a page to open the launch in a new window.
        q = login(ctx, requests.Session(), target=target, tool=tool, lti_message_hint="msg-hint-9")
        r = requests.post(tool.url + "/lti/launch", data={"id_token": p.sign(p.claims(q["nonce"], target)),
                                                          "state": q["state"]}, allow_redirects=False)
        assert r.status_code == 403 and "Location" not in r.headers, r.status_code
        m = re.search(r'<a id="cp-new-window" href="([^"]+)" target="_blank"', r.text)
        assert m and "new window" in r.text, r.text[-600:]
        href = m.group(1)
        assert href == f"{tool.public_url}/lti/relaunch/{q['state']}", href
        # The new window: a fresh login with the same hints, its own state and cookies.
        w = requests.Session()
        r = w.get(tool.url + href[len(tool.public_url):], allow_redirects=False)
        assert r.status_code == 302 and r.headers["Location"].startswith(p.auth_url + "?"), r.status_code
        q2 = {k: v[0] for k, v in parse_qs(urlparse(r.headers["Location"]).query).items()}
        assert q2["state"] != q["state"] and q2["login_hint"] == "user-hint-1", q2
        assert q2["lti_message_hint"] == "msg-hint-9" and q2["client_id"] == p.client_id, q2
        cookie = set_cookies(r)[0].split(";")[0]
        r = requests.post(tool.url + "/lti/launch", data={"id_token": p.sign(p.claims(q2["nonce"], target)),
                                                          "state": q2["state"]},
                          headers={"Cookie": cookie}, allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"].endswith("/s2.html"), r.status_code
        # A made-up state gets no new window.
        r = requests.get(tool.url + "/lti/relaunch/made-up-state", allow_redirects=False)
        assert r.status_code == 403 and "Location" not in r.headers, r.status_code
    finally:
        tool.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--work", required=True)
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    args = ap.parse_args()
    ctx = Ctx(args)
    label = "sqlite" if args.db == "sqlite" else "postgres"
    passed = failed = 0
    try:
        for t in TESTS:
            if args.k and args.k not in t.__name__:
                continue
            if t is several_instances_share_state and args.db == "sqlite":
                print(f"SKIP [{label}] {t.__name__} (needs PostgreSQL; not counted)", flush=True)
                continue
            ctx.platform.score_mode = "up"
            start = time.time()
            try:
                t(ctx)
                passed += 1
                print(f"PASS [{label}] {t.__name__} ({time.time() - start:.1f}s)", flush=True)
            except Exception as e:  # noqa: BLE001 - report and go on
                failed += 1
                print(f"FAIL [{label}] {t.__name__}: {e}", flush=True)
                traceback.print_exc(limit=3)
                if ctx.tool.proc.poll() is not None:
                    ctx.tool.start()
    finally:
        ctx.tool.stop()
    print(f"RESULT passed={passed} failed={failed}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
