#!/usr/bin/env python3
"""Starts moto's DynamoDB-compatible server handling one request at a time.

moto's own `moto_server` is multi-threaded, and its TransactWriteItems is not isolated under
concurrent requests (a failing transaction restores a copy of the table taken before it, undoing
writes made meanwhile). DynamoDB's transactions are atomic and isolated; serving one request at
a time gives the tests that behaviour. Arguments are moto_server's (-H HOST -p PORT)."""
import sys

import moto.server

_run_simple = moto.server.run_simple


def _single_threaded(*args, **kwargs):
    kwargs["threaded"] = False
    return _run_simple(*args, **kwargs)


moto.server.run_simple = _single_threaded
moto.server.main(sys.argv[1:])
