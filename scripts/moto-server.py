#!/usr/bin/env python3
"""Starts moto's DynamoDB-compatible server handling one request at a time.

moto's own `moto_server` is multi-threaded, and its TransactWriteItems is not isolated under
concurrent requests (a failing transaction restores a copy of the table taken before it, undoing
writes made meanwhile). DynamoDB's transactions are atomic and isolated; serving one request at
a time gives the tests that behaviour.

That copy is also a deep copy of the whole table, taken for every transaction, so each one costs
time in proportion to the table's size and a test that files a thousand issues slows to seconds
per request. Here the copy shares the table's untouched items and deep-copies only the items the
transaction names, which is all a rollback needs (moto changes the items a transaction names and
no others). moto's register of every object it makes is turned off for DynamoDB's models, so
copies do not pile up in memory. Arguments are moto_server's (-H HOST -p PORT)."""
import copy
import sys
from collections import defaultdict

import moto.dynamodb.models as models
import moto.server
from moto.dynamodb.models import dynamo_type
from moto.dynamodb.models import table as table_module
from moto.dynamodb.models.dynamo_type import DynamoType

_run_simple = moto.server.run_simple


def _single_threaded(*args, **kwargs):
    kwargs["threaded"] = False
    return _run_simple(*args, **kwargs)


moto.server.run_simple = _single_threaded

# Keys named by the transaction being applied, per table: {table name: [(hash, range)]}.
_touched = None


def _backup(table):
    """A copy of `table` good for rolling back the current transaction."""
    backup = copy.copy(table)
    if table.range_key_attr:
        backup.items = defaultdict(dict, {h: dict(r) for h, r in table.items.items()})
    else:
        backup.items = defaultdict(dict, table.items)
    for h, r in _touched.get(table.name, []):
        if table.range_key_attr:
            item = table.items.get(h, {}).get(r)
            if item is not None:
                backup.items[h][r] = copy.deepcopy(item)
        elif h in table.items:
            backup.items[h] = copy.deepcopy(table.items[h])
    return backup


class _Copy:
    """The `copy` module as moto's DynamoDB models see it, with the cheaper table backup."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if _touched is not None and isinstance(value, models.Table):
            return _backup(value)
        return copy.deepcopy(value, memo)


models.copy = _Copy()
_transact = models.DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    global _touched
    touched = {}
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = self.tables.get(op.get("TableName"))
        attrs = op.get("Key") or op.get("Item") or {}
        if table is None or table.hash_key_attr not in attrs:
            continue
        r = attrs.get(table.range_key_attr) if table.range_key_attr else None
        touched.setdefault(table.name, []).append(
            (DynamoType(attrs[table.hash_key_attr]), DynamoType(r) if r is not None else None)
        )
    _touched = touched
    try:
        return _transact(self, transact_items)
    finally:
        _touched = None


models.DynamoDBBackend.transact_write_items = _transact_write_items


class _Untracked(list):
    """An instance register that keeps nothing."""

    def append(self, _item):
        pass


# moto registers every model object it ever makes (for its /moto-api data view, unused here),
# copies included: each transaction's table backup and each updated item's old copy would
# stay in memory for the life of the server (gigabytes over a test run).
for _module in (models, dynamo_type, table_module):
    for _cls in vars(_module).values():
        if isinstance(_cls, type) and hasattr(_cls, "instances_tracked"):
            _cls.instances_tracked = _Untracked()

moto.server.main(sys.argv[1:])
