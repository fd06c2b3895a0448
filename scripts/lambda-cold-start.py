#!/usr/bin/env python3
"""Measures each function's cold start under the Lambda emulator, against DynamoDB.

    scripts/lambda-cold-start.py [RUNS]

Needs the release packages (`cargo lambda build --release --bins` in functions/, as
`sam build` and the test command run it) and target/venv (moto, cargo-lambda; the test
command installs them).
It starts moto on a free loopback port, creates a table and the functions' bundle with
`portal admin init` and `portal bundle`, and starts `cargo lambda watch --only-lambda-apis`:
the emulator's Lambda Runtime API and its HTTP front, without starting any function. Then,
RUNS times per function, it queues one HTTP request at the emulator, starts the function's
`bootstrap` pointed at the emulator, and times from starting the process to receiving the
HTTP answer: process start, set-up (store client, bundle, templates, indexes), the request
and the answer, as Lambda's first request after a cold start would.
"""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "venv", "bin")
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
# The packages to time (`functions/target/lambda`, where that build puts them, by default).
PACKAGES = os.environ.get(
    "PORTAL_LAMBDA_DIR", os.path.join(ROOT, "functions", "target", "lambda")
)

# One request per function: issues and events read DynamoDB, search reads its index, auth and
# account answer 401 to a request without a session, staff 401 to one without a key, and the
# desk renders its login page.
REQUESTS = {
    "issues": "/api/track/0123456789abcdef0123456789abcdef",
    "events": "/api/events/getting-started-webinar-december",
    "search": "/api/search?q=refund",
    "auth": "/api/me",
    "account": "/api/my/invoices",
    "staff": "/api/staff/issues",
    "desk": "/desk/login",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"nothing answers at {url}")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def once(name, env, emulator):
    answer = {}

    def request():
        answer["status"] = get(f"http://127.0.0.1:{emulator}/lambda-url/{name}{REQUESTS[name]}")
        answer["at"] = time.perf_counter()

    t = threading.Thread(target=request)
    t.start()
    time.sleep(0.3)  # the request is queued at the emulator
    start = time.perf_counter()
    proc = subprocess.Popen(
        [os.path.join(PACKAGES, name, "bootstrap")],
        env=env | {"AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{emulator}/.rt/{name}",
                   "AWS_LAMBDA_FUNCTION_NAME": name},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    t.join(60)
    proc.kill()
    _, err = proc.communicate()
    if "at" not in answer:
        sys.exit(f"{name}: no answer: {err.decode(errors='replace')[-2000:]}")
    return (answer["at"] - start) * 1000, answer["status"]


def main():
    procs = []
    try:
        moto = free_port()
        procs.append(subprocess.Popen(
            [os.path.join(VENV, "python"), os.path.join(ROOT, "scripts", "moto-server.py"),
             "-H", "127.0.0.1", "-p", str(moto)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_http(f"http://127.0.0.1:{moto}/moto-api/")
        env = dict(os.environ) | {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto}",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "PORTAL_STORE": "dynamodb:cold-start",
        }
        out = tempfile.mkdtemp()
        portal = ["cargo", "run", "--quiet", "--bin", "portal", "--"]
        subprocess.run(portal + ["admin", "init", "--store", "dynamodb:cold-start"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(portal + ["bundle", "--out", out], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        env["PORTAL_SITE_DIR"] = os.path.join(out, "bundle", "site")
        emulator = free_port()
        procs.append(subprocess.Popen(
            ["cargo", "lambda", "watch", "--only-lambda-apis", "--quiet",
             "-A", "127.0.0.1", "-P", str(emulator)],
            cwd=os.path.join(ROOT, "functions"),
            env=env | {"PATH": VENV + os.pathsep + env.get("PATH", "")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_http(f"http://127.0.0.1:{emulator}/lambda-url/none/")
        print(f"| Function | Request | Median | Max | Size |")
        print(f"|---|---|---|---|---|")
        for name in REQUESTS:
            times, status = [], None
            for _ in range(RUNS):
                ms, status = once(name, env, emulator)
                times.append(ms)
            size = os.path.getsize(os.path.join(PACKAGES, name, "bootstrap"))
            print(f"| `{name}` | GET {REQUESTS[name]} → {status} | "
                  f"{statistics.median(times):.1f} ms | {max(times):.1f} ms | "
                  f"{size / 1048576:.1f} MiB |", flush=True)
    finally:
        for p in procs:
            p.kill()


main()
