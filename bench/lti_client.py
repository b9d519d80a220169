"""Load client for bench/lti.sh: full LTI launches (login + RS256 id_token post) and session
page fetches against a running `coursepack serve`, on loopback, bounded in count and time.

Each worker process has its own keep-alive connection; the test platform from tests/lti signs
the id_tokens, so the tool verifies a real RS256 signature on every launch.
"""

import argparse
import http.client
import multiprocessing
import os
import sys
import time
from urllib.parse import parse_qs, urlencode, urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lti"))
from lti_platform import Platform  # noqa: E402


def conn(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def launch_worker(args):
    port, n, deadline, key_pem, issuer, client_id, deployment = args
    from cryptography.hazmat.primitives import serialization
    p = Platform.__new__(Platform)  # signing only: no server in the workers
    p.issuer, p.client_id, p.deployment_id, p.url = issuer, client_id, deployment, issuer

    class K:
        kid = "platform-key-1"
        private = serialization.load_pem_private_key(key_pem, None)
    p.key = K
    c = conn(port)
    target = f"http://127.0.0.1:{port}/launch/s1"
    done = 0
    pages = []
    while done < n and time.time() < deadline:
        q = urlencode({"iss": issuer, "login_hint": "u", "target_link_uri": target, "client_id": client_id})
        c.request("GET", "/lti/login?" + q)
        r = c.getresponse()
        r.read()
        if r.status != 302:
            raise SystemExit(f"login answered {r.status}")
        loc = parse_qs(urlparse(r.getheader("Location")).query)
        cookie = r.getheader("Set-Cookie").split(";")[0]
        claims = p.claims(loc["nonce"][0], target, sub=f"bench-{os.getpid()}-{done}")
        body = urlencode({"id_token": p.sign(claims), "state": loc["state"][0]})
        c.request("POST", "/lti/launch", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        r = c.getresponse()
        r.read()
        if r.status != 303:
            raise SystemExit(f"launch answered {r.status}")
        pages.append(r.getheader("Location"))
        done += 1
    return done, pages[:1]


def page_worker(args):
    port, path, n, deadline = args
    c = conn(port)
    done = 0
    size = 0
    while done < n and time.time() < deadline:
        c.request("GET", path)
        r = c.getresponse()
        size = len(r.read())
        if r.status != 200:
            raise SystemExit(f"page answered {r.status}")
        done += 1
    return done, size


def cpu_seconds(pid):
    """User + system CPU time of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--platform-file", required=True, help="where to write platforms.toml")
    ap.add_argument("--ready-file", required=True, help="created once platforms.toml is written")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--launches", type=int, default=2000)
    ap.add_argument("--pages", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--pid-file", required=True, help="holds the tool's pid once it runs")
    a = ap.parse_args()

    platform = Platform()
    with open(a.platform_file, "w") as f:
        f.write(platform.platforms_toml())
    open(a.ready_file, "w").close()
    # Wait for the tool (started by bench/lti.sh once platforms.toml exists).
    for _ in range(300):
        try:
            c = conn(a.port)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.1)
    with open(a.pid_file) as f:
        tool_pid = int(f.read())
    from cryptography.hazmat.primitives import serialization
    pem = platform.key.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
    per = a.launches // a.workers
    with multiprocessing.Pool(a.workers) as pool:
        cpu0 = cpu_seconds(tool_pid)
        start = time.time()
        res = pool.map(launch_worker, [(a.port, per, start + a.seconds, pem, platform.issuer,
                                        platform.client_id, platform.deployment_id)] * a.workers)
        took = time.time() - start
        n = sum(r[0] for r in res)
        cpu = cpu_seconds(tool_pid) - cpu0
        print(f"launches (login + RS256 id_token verify + launch row): {n} in {took:.2f}s = {n / took:.0f}/s "
              f"({a.workers} client processes); tool CPU {1000 * cpu / n:.2f} ms per launch")
        page = res[0][1][0]
        per = a.pages // a.workers
        cpu0 = cpu_seconds(tool_pid)
        start = time.time()
        res = pool.map(page_worker, [(a.port, page, per, start + a.seconds)] * a.workers)
        took = time.time() - start
        n = sum(r[0] for r in res)
        cpu = cpu_seconds(tool_pid) - cpu0
        print(f"session page (launch lookup + LTI island, {res[0][1]} bytes): {n} in {took:.2f}s = "
              f"{n / took:.0f}/s ({a.workers} client processes, keep-alive); tool CPU {1000 * cpu / n:.3f} ms per page")


if __name__ == "__main__":
    main()
