"""Load client for bench/lti.sh: measures the tool, not this client.

Tool CPU comes from /proc/<tool pid>/stat (user + system), so the client's own cost never
counts. RS256 id_tokens are signed outside the measured windows: logins first, then the
tokens are signed for the nonces the tool issued, then the launch posts. Session pages are
fetched by wrk (a compiled load generator), not by Python.

Phases:
  1. CPU per launch: LAUNCHES logins, then LAUNCHES launch posts with pre-signed id_tokens.
  2. Class-start burst: BURST learners arriving evenly over BURST_SECONDS; each one's full
     launch latency is its login's plus its launch post's (its id_token is signed in
     between, outside both).
  3. Session pages: wrk on one launched session page (launch lookup, saved state, island).
Prints one `RESULT key=value` line per figure for bench/lti.sh.
"""

import argparse
import http.client
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlencode, urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lti"))
from lti_platform import Platform  # noqa: E402

SIGNER = None  # per worker process: a Platform that signs only (no server)


def conn(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def init_signer(key_pem, issuer, client_id, deployment):
    global SIGNER
    from cryptography.hazmat.primitives import serialization
    p = Platform.__new__(Platform)
    p.issuer, p.client_id, p.deployment_id, p.url = issuer, client_id, deployment, issuer

    class K:
        kid = "platform-key-1"
        private = serialization.load_pem_private_key(key_pem, None)
    p.key = K
    SIGNER = p


def do_login(c, port, issuer, client_id, target, n):
    q = urlencode({"iss": issuer, "login_hint": f"u{n}", "target_link_uri": target, "client_id": client_id})
    c.request("GET", "/lti/login?" + q)
    r = c.getresponse()
    r.read()
    if r.status != 302:
        raise SystemExit(f"login answered {r.status}")
    loc = parse_qs(urlparse(r.getheader("Location")).query)
    cookie = r.getheader("Set-Cookie").split(";")[0]
    return loc["state"][0], loc["nonce"][0], cookie


def do_launch(c, token, state, cookie):
    body = urlencode({"id_token": token, "state": state})
    c.request("POST", "/lti/launch", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    r = c.getresponse()
    r.read()
    if r.status != 303:
        raise SystemExit(f"launch answered {r.status}")
    return r.getheader("Location")


def login_worker(args):
    port, issuer, client_id, target, first, n = args
    c = conn(port)
    return [do_login(c, port, issuer, client_id, target, first + i) for i in range(n)]


def sign_worker(args):
    target, logins = args
    return [SIGNER.sign(SIGNER.claims(nonce, target, sub=f"bench-{state[:12]}")) for state, nonce, _ in logins]


def launch_worker(args):
    port, items = args
    c = conn(port)
    return [do_launch(c, token, state, cookie) for token, (state, _, cookie) in items]


def burst_worker(args):
    """Learners arriving at fixed times; returns each one's (login s, launch s)."""
    port, issuer, client_id, target, start, arrivals, first = args
    c = conn(port)
    out = []
    for i, at in enumerate(arrivals):
        delay = start + at - time.time()
        if delay > 0:
            time.sleep(delay)
        t0 = time.perf_counter()
        state, nonce, cookie = do_login(c, port, issuer, client_id, target, first + i)
        t1 = time.perf_counter()
        token = SIGNER.sign(SIGNER.claims(nonce, target, sub=f"burst-{first + i}"))
        t2 = time.perf_counter()
        do_launch(c, token, state, cookie)
        t3 = time.perf_counter()
        out.append((t1 - t0, t3 - t2))
    return out


def cpu_seconds(pid):
    """User + system CPU time of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def chunks(items, n):
    size = (len(items) + n - 1) // n
    return [items[i:i + size] for i in range(0, len(items), size)]


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--platform-file", required=True, help="where to write platforms.toml")
    ap.add_argument("--ready-file", required=True, help="created once platforms.toml is written")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--launches", type=int, default=2000)
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--burst-seconds", type=float, default=3)
    ap.add_argument("--page-seconds", type=float, default=5)
    ap.add_argument("--page-connections", type=int, default=16)
    ap.add_argument("--pid-file", required=True, help="holds the tool's pid once it runs")
    a = ap.parse_args()

    platform = Platform()
    with open(a.platform_file, "w") as f:
        f.write(platform.platforms_toml())
    open(a.ready_file, "w").close()
    for _ in range(300):  # the tool is started by bench/lti.sh once platforms.toml exists
        try:
            c = conn(a.port)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.1)
    with open(a.pid_file) as f:
        tool = int(f.read())
    from cryptography.hazmat.primitives import serialization
    pem = platform.key.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
    target = f"http://127.0.0.1:{a.port}/launch/s1"
    iss, cid = platform.issuer, platform.client_id
    W = a.workers
    with multiprocessing.Pool(W, initializer=init_signer,
                              initargs=(pem, iss, cid, platform.deployment_id)) as pool:
        def launches(n, first):
            """n logins then n launch posts; returns (login CPU s, launch CPU s, logins s,
            launches s, a page URL)."""
            per = [(a.port, iss, cid, target, first + i * (n // W), n // W) for i in range(W)]
            cpu0, t0 = cpu_seconds(tool), time.time()
            logins = [x for part in pool.map(login_worker, per) for x in part]
            cpu_login, t_login = cpu_seconds(tool) - cpu0, time.time() - t0
            tokens = [t for part in pool.map(sign_worker, [(target, ch) for ch in chunks(logins, W)]) for t in part]
            items = list(zip(tokens, logins))
            cpu0, t0 = cpu_seconds(tool), time.time()
            pages = [x for part in pool.map(launch_worker, [(a.port, ch) for ch in chunks(items, W)]) for x in part]
            cpu_launch, t_launch = cpu_seconds(tool) - cpu0, time.time() - t0
            return cpu_login, cpu_launch, t_login, t_launch, pages[0], len(pages)

        launches(200, 10_000_000)  # warm-up: JWKS fetch, connections, caches
        cpu_login, cpu_launch, t_login, t_launch, page, n = launches(a.launches, 0)
        full = 1000 * (cpu_login + cpu_launch) / n
        print(f"launch CPU ({n} logins, then {n} posts of pre-signed RS256 id_tokens):")
        print(f"  tool CPU per login {1000 * cpu_login / n:.3f} ms, per launch post {1000 * cpu_launch / n:.3f} ms, "
              f"per full launch {full:.3f} ms (one core: {1000 / full:.0f} full launches/s)")
        print(f"  client-driven rate: logins {n / t_login:.0f}/s, launch posts {n / t_launch:.0f}/s "
              f"({W} Python client processes; bounded by the client)")
        print(f"RESULT launch_cpu_ms={full:.3f}")

        # Class-start burst: arrivals spread evenly, dealt round-robin to the workers.
        at = [i * a.burst_seconds / a.burst for i in range(a.burst)]
        start = time.time() + 0.5
        cpu0 = cpu_seconds(tool)
        res = pool.map(burst_worker, [(a.port, iss, cid, target, start, at[i::W], 20_000_000 + i * a.burst)
                                      for i in range(W)])
        cpu_burst = cpu_seconds(tool) - cpu0
        pairs = [x for part in res for x in part]
        fulls = [1000 * (li + la) for li, la in pairs]
        print(f"class-start burst: {len(pairs)} learners over {a.burst_seconds:.0f} s "
              f"({len(pairs) / a.burst_seconds:.0f} launches/s), full launch latency (login + launch post, "
              f"as the client saw them):")
        print(f"  p50 {pct(fulls, 50):.2f} ms, p90 {pct(fulls, 90):.2f} ms, p99 {pct(fulls, 99):.2f} ms, "
              f"max {max(fulls):.2f} ms; tool CPU {1000 * cpu_burst / len(pairs):.3f} ms per launch")
        print(f"RESULT burst_p50_ms={pct(fulls, 50):.2f}")
        print(f"RESULT burst_p99_ms={pct(fulls, 99):.2f}")

    # Session pages: wrk, keep-alive, one launch's session page.
    url = f"http://127.0.0.1:{a.port}{urlparse(page).path}"
    cpu0 = cpu_seconds(tool)
    out = subprocess.run(["wrk", "-t1", f"-c{a.page_connections}", f"-d{a.page_seconds:g}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(tool) - cpu0
    n = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk: {errors.group(1)} pages failed\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    print(f"session pages (wrk, {a.page_connections} keep-alive connections, {a.page_seconds:g} s): "
          f"{rate:.0f}/s, p50 {lat.get('50')}, p99 {lat.get('99')}; tool CPU {1000 * cpu / n:.4f} ms per page")
    print(f"RESULT pages_per_s={rate:.0f}")
    print(f"RESULT page_cpu_ms={1000 * cpu / n:.4f}")


if __name__ == "__main__":
    main()
