#!/usr/bin/env python3
"""Measures a function binary's cold start the way Lambda runs it: a minimal Lambda Runtime
API on 127.0.0.1 hands the binary one API Gateway v2 event, and the time from starting the
process to receiving its answer is the cold start.

    scripts/lambda-cold-start.py BINARY EVENT.json [RUNS]

The binary's environment (PORTAL_STORE, PORTAL_SITE_DIR …) is passed through. Prints one
line per run and a summary; exits non-zero if the function answered with an error.
"""

import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time

binary, event_path = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
with open(event_path, "rb") as f:
    event = f.read()


class Runtime(http.server.BaseHTTPRequestHandler):
    answer = None
    handed = False
    done = threading.Event()

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next") and not Runtime.handed:
            Runtime.handed = True
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-1")
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
            self.send_header(
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:eu-west-2:123456789012:function:bench",
            )
            self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
            self.send_header("Content-Length", str(len(event)))
            self.end_headers()
            self.wfile.write(event)
        else:
            # Later polls wait until the run is over.
            Runtime.done.wait(10)
            self.send_response(500)
            self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Runtime.answer = (time.perf_counter(), self.path, body)
        self.send_response(202)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
        Runtime.done.set()


def once():
    Runtime.answer, Runtime.handed = None, False
    Runtime.done = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update(
        AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
        AWS_LAMBDA_FUNCTION_NAME="bench",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/bench",
        AWS_LAMBDA_LOG_STREAM_NAME="bench",
        AWS_REGION=env.get("AWS_REGION", "eu-west-2"),
    )
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    Runtime.done.wait(10)
    proc.kill()
    _, err = proc.communicate()
    server.shutdown()
    if Runtime.answer is None:
        sys.exit(f"no answer from {binary}: {err.decode(errors='replace')[-2000:]}")
    at, path, body = Runtime.answer
    if not path.endswith("/response"):
        sys.exit(f"{binary} reported an error: {body[:500]!r}")
    status = json.loads(body).get("statusCode")
    return (at - start) * 1000, status


times = []
for i in range(runs):
    ms, status = once()
    times.append(ms)
    print(f"run {i + 1}: {ms:.1f} ms to the first answer (HTTP {status})")
print(
    f"{os.path.basename(binary)}: cold start median {statistics.median(times):.1f} ms, "
    f"max {max(times):.1f} ms over {runs} runs"
)
