"""Progression engine: 10,000 learners × a 100-item path with nested conditions.

Prints JSON lines (median of >= 5 runs):
- full evaluation of every learner with the compiled path, against the peer: the same path
  interpreted through the condition models (``Condition.holds``), measured in the same run;
- one incremental update (a new score), against the peer: a full compiled re-evaluation.
Targets: full evaluation <= 1 s on one core; incremental median <= 100 µs.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from blendkit.progression import (
    AllOf,
    AnyOf,
    Attempt,
    AttendanceRecord,
    AttendedCondition,
    CompletionCondition,
    CompletionRecord,
    Condition,
    EvaluationContext,
    Evidence,
    GroupCondition,
    IncrementalEvaluator,
    Item,
    Module,
    Not,
    Path,
    ScoreCondition,
    ScoreRecorded,
    WatchedCondition,
    compile_path,
)
from blendkit.progression._facts import Facts

LEARNERS = 10_000
RUNS = 5
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
KINDS = ("video", "reading", "quiz", "live_session", "assignment")


def build_path() -> Path:
    modules = []
    n = 0
    for m in range(10):
        items = []
        for _ in range(10):
            item_id, kind = f"i{n}", KINDS[n % len(KINDS)]
            gate: Condition | None = None
            if n > 0:
                prev = f"i{n - 1}"
                quiz = f"i{max(0, n - 3 - (n - 3) % 5 + 2)}"
                live = f"i{max(0, n - 2 - (n - 2) % 5 + 3)}"
                gate = AllOf(all=(
                    AnyOf(any=(
                        CompletionCondition(item=prev),
                        AllOf(all=(ScoreCondition(item=quiz, min=60),
                                   AttendedCondition(item=live, percent=75, recording=80))),
                    )),
                    Not(not_=GroupCondition(group="paused")),
                    AnyOf(any=(ScoreCondition(item=quiz, min=50, max=101 - 1),
                               WatchedCondition(item=f"i{n - 1}", percent=50),
                               CompletionCondition(item=prev, state="passed"))),
                ))  # fmt: skip
            criterion: Condition | None = {
                "video": WatchedCondition(item=item_id, percent=90),
                "quiz": ScoreCondition(item=item_id, min=60),
                "live_session": AttendedCondition(item=item_id, percent=75, recording=80),
            }.get(kind)
            items.append(Item(id=item_id, title=f"Item {n}", kind=kind, conditions=gate,
                              complete_when=criterion, pass_mark=60 if kind == "quiz" else None,
                              due=T0 + timedelta(days=n // 3)))  # fmt: skip
            n += 1
        modules.append(Module(id=f"m{m}", items=tuple(items)))
    return Path(id="bench", course_start=T0, modules=tuple(modules))


def learner(rng: random.Random, index: int) -> Evidence:
    progress = rng.randint(0, 100)
    scores, videos, attendance, recordings, completions = {}, {}, {}, {}, {}
    for n in range(progress):
        item_id, kind = f"i{n}", KINDS[n % len(KINDS)]
        if kind == "quiz":
            scores[item_id] = tuple(
                Attempt(
                    score=rng.choice([40.0, 55.0, 65.0, 80.0, 95.0]), at=T0 + timedelta(hours=a)
                )
                for a in range(rng.randint(1, 3))
            )
        elif kind == "video":
            videos[item_id] = rng.choice([30.0, 95.0, 100.0])
        elif kind == "live_session":
            if rng.random() < 0.7:
                attendance[item_id] = AttendanceRecord(
                    minutes=50, percent=rng.choice([40.0, 80.0, 100.0])
                )
            else:
                recordings[item_id] = rng.choice([50.0, 90.0])
        else:
            completions[item_id] = CompletionRecord(state="complete")
    return Evidence(
        learner=f"l{index}", scores=scores, videos=videos, attendance=attendance,
        recordings=recordings, completions=completions,
        groups=frozenset({"paused"}) if rng.random() < 0.02 else frozenset(),
    )  # fmt: skip


def interpret(compiled, facts: Facts, now: float) -> list[int]:  # type: ignore[no-untyped-def]
    """The peer: evaluate through the pydantic condition models, no compiled code."""
    done: dict[str, bool] = {}
    for item_id in compiled.order:
        criterion = compiled.criteria[item_id]
        ctx = EvaluationContext(facts, now, compiled.meta, done, item_id)
        met = facts.comp.get(item_id, 0) >= 1 or (criterion is not None and ctx.check(criterion))
        is_open = item_id in facts.unlocked or all(ctx.check(p) for p in compiled.gates[item_id])
        # never completed while locked; kept once completed while open
        done[item_id] = item_id in facts.kept or (met and is_open)
    states = []
    for item_id in compiled.ids:
        ctx = EvaluationContext(facts, now, compiled.meta, done, item_id)
        if done[item_id]:
            states.append(3)
        elif not (item_id in facts.unlocked or all(ctx.check(p) for p in compiled.gates[item_id])):
            states.append(0)
        else:
            due = compiled.meta.due(item_id, facts)
            states.append(
                4 if due is not None and now >= due else (2 if item_id in facts.active else 1)
            )
    return states


def median_time(fn, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    rng = random.Random(7)
    path = build_path()
    start = time.perf_counter()
    compiled = compile_path(path)
    compile_s = time.perf_counter() - start
    evidences = [learner(rng, i) for i in range(LEARNERS)]
    facts = [Facts.from_evidence(ev) for ev in evidences]
    now = NOW.timestamp()

    # sanity: compiled and interpreted agree for every learner
    assert all(compiled.run(f, now)[1] == interpret(compiled, f, now) for f in facts[:500])

    full = median_time(lambda: [compiled.run(f, now) for f in facts])
    with_facts = median_time(lambda: [compiled.run(Facts.from_evidence(e), now) for e in evidences])
    peer = median_time(lambda: [interpret(compiled, f, now) for f in facts], runs=RUNS)
    common = {"learners": LEARNERS, "items": 100, "runs": RUNS}
    print(json.dumps({"figure": "compile_path_s", "value": round(compile_s, 4), **common}))
    print(json.dumps({"figure": "full_evaluation_s", "median": round(full, 4), "target": 1.0,
                      "peer": "interpreted condition models", "peer_median": round(peer, 4),
                      "speedup_vs_peer": round(peer / full, 1), **common}))  # fmt: skip
    print(json.dumps({"figure": "full_evaluation_with_evidence_conversion_s",
                      "median": round(with_facts, 4), **common}))  # fmt: skip

    # incremental: one new score for one learner, many learners, median per update
    samples, peer_samples = [], []
    for index in range(2000):
        ev = evidences[index]
        inc = IncrementalEvaluator(compiled, ev, NOW)
        item = f"i{rng.randrange(0, 100, 5) + 2}"
        piece = ScoreRecorded(item=item, score=rng.choice([45.0, 70.0, 90.0]), at=NOW)
        begin = time.perf_counter()
        inc.apply(piece)
        samples.append(time.perf_counter() - begin)
        f = Facts.from_evidence(ev)
        begin = time.perf_counter()
        f.apply(piece)
        compiled.run(f, now)
        peer_samples.append(time.perf_counter() - begin)
    medians = [statistics.median(samples[i::RUNS]) for i in range(RUNS)]
    peer_medians = [statistics.median(peer_samples[i::RUNS]) for i in range(RUNS)]
    inc_us, peer_us = statistics.median(medians) * 1e6, statistics.median(peer_medians) * 1e6
    print(json.dumps({"figure": "incremental_update_us", "median": round(inc_us, 1), "target": 100,
                      "peer": "full compiled re-evaluation", "peer_median": round(peer_us, 1),
                      "speedup_vs_peer": round(peer_us / inc_us, 1), "updates": len(samples),
                      "runs": RUNS}))  # fmt: skip


if __name__ == "__main__":
    main()
