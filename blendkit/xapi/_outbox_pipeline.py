"""The batches of one outbox claim, each POSTed while the database records the batch before it.

One sender thread does the HTTP; the deliverer's own thread does every database write, in the
order the batches went out. While batch N is on the wire (the socket wait releases the GIL, and
so do the sqlite3 and psycopg calls), batch N-1 is marked delivered. The guarantees stay those of
one batch at a time:

* a batch is marked only after the LRS accepted it; a refused one is split, dead-lettered or
  retried exactly as before, and the batches after a failed one are given back unsent;
* a crash re-sends at most the batch on the wire and the one being marked (both still claimed);
* a stop finishes the batch in flight and gives the rest back;
* a database error while marking waits for the batch in flight: if the LRS accepted it, its
  mark is owed with the other (applied before the next claim), never lost, never re-sent early.
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from blendkit.errors import LRSError
from blendkit.store._queue import DeliveryReport

if TYPE_CHECKING:
    from blendkit.xapi._outbox import Outbox
    from blendkit.xapi._outbox_ops import _Row

__all__ = ["Pipeline"]

_Flight = tuple[int, Sequence["_Row"], "Future[LRSError | None]"]
"""A batch on the wire: its index in the claim, its rows and the POST's outcome."""


class Pipeline:
    """Deliver ``chunks`` (the batches of the claim ``token``) through ``sender``."""

    def __init__(
        self,
        outbox: Outbox,
        sender: ThreadPoolExecutor,
        token: str,
        chunks: Sequence[Sequence[_Row]],
        report: DeliveryReport,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.token = token
        self.chunks = chunks
        self.report = report
        self.renewed = outbox.clock()

    def run(self) -> None:
        outbox, token, report = self.outbox, self.token, self.report
        flight = self._launch(0)
        try:
            while flight is not None:
                index, rows, outcome = flight
                flight = None
                refused = outcome.result()
                if refused is None:
                    outbox.breaker.success()
                    flight = self._launch(index + 1)  # on the wire while this one is marked
                    outbox._delivered(token, [r.id for r in rows], report)
                elif outbox._refused(token, rows, refused, report):
                    flight = self._launch(index + 1)
                else:  # the endpoint failed: the batches not sent yet are due again at once
                    outbox._unsent(token, self.chunks[index + 1 :])
        finally:
            if flight is not None:  # something raised while a batch was on the wire
                self._owe_in_flight(flight)

    def _launch(self, index: int) -> _Flight | None:
        """Put the next batch from ``index`` on the wire (None: the claim is done or a stop was
        asked for, and what was not sent is given back)."""
        outbox = self.outbox
        while index < len(self.chunks):
            if index and outbox.stopping():  # a stop finishes the batch in flight, not the claim
                outbox._unsent(self.token, self.chunks[index:])
                return None
            rows = self.chunks[index]
            # The lease is at least three request timeouts: renewing once a third of it has
            # passed keeps every waiting batch ours without a round trip per batch.
            if index and outbox.clock() - self.renewed >= outbox.lease / 3:
                self.renewed = outbox.clock()
                rows = outbox._renew(self.token, rows)
            if rows:
                self.report.requests += 1
                context = contextvars.copy_context()
                return index, rows, self.sender.submit(context.run, outbox._post, rows)
            index += 1  # another deliverer holds them now
        return None

    def _owe_in_flight(self, flight: _Flight) -> None:
        """Wait for the batch on the wire; if the LRS took it, owe its mark (the error being
        raised is the database's: the mark is applied before the next claim)."""
        _, rows, outcome = flight
        try:
            refused = outcome.result()
        except BaseException:  # the error already being raised says more
            return
        if refused is None:
            self.outbox._owe(self.token, [r.id for r in rows], None)
