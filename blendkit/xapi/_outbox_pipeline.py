"""The batches of one delivery pass, each POSTed while the database records the batch before it.

One sender thread does the HTTP; the deliverer's own thread does every database write, in the
order the batches went out. While batch N is on the wire (the socket wait releases the GIL, and
so do the sqlite3 and psycopg calls), batch N-1 is marked delivered, and when N is the last batch
claimed, the next batches are claimed too. The guarantees stay those of one batch at a time:

* a batch is marked only after the LRS accepted it; a refused one is split, dead-lettered or
  retried exactly as before, and the batches after a failed one are given back unsent;
* a crash re-sends at most the batch on the wire and the one being marked (both still claimed);
* a stop finishes the batch in flight and gives the rest back;
* a database error while marking waits for the batch in flight: if the LRS accepted it, its
  mark is owed with the other (applied before the next claim), never lost, never re-sent early.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from blendkit.errors import LRSError
from blendkit.store._queue import DeliveryReport

if TYPE_CHECKING:
    from blendkit.xapi._outbox import Outbox
    from blendkit.xapi._outbox_ops import _Row

__all__ = ["Claimer", "Pipeline"]

_Flight = tuple[int, Sequence["_Row"], "Future[LRSError | None]"]
"""A batch on the wire: its index in the pass, its rows and the POST's outcome."""
Claimer = Callable[[], tuple[str, list[list["_Row"]]] | None]
"""Claims the next batches: their claim token and the batches (None: nothing is due)."""


class Pipeline:
    """Deliver the batches of the claim ``token`` through ``sender``; while the last batch
    known is on the wire, ``claim_more`` claims the next ones (up to ``claims`` claims in all)."""

    def __init__(
        self,
        outbox: Outbox,
        sender: ThreadPoolExecutor,
        token: str,
        chunks: Sequence[Sequence[_Row]],
        report: DeliveryReport,
        *,
        claim_more: Claimer,
        claims: int,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.report = report
        self.claim_more = claim_more
        self.claims_left = claims - 1
        self.batches: list[tuple[str, Sequence[_Row]]] = [(token, chunk) for chunk in chunks]
        self.renewed = {token: outbox.clock()}
        self.lost = outbox.counters.resent_after_lease

    def run(self) -> None:
        outbox, report = self.outbox, self.report
        flight = self._launch(0)
        try:
            while flight is not None:
                index, rows, outcome = flight
                token = self.batches[index][0]
                flight = None
                refused = outcome.result()
                if refused is None:
                    outbox.breaker.success()
                    flight = self._launch(index + 1)  # on the wire while this one is marked
                    outbox._delivered(token, [r.id for r in rows], report)
                    if flight is not None and flight[0] == len(self.batches) - 1:
                        self._claim_more()  # ... and while the last one known is on the wire
                elif outbox._refused(token, rows, refused, report):
                    flight = self._launch(index + 1)
                else:  # the endpoint failed: the batches not sent yet are due again at once
                    self._give_back(index + 1)
        finally:
            if flight is not None:  # something raised while a batch was on the wire
                self._owe_in_flight(flight)

    def _launch(self, index: int) -> _Flight | None:
        """Put the next batch from ``index`` on the wire (None: the pass is done or a stop was
        asked for, and what was not sent is given back)."""
        outbox = self.outbox
        while index < len(self.batches):
            if index and outbox.stopping():  # a stop finishes the batch in flight, not the claim
                self._give_back(index)
                return None
            token, rows = self.batches[index]
            # The lease is at least three request timeouts: renewing once a third of it has
            # passed keeps every waiting batch ours without a round trip per batch.
            if outbox.clock() - self.renewed[token] >= outbox.lease / 3:
                self.renewed[token] = outbox.clock()
                rows = outbox._renew(token, rows)
            if rows:
                self.report.requests += 1
                context = contextvars.copy_context()
                return index, rows, self.sender.submit(context.run, outbox._post, rows)
            index += 1  # another deliverer holds them now
        return None

    def _claim_more(self) -> None:
        """Claim the next batches of this pass (the endpoint answers, no stop was asked for, and
        every batch marked so far was still ours: rows that lost their claim go back to the
        queue, and claiming ahead would only take them again)."""
        outbox = self.outbox
        if (
            self.claims_left <= 0
            or outbox.stopping()
            or outbox.counters.resent_after_lease > self.lost
        ):
            return
        self.claims_left -= 1
        claimed = self.claim_more()
        if claimed is None:
            self.claims_left = 0
            return
        token, chunks = claimed
        self.renewed[token] = outbox.clock()
        self.batches.extend((token, chunk) for chunk in chunks)

    def _give_back(self, index: int) -> None:
        """Give back every batch from ``index`` on (not sent), claim by claim."""
        waiting: dict[str, list[Sequence[_Row]]] = {}
        for token, rows in self.batches[index:]:
            waiting.setdefault(token, []).append(rows)
        for token, chunks in waiting.items():
            self.outbox._unsent(token, chunks)

    def _owe_in_flight(self, flight: _Flight) -> None:
        """Wait for the batch on the wire; if the LRS took it, owe its mark (the error being
        raised is the database's: the mark is applied before the next claim)."""
        index, rows, outcome = flight
        try:
            refused = outcome.result()
        except BaseException:  # the error already being raised says more
            return
        if refused is None:
            self.outbox._owe(self.batches[index][0], [r.id for r in rows], None)
