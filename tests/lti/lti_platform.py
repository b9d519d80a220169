"""An independent LTI 1.3 test platform.

It shares no code with the tool: its own RSA keys (cryptography), id_tokens signed with PyJWT,
and HTTP endpoints (stdlib http.server) for its JWKS, OAuth2 token, line item scores, OpenID
configuration and dynamic registration. It checks what the tool sends and records it.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
TOOL_CONF = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Key:
    def __init__(self, kid):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self):
        d = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        d.update(kid=self.kid, alg="RS256", use="sig")
        return d

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def parse_iso(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


class Platform:
    def __init__(self):
        self.lock = threading.Lock()
        self.key = Key("platform-key-1")
        self.published = [self.key]
        self.client_id = "tool-client-1"
        self.deployment_id = "deployment-1"
        self.tool_jwks_url = None
        self.reset_records()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = self.url
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset_records(self):
        with getattr(self, "lock", threading.Lock()):
            self.scores = []          # accepted scores: dicts with lineitem, query, body
            self.score_posts = []     # every score POST: (lineitem path, userId, status)
            self.score_mode = "up"    # up | down | slow | gone
            self.slow_seconds = 0
            self.last_ts = {}
            self.tokens = {}          # access token -> granted scopes
            self.lineitems = []       # line items the tool created: dicts with id and body
            self.lineitem_gets = 0
            self.lineitem_posts = 0
            self.lineitems_mode = "up"  # up | forbidden
            self.token_requests = 0
            self.jtis = set()
            self.errors = []          # protocol violations seen from the tool
            self.registrations = []
            self.jwks_fetches = 0
            self.assertion_kids = []  # kid of every client assertion
            self.rejected_tokens = 0  # score posts with an unknown or revoked access token
            self.auth_requests = []   # OIDC authorisation requests seen (browser-driven launches)
            self.browser_launch = None
            self.storage_events = []  # what the LMS page's platform storage was asked
            self.config_fetches = 0
            self.registration_mode = "ok"  # ok | error (500 with a body the tool must not echo)
            self.config_overrides = {}     # fields replaced in the OpenID configuration

    # -- URLs ---------------------------------------------------------------------------------
    @property
    def auth_url(self):
        return self.url + "/auth"

    @property
    def token_url(self):
        return self.url + "/token"

    @property
    def jwks_url(self):
        return self.url + "/jwks"

    def lineitem(self, n=1):
        # Query string as some platforms carry it: it must survive into the scores URL.
        return f"{self.url}/lineitems/{n}/lineitem?type_id={n + 6}"

    def platforms_toml(self):
        return (
            "[[platform]]\n"
            f'name = "test platform"\nissuer = "{self.issuer}"\nclient_id = "{self.client_id}"\n'
            f'auth_url = "{self.auth_url}"\ntoken_url = "{self.token_url}"\n'
            f'jwks_url = "{self.jwks_url}"\ndeployment_ids = ["{self.deployment_id}", "deployment-2"]\n'
        )

    def rotate_key(self, kid):
        new = Key(kid)
        with self.lock:
            self.key = new
            self.published = [new]

    # -- id_tokens ----------------------------------------------------------------------------
    def claims(self, nonce, target, message_type="LtiResourceLinkRequest", sub="learner-1",
               lineitem=None, client_id=None, context="course-42", resource_link="rl-1", roles=None,
               scopes=None):
        """A valid id_token's claims. `lineitem=False`: an AGS claim with only the line items
        URL (a link without a grade column, as Moodle gives cartridge-imported links)."""
        now = int(time.time())
        c = {
            "iss": self.issuer,
            "aud": client_id or self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": "Test Learner",
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": target,
            LTI + "roles": roles or [ROLE + "Learner"],
            LTI + "context": {"id": context, "title": "Test course"},
        }
        if message_type == "LtiResourceLinkRequest":
            c[LTI + "resource_link"] = {"id": resource_link, "title": "Session link"}
            c[AGS_CLAIM] = {
                "scope": scopes or [SCOPE_SCORE, SCOPE_LINEITEM_RO, SCOPE_LINEITEM],
                "lineitem": lineitem or self.lineitem(1),
                "lineitems": self.url + "/lineitems",
            }
            if lineitem is False:
                del c[AGS_CLAIM]["lineitem"]
        else:
            c[LTI + "roles"] = roles or [ROLE + "Instructor"]
            c[DL_SETTINGS] = {
                "deep_link_return_url": self.url + "/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
                "data": "opaque-data-123",
            }
        return c

    def sign(self, claims, key=None, kid="__default__", alg="RS256"):
        key = key or self.key
        headers = {}
        if kid == "__default__":
            headers["kid"] = key.kid
        elif kid is not None:
            headers["kid"] = kid
        if alg == "RS256":
            return jwt.encode(claims, key.private, algorithm="RS256", headers=headers)
        raise ValueError(alg)

    @staticmethod
    def unsigned(claims, kid="platform-key-1"):
        """A token with `alg: none` (built by hand: no library should make one)."""
        header = {"alg": "none", "typ": "JWT", "kid": kid}
        return b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode()) + "."

    def hs256_with_public_key(self, claims):
        """The classic confusion attack: HMAC keyed with the platform's public key."""
        header = {"alg": "HS256", "typ": "JWT", "kid": self.key.kid}
        signing_input = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())
        sig = hmac.new(self.key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + b64u(sig)

    # -- HTTP ---------------------------------------------------------------------------------
    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body, ctype="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the tool was killed mid-request on purpose

            def body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n)

            def do_GET(self):
                u = urlparse(self.path)
                if u.path == "/jwks":
                    with platform.lock:
                        platform.jwks_fetches += 1
                        keys = [k.jwk() for k in platform.published]
                    return self.reply(200, {"keys": keys})
                if u.path == "/.well-known/openid-configuration":
                    with platform.lock:
                        platform.config_fetches += 1
                    return self.reply(200, platform.openid_configuration())
                if u.path == "/frame":
                    return self.reply(200, platform.frame_page(parse_qs(u.query)["login"][0]).encode(),
                                      "text/html; charset=utf-8")
                if u.path == "/storage-log":
                    with platform.lock:
                        platform.storage_events.append(parse_qs(u.query)["e"][0])
                    return self.reply(204, b"", "text/plain")
                if u.path == "/lineitems":
                    status, body = platform.handle_lineitems_get(u, self.headers)
                    return self.reply(status, body, LINEITEMS_TYPE)
                if u.path == "/auth":
                    return self.reply(200, platform.auth_page(parse_qs(u.query)).encode(),
                                      "text/html; charset=utf-8")
                self.reply(404, {"error": "not found"})

            def do_POST(self):
                u = urlparse(self.path)
                raw = self.body()
                if u.path == "/token":
                    status, body = platform.handle_token(raw)
                    return self.reply(status, body)
                if u.path.startswith("/lineitems/") and u.path.endswith("/scores"):
                    status, body, delay = platform.handle_score(u, self.headers, raw)
                    if delay:
                        time.sleep(delay)
                    return self.reply(status, body)
                if u.path == "/lineitems":
                    status, body = platform.handle_lineitems_post(self.headers, raw)
                    return self.reply(status, body, LINEITEM_TYPE)
                if u.path == "/register":
                    status, body = platform.handle_registration(self.headers, raw)
                    return self.reply(status, body)
                self.reply(404, {"error": "not found"})

        return Handler

    def error(self, msg):
        with self.lock:
            self.errors.append(msg)

    def verify_tool_jwt(self, token, audience, issuer):
        jwks = requests.get(self.tool_jwks_url, timeout=5).json()
        kid = jwt.get_unverified_header(token).get("kid")
        match = [k for k in jwks["keys"] if k["kid"] == kid]
        if not match:
            raise ValueError(f"tool kid {kid} not in its JWKS")
        key = jwt.PyJWK(match[0]).key
        return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer)

    def handle_token(self, raw):
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        with self.lock:
            self.token_requests += 1
        if form.get("grant_type") != "client_credentials":
            self.error("token: grant_type")
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            self.error("token: client_assertion_type")
            return 400, {"error": "invalid_request"}
        scopes = set(form.get("scope", "").split())
        if not scopes or not scopes <= {SCOPE_SCORE, SCOPE_LINEITEM, SCOPE_LINEITEM_RO}:
            self.error(f"token: scope {form.get('scope')!r}")
            return 400, {"error": "invalid_scope"}
        try:
            claims = self.verify_tool_jwt(form.get("client_assertion", ""), self.token_url, self.client_id)
        except Exception as e:  # noqa: BLE001 - any failure is the tool's fault here
            self.error(f"token: assertion does not verify: {e}")
            return 401, {"error": "invalid_client"}
        with self.lock:
            self.assertion_kids.append(jwt.get_unverified_header(form["client_assertion"]).get("kid"))
        if claims.get("sub") != self.client_id or not claims.get("jti"):
            self.error("token: sub/jti")
            return 401, {"error": "invalid_client"}
        with self.lock:
            if claims["jti"] in self.jtis:
                self.errors.append("token: jti reused")
                return 401, {"error": "invalid_client"}
            self.jtis.add(claims["jti"])
            token = uuid.uuid4().hex
            self.tokens[token] = scopes
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                     "scope": form["scope"]}

    def handle_score(self, u, headers, raw):
        lineitem = u.path[: -len("/scores")]
        query = parse_qs(u.query)
        auth = headers.get("Authorization", "")
        try:
            body = json.loads(raw)
        except ValueError:
            self.error("score: body is not JSON")
            return 400, {"error": "json"}, 0
        user = body.get("userId")
        with self.lock:
            mode, slow = self.score_mode, self.slow_seconds
        if mode == "down":
            with self.lock:
                self.score_posts.append((lineitem, user, 503))
            return 503, {"error": "maintenance"}, 0
        if mode == "gone":
            with self.lock:
                self.score_posts.append((lineitem, user, 404))
            return 404, {"error": "no such line item"}, 0
        if not auth.startswith("Bearer ") or SCOPE_SCORE not in self.tokens.get(auth[7:], ()):
            with self.lock:
                self.rejected_tokens += 1
                self.score_posts.append((lineitem, user, 401))
            return 401, {"error": "unauthorized"}, 0
        if headers.get("Content-Type") != SCORE_TYPE:
            self.error(f"score: content type {headers.get('Content-Type')}")
            return 415, {"error": "content type"}, 0
        n = lineitem.split("/")[2]
        if query.get("type_id") != [str(int(n) + 6)]:
            self.error(f"score: query string lost: {u.query!r}")
            return 400, {"error": "type_id"}, 0
        if body.get("activityProgress") not in ("Completed", "InProgress"):
            self.error(f"score: activityProgress={body.get('activityProgress')}")
        if body.get("gradingProgress") != "FullyGraded":
            self.error(f"score: gradingProgress={body.get('gradingProgress')}")
        if not isinstance(body.get("scoreGiven"), (int, float)) or not isinstance(body.get("scoreMaximum"), (int, float)):
            self.error("score: scoreGiven/scoreMaximum")
        try:
            ts = parse_iso(body["timestamp"])
        except (KeyError, ValueError):
            self.error("score: timestamp")
            return 400, {"error": "timestamp"}, 0
        with self.lock:
            last = self.last_ts.get((lineitem, user))
            if last is not None and ts <= last:
                # Same or older timestamp: the platform already has this (or a newer) score.
                self.score_posts.append((lineitem, user, 409))
                return 409, {"error": "stale timestamp"}, 0
            self.last_ts[(lineitem, user)] = ts
            self.scores.append({"lineitem": lineitem, "query": u.query, "body": body})
            self.score_posts.append((lineitem, user, 200))
        return 200, {}, (slow if mode == "slow" else 0)

    def lineitem_token_ok(self, headers):
        auth = headers.get("Authorization", "")
        with self.lock:
            return auth.startswith("Bearer ") and SCOPE_LINEITEM in self.tokens.get(auth[7:], ())

    def handle_lineitems_get(self, u, headers):
        """AGS: the line items container, filtered by resource_link_id and tag."""
        with self.lock:
            self.lineitem_gets += 1
            mode = self.lineitems_mode
        if mode == "forbidden":
            return 403, {"error": "lineitem scope not granted"}
        if not self.lineitem_token_ok(headers):
            self.error("lineitems GET without a lineitem-scope token")
            return 401, {"error": "unauthorized"}
        if LINEITEMS_TYPE not in headers.get("Accept", ""):
            self.error(f"lineitems GET: Accept {headers.get('Accept')}")
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        with self.lock:
            items = [li["body"] | {"id": li["id"]} for li in self.lineitems]
        items = [i for i in items if all(i.get(f) == q[k] for k, f in
                                          (("resource_link_id", "resourceLinkId"), ("tag", "tag")) if k in q)]
        return 200, items

    def handle_lineitems_post(self, headers, raw):
        with self.lock:
            self.lineitem_posts += 1
            mode = self.lineitems_mode
        if mode == "forbidden":
            return 403, {"error": "lineitem scope not granted"}
        if not self.lineitem_token_ok(headers):
            self.error("lineitems POST without a lineitem-scope token")
            return 401, {"error": "unauthorized"}
        if headers.get("Content-Type") != LINEITEM_TYPE:
            self.error(f"lineitems POST: content type {headers.get('Content-Type')}")
            return 415, {"error": "content type"}
        body = json.loads(raw)
        if not (isinstance(body.get("scoreMaximum"), (int, float)) and body["scoreMaximum"] > 0
                and body.get("label")):
            self.error(f"lineitems POST: {body}")
            return 400, {"error": "scoreMaximum and label are required"}
        return 201, self.add_lineitem(body)

    def add_lineitem(self, body):
        """A line item in the container (as if created earlier); returns it with its id."""
        with self.lock:
            n = 100 + len(self.lineitems)
            item = {"id": self.lineitem(n), "body": body}
            self.lineitems.append(item)
        return body | {"id": item["id"]}

    def openid_configuration(self):
        with self.lock:
            overrides = dict(self.config_overrides)
        return {**self._openid_configuration(), **overrides}

    def _openid_configuration(self):
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.auth_url,
            "token_endpoint": self.token_url,
            "jwks_uri": self.jwks_url,
            "registration_endpoint": self.url + "/register",
            "scopes_supported": ["openid", SCOPE_SCORE, SCOPE_LINEITEM_RO, SCOPE_LINEITEM],
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "testplatform",
                "version": "1.0",
                "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
            },
        }

    def handle_registration(self, headers, raw):
        if headers.get("Authorization") != "Bearer reg-token-xyz":
            self.error("register: registration token missing")
            return 401, {"error": "unauthorized"}
        with self.lock:
            mode = self.registration_mode
        if mode == "error":
            return 500, {"error": "internal", "detail": "db at 10.0.0.5:5432 secret-internal-detail"}
        body = json.loads(raw)
        with self.lock:
            self.registrations.append(body)
        return 200, {
            "client_id": "dyn-client-1",
            **{k: body[k] for k in ("redirect_uris", "initiate_login_uri", "jwks_uri") if k in body},
            TOOL_CONF: {**body.get(TOOL_CONF, {}), "deployment_id": "dyn-deployment-1"},
        }

    # -- a browser-driven launch: the LMS page embedding the tool, with platform storage -------
    def frame_page(self, login_url):
        """The LMS page: the tool in an iframe, and the LTI platform storage answering
        lti.put_data / lti.get_data from it (keys kept in this page only)."""
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>LMS</title></head><body>
<script>
var store = {{}};
function log(t) {{ new Image().src = '/storage-log?e=' + encodeURIComponent(t); }}
window.addEventListener('message', function (e) {{
  var d = e.data || {{}};
  if (d.subject === 'lti.put_data') {{
    store[d.key] = d.value; log('put ' + d.key);
    e.source.postMessage({{subject: 'lti.put_data.response', message_id: d.message_id, key: d.key, value: d.value}}, e.origin);
  }} else if (d.subject === 'lti.get_data') {{
    log('get ' + d.key + ' ' + (d.key in store));
    e.source.postMessage({{subject: 'lti.get_data.response', message_id: d.message_id, key: d.key, value: store[d.key]}}, e.origin);
  }}
}});
</script>
<iframe name="tool" src="{login_url.replace('&', '&amp;').replace('"', '&quot;')}"></iframe>
</body></html>"""

    def auth_page(self, q):
        """The OIDC authorisation endpoint: signs the id_token for the launch the test set up in
        `self.browser_launch` and form-posts it back to the tool."""
        q = {k: v[0] for k, v in q.items()}
        launch = self.browser_launch
        claims = self.claims(q["nonce"], launch["target"], sub=launch["sub"])
        token = self.sign(claims)
        with self.lock:
            self.auth_requests.append(q)
        return f"""<!DOCTYPE html><html><body>
<form id="f" method="post" action="{q['redirect_uri']}">
<input type="hidden" name="id_token" value="{token}"><input type="hidden" name="state" value="{q['state']}">
</form><script>document.getElementById('f').submit();</script></body></html>"""
