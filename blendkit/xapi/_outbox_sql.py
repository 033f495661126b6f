"""The outbox's tables as a durable queue (:class:`blendkit.store._queue_sql.QueueSpec`): its
claim, mark, retention and status statements are the shared queue's, each reading through one
of the partial indexes in ``_tables_xapi``."""

from __future__ import annotations

from blendkit.store._queue_sql import QueueSpec
from blendkit.store._tables_xapi import IS_DELIVERED, xapi_outbox, xapi_outbox_totals

__all__ = ["DELIVERED_TOTAL", "OUTBOX"]

DELIVERED_TOTAL = "delivered"

OUTBOX = QueueSpec(
    table=xapi_outbox,
    totals=xapi_outbox_totals,
    done=DELIVERED_TOTAL,
    done_at="delivered_at",
    finished=IS_DELIVERED,
    claim_columns=("id", "statement_id", "payload", "attempts"),
    # The LRS keeps one copy of a statement sent twice (its id): a claim or mark a database
    # crash forgets costs a re-send, never a loss; emit stays fully durable.
    relaxed_commits=True,
)
