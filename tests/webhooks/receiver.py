"""A webhook receiver on loopback for the tests, checking every delivery with the
`standardwebhooks` package (an implementation of the specification independent of the
portal's).

    receiver.py LOG [--fail-first N] [--delay SECONDS]

Prints its port, then reads the endpoint's secret from standard input (one line). Each
delivery is appended to LOG as one JSON line: the path, the headers that matter, whether the
signature verified (and that a wrong secret is refused), the parsed body, and the status it
answered: 500 for the first N deliveries, 204 after.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

args = argparse.ArgumentParser()
args.add_argument("log")
args.add_argument("--fail-first", type=int, default=0)
args.add_argument("--delay", type=float, default=0.0)
opts = args.parse_args()

lock = threading.Lock()
seen = {"count": 0}
secret = {"value": None}
WRONG = "whsec_" + "A" * 32


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        entry = {
            "path": self.path,
            "received": time.time(),
            "webhook_id": headers.get("webhook-id"),
            "webhook_timestamp": headers.get("webhook-timestamp"),
            "content_type": headers.get("content-type"),
        }
        try:
            entry["body"] = Webhook(secret["value"]).verify(body, headers)
            entry["verified"] = True
        except WebhookVerificationError as e:
            entry["verified"] = False
            entry["error"] = str(e)
        try:
            Webhook(WRONG).verify(body, headers)
            entry["wrong_secret_refused"] = False
        except WebhookVerificationError:
            entry["wrong_secret_refused"] = True
        if opts.delay:
            time.sleep(opts.delay)
        with lock:
            seen["count"] += 1
            status = 500 if seen["count"] <= opts.fail_first else 204
            entry["status"] = status
            with open(opts.log, "a") as f:
                f.write(json.dumps(entry) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
secret["value"] = sys.stdin.readline().strip()
server.serve_forever()
