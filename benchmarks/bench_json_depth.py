"""The cost of the guards against deeply nested JSON, against plain decoding in the same run.

- ``guarded``: the Flask adapter's JSON provider (``guard_json_depth``: a decode that runs out
  of recursion is malformed JSON). Peer: Flask's own ``DefaultJSONProvider.loads``.
- ``measure``: ``blendkit.limits.json_too_deep``, the nesting measure ``load_json`` runs before
  decoding a document (and the player's played segments). Peer: ``json.loads`` of the same text.

Bodies: a poll answer (the common JSON request), a player's report of 1,000 played ranges
(1,001 brackets: the bracket sum runs), a 100 KB list of numbers (few brackets: the counting
fast path), and a thousand objects with plain strings (split at quotes) or with escaped quotes
(strings matched by a pattern).

    .venv/bin/python benchmarks/bench_json_depth.py [--rounds 9] [--number 2000]

Prints one JSON line per body (median microseconds per call over rounds, ratios to the peer),
then the load average, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import timeit
from collections.abc import Callable

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from blendkit.integrations._flask_json import guard_json_depth
from blendkit.limits import DOCUMENT_LIMITS, json_too_deep

BODIES = {
    "poll_answer": json.dumps({"answer": [0, 2], "idempotency_key": "k" * 32}),
    "segments_1000": json.dumps([[n * 3.5, n * 3.5 + 2.25] for n in range(1000)]),
    "flat_100kb": json.dumps(list(range(17_000))),
    "objects_1000": json.dumps([{"key": "value", "n": n} for n in range(1000)]),
    "escaped_1000": json.dumps([{"key": 'say "hi"', "n": n} for n in range(1000)]),
}


def _median_us(call: Callable[[], object], number: int, rounds: int) -> float:
    return statistics.median(timeit.repeat(call, number=number, repeat=rounds)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    peer = DefaultJSONProvider(Flask("peer"))
    app = Flask("guarded")
    guard_json_depth(app)
    guarded = app.json
    depth = DOCUMENT_LIMITS.max_depth
    for name, body in BODIES.items():
        number = max(1, args.number * 200 // max(len(body), 200))
        figures = {
            "peer": _median_us(lambda b=body: peer.loads(b), number, args.rounds),
            "guarded": _median_us(lambda b=body: guarded.loads(b), number, args.rounds),
            "loads": _median_us(lambda b=body: json.loads(b), number, args.rounds),
            "measure": _median_us(lambda b=body: json_too_deep(b, depth), number, args.rounds),
        }
        print(json.dumps({
            "body": name, "bytes": len(body), "rounds": args.rounds, "number": number,
            **{f"{k}_us": round(v, 2) for k, v in figures.items()},
            "guarded_ratio": round(figures["guarded"] / figures["peer"], 3),
            "measure_ratio_to_loads": round(figures["measure"] / figures["loads"], 3),
        }))  # fmt: skip
    print(json.dumps({"loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
