"""Queueing a statement from a caller's own statement: Outbox.row and Outbox.row_insert."""

from __future__ import annotations

import orjson
from sqlalchemy import false, select, true

from blendkit.store import Store
from blendkit.store._tables_xapi import xapi_outbox
from blendkit.xapi import Outbox

from .test_outbox import statements


def _stored(store: Store) -> list[tuple[str, str, str, int]]:
    c = xapi_outbox.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(c.statement_id, c.payload, c.status, c.attempts).order_by(c.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_row_insert_stores_what_emit_stores_once_and_only_when_asked(store: Store) -> None:
    outbox = Outbox(store)
    first, second = statements(2)
    with store.transaction() as s:
        s.execute(outbox.row_insert(), outbox.row(first))
        s.execute(outbox.row_insert(), outbox.row(first))  # the same id: skipped, as in emit
        s.execute(outbox.row_insert(false()), outbox.row(second))  # the condition does not hold
    [(sid, payload, status, attempts)] = _stored(store)
    assert (sid, status, attempts) == (str(first.id), "pending", 0)
    assert orjson.loads(payload) == orjson.loads(first.to_json())
    assert outbox.status().pending == 1
    with store.transaction() as s:
        s.execute(outbox.row_insert(true()), outbox.row(second))
    assert [r[0] for r in _stored(store)] == [str(first.id), str(second.id)]


def test_row_completes_id_and_timestamp_like_emit(store: Store) -> None:
    outbox = Outbox(store)
    bare = {
        "actor": {"mbox": "mailto:ann@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "https://tool.example.edu/page"},
    }
    values = outbox.row(bare)
    with store.transaction() as s:
        s.execute(outbox.row_insert(), values)
    [(sid, payload, _, _)] = _stored(store)
    stored = orjson.loads(payload)
    assert stored["id"] == sid == values["outbox_statement_id"]
    assert stored["timestamp"].endswith("Z")
