#!/usr/bin/env python3
"""Keep the portal in step with your own system, with nothing but Python's standard library.

1. Pushes the customers in a CSV export (customers.csv) and their invoices (invoices.csv,
   one row per invoice line) to the portal's staff API. Every call is a PUT by your own id,
   so running it again changes only what changed.
2. Prints every new issue, note and quote decision from the change feed, remembering where
   it got to in a file, so the next run prints only what is new. With --follow it keeps
   polling.

    PORTAL_URL=https://help.example.com PORTAL_KEY=cpk_... ./sync.py [--follow]

Make the key with
    portal admin keys create crm-sync --scope customers:write,billing:write,changes:read
"""

import csv
import json
import os
import sys
import time
import urllib.error
import urllib.request
from itertools import groupby

BASE = os.environ.get("PORTAL_URL", "http://127.0.0.1:8080").rstrip("/")
KEY = os.environ["PORTAL_KEY"]
HERE = os.path.dirname(os.path.abspath(__file__))
CURSOR_FILE = os.environ.get("PORTAL_CURSOR_FILE", os.path.join(HERE, ".feed-cursor"))


def call(method, path, body=None):
    """One call to the staff API; the answer as JSON. A refusal says what was wrong."""
    request = urllib.request.Request(
        BASE + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as e:
        error = json.load(e).get("error", {})
        field = f" ({error['field']})" if error.get("field") else ""
        sys.exit(f"{method} {path}: {e.code} {error.get('message', '')}{field}")


def rows(name):
    with open(os.path.join(HERE, name), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def push_customers():
    for c in rows("customers.csv"):
        body = {
            "number": c["number"],
            "name": c["name"],
            "email": c["email"],
            "phones": [p for p in [c["phone"]] if p],
            "address": [line.strip() for line in c["address"].split(";") if line.strip()],
        }
        done = call("PUT", f"/api/staff/customers/{c['id']}", body)
        print(f"customer {done['id']}: {done['name']}, balance {done['balance_cents'] / 100:.2f}")


def push_invoices():
    lines = rows("invoices.csv")
    key = lambda r: (r["customer"], r["id"])  # noqa: E731
    for (customer, invoice), group in groupby(sorted(lines, key=key), key=key):
        group = list(group)
        first = group[0]
        body = {
            "number": first["number"],
            "date": first["date"],
            "due": first["due"],
            "status": first["status"],
            "lines": [
                {
                    "description": r["description"],
                    "quantity": int(r["quantity"]),
                    "unit_cents": int(r["unit_cents"]),
                    "vat_percent": int(r["vat_percent"]),
                }
                for r in group
            ],
        }
        done = call("PUT", f"/api/staff/customers/{customer}/invoices/{invoice}", body)
        print(f"invoice {invoice} for {customer}: {done['total_cents'] / 100:.2f} ({done['status']})")


TOLD = {
    "issue.filed": lambda e: f"new issue {e['data'].get('number')}: {e['data'].get('subject')}",
    "issue.noted": lambda e: f"note on {e['data'].get('number')} from {e['actor']}",
    "quote.accepted": lambda e: f"quote {e['subject']} accepted by {e['actor']}",
    "quote.declined": lambda e: f"quote {e['subject']} declined by {e['actor']}",
}


def read_feed(follow):
    cursor = open(CURSOR_FILE).read().strip() if os.path.exists(CURSOR_FILE) else ""
    since = int(time.time()) - 86400
    while True:
        query = f"cursor={urllib.request.quote(cursor)}" if cursor else f"since={since}"
        page = call("GET", f"/api/staff/changes?limit=500&{query}")
        for event in page["events"]:
            if event["kind"] in TOLD:
                print(TOLD[event["kind"]](event))
        cursor = page["cursor"]
        with open(CURSOR_FILE, "w") as f:
            f.write(cursor)
        if page["caught_up"]:
            if not follow:
                return
            time.sleep(max(5, page["delay_seconds"] // 3))


if __name__ == "__main__":
    push_customers()
    push_invoices()
    read_feed("--follow" in sys.argv)
