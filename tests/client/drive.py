"""Drives the staff API through a client that openapi-python-client generated from the
portal's own /api/openapi.json: pushes a customer and an invoice, replies to an issue a
visitor filed, then reads the change feed until all four are in it. Then it is refused in
every way the staff API refuses (401, 403, 404, 412, 422), each answer read as the
documented error, never as an unexpected status.

    drive.py CLIENT_DIR BASE_URL API_KEY

Prints one JSON line of what it saw; exits non-zero (with the reason) on anything else.
"""

import datetime
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
base, key = sys.argv[2], sys.argv[3]

import httpx  # noqa: E402
from portal_client import AuthenticatedClient  # noqa: E402
from portal_client.api.staff import (  # noqa: E402
    appointments,
    changes,
    put_invoice,
    put_staff_customers,
    reply,
)
from portal_client.models import (  # noqa: E402
    CustomerInput,
    ErrorBody,
    InvoiceInput,
    InvoiceInputStatus,
    LineInput,
    NewStaffNote,
)

staff = AuthenticatedClient(base_url=base, token=key, raise_on_unexpected_status=True)


def ok(result, what):
    if result is None or isinstance(result, ErrorBody):
        sys.exit(f"{what}: {result.to_dict() if result else 'no answer'}")
    return result


customer = ok(
    put_staff_customers.sync(
        id="ACME-7",
        client=staff,
        body=CustomerInput(number="C-7007", name="Acme Bakery", email="accounts@acme.example"),
    ),
    "customer",
)
invoice = ok(
    put_invoice.sync(
        id="ACME-7",
        invoice="INV-7001",
        client=staff,
        body=InvoiceInput(
            number="2026-7001",
            date=datetime.date(2026, 12, 1),
            due=datetime.date(2026, 12, 31),
            status=InvoiceInputStatus.OPEN,
            lines=[LineInput(description="Till licence", quantity=2, unit_cents=12000, vat_percent=20)],
        ),
    ),
    "invoice",
)
# A visitor files the issue staff answer (the public form, not the staff API: sent plainly).
visitor = httpx.post(
    f"{base}/api/issues",
    json={
        "name": "Vera Visitor",
        "email": "vera@example.com",
        "subject": "Receipt printer offline",
        "description": "Since this morning.",
    },
)
if visitor.status_code != 201:
    sys.exit(f"filing: {visitor.status_code} {visitor.text}")
number = visitor.json()["number"]
answered = ok(
    reply.sync(number=number, client=staff, body=NewStaffNote(body="A new driver is on its way.")),
    "reply",
)

wanted = {"customer.created", "invoice.put", "issue.filed", "issue.replied"}
seen, cursor, since = set(), None, int(time.time()) - 600
deadline = time.time() + 90
while not wanted <= seen:
    if time.time() > deadline:
        sys.exit(f"the feed never told of {sorted(wanted - seen)}; it told of {sorted(seen)}")
    page = ok(
        changes.sync(client=staff, cursor=cursor, since=None if cursor else since, limit=100),
        "changes",
    )
    seen.update(e.kind for e in page.events)
    cursor = page.cursor
    if page.caught_up:
        time.sleep(1)


def refused(answer):
    """The status and the named field of a refusal, read through the generated models."""
    if not isinstance(answer.parsed, ErrorBody):
        sys.exit(f"{answer.status_code} was not read as an error: {answer.content!r}")
    field = answer.parsed.error.field
    return [int(answer.status_code), field if isinstance(field, str) else None]


def an_invoice(quantity):
    return InvoiceInput(
        number="2026-7002",
        date=datetime.date(2026, 12, 2),
        due=datetime.date(2027, 1, 2),
        status=InvoiceInputStatus.DRAFT,
        lines=[LineInput(description="Receipt rolls", quantity=quantity)],
    )


stranger = AuthenticatedClient(base_url=base, token="cpk_not-a-key", raise_on_unexpected_status=True)
refusals = {
    "unknown key": refused(changes.sync_detailed(client=stranger, limit=10)),
    "missing scope": refused(appointments.sync_detailed(client=staff)),
    "unknown customer": refused(
        put_invoice.sync_detailed(id="NOBODY", invoice="INV-1", client=staff, body=an_invoice(1))
    ),
    "stale version": refused(
        put_staff_customers.sync_detailed(
            id="ACME-7",
            client=staff,
            if_match="999",
            body=CustomerInput(number="C-7007", name="Acme Bakery Ltd", email="accounts@acme.example"),
        )
    ),
    "wrong field": refused(
        put_invoice.sync_detailed(id="ACME-7", invoice="INV-7002", client=staff, body=an_invoice(0))
    ),
}

print(
    json.dumps(
        {
            "refusals": refusals,
            "customer": customer.id,
            "balance_cents": invoice.balance_cents,
            "issue": number,
            "notes": len(answered.notes),
            "events": sorted(seen),
        }
    )
)
