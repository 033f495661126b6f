"""Finding 8: bad input to the command-line importers cost a traceback and good records.

Every command that reads a file reports the line or node of a problem and exits 2; a bad line
never drops good lines; the Moodle parser raises only MoodleFormatError for any input.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from datetime import date
from io import BytesIO
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from blendkit import MoodleFormatError, ProgressionError, ScheduleError
from blendkit.cli import cli
from blendkit.cli._cmd_sessions import read_zone_file
from blendkit.config import load_settings
from blendkit.progression import import_moodle, parse_evidence, parse_path
from blendkit.sessions import plan_slots
from blendkit.store import Store
from blendkit.xapi import Outbox


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_refused(result: Result, *named: str) -> None:
    """Exit status 2, the library's one-line message, no traceback."""
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert "Traceback" not in result.output
    for part in named:
        assert part in result.output


def deep_tree(levels: int) -> str:
    return '{"op":"&","c":[' * levels + "]}" * levels


def date_root(t: str) -> str:
    return '{"op":"&","c":[{"type":"date","d":">=","t":' + t + '}],"showc":[true]}'


# --- path import-moodle ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (date_root("99999999999999999999").encode(), ["c[0]", "'t'"]),
        (date_root("-1").encode(), ["c[0]", "Unix time"]),
        (date_root("-99999999999").encode(), ["c[0]", "Unix time"]),
        (date_root("1" + "0" * 5000).encode(), ["progression.moodle_format"]),
        (date_root("1e400").encode(), ["c[0]", "'t'"]),
        (date_root("1").encode().replace(b'"d"', b'"\xff"'), ["document.not_utf8", "line 1"]),
        (deep_tree(3000).encode(), ["document.too_deep", "line 1 column"]),
        (b"\n\n" + deep_tree(70).encode(), ["document.too_deep", "line 3"]),
        (b'{"op":"&","c":[{"type":"grade","id":1,"min":NaN}],"showc":[true]}', ["c[0]"]),
    ],
)
def test_import_moodle_names_the_node_or_line_and_exits_2(
    tmp_path: Path, content: bytes, named: list[str]
) -> None:
    source = tmp_path / "availability.json"
    source.write_bytes(content)
    assert_refused(run("path", "import-moodle", str(source)), *named)


def test_import_moodle_ids_file_problems_exit_2(tmp_path: Path) -> None:
    source = tmp_path / "availability.json"
    source.write_text(date_root("1700000000"), encoding="utf-8")
    ids = tmp_path / "ids.yaml"
    ids.write_bytes(b"cm: {1: a}\ngrade: &g {2: b}\n")
    assert_refused(run("path", "import-moodle", str(source), "--ids", str(ids)), "line 2")
    ids.write_bytes(b"cm: {not-a-number: a}\n")
    assert_refused(run("path", "import-moodle", str(source), "--ids", str(ids)), "cm")


moodle_keys = st.sampled_from(
    ["op", "c", "type", "t", "d", "id", "cm", "e", "min", "max", "showc", "show", "sf", "cf",
     "v", "n", "s", "m", "x"]
)  # fmt: skip
moodle_scalars = (
    st.sampled_from(
        [
            "&",
            "|",
            "!&",
            "!|",
            "date",
            "grade",
            "completion",
            "group",
            "grouping",
            "profile",
            "relativedate",
            ">=",
            "<",
            "isequalto",
            "",
            "\udcff",
        ]
    )
    | st.integers()
    | st.sampled_from([10**20, -(10**20), 2**63, -(2**63) - 1, 253402300800, -1, 0])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
    | st.text(max_size=8)
)
moodle_trees = st.recursive(
    moodle_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(moodle_keys, inner, max_size=6),
    max_leaves=30,
)


@given(moodle_trees)
@example("\udcff")  # a lone surrogate: str.encode("utf-8") raised UnicodeEncodeError
def test_import_moodle_raises_only_its_own_error_for_any_tree(tree: object) -> None:
    for document in (tree, {"op": "&", "c": [tree], "showc": [True]}):
        try:
            text = json.dumps(document)
        except (ValueError, UnicodeEncodeError):
            continue
        for given_as in (document, text, text.encode("utf-8", "surrogatepass")):
            with contextlib.suppress(MoodleFormatError):
                import_moodle(given_as)  # type: ignore[arg-type]


@given(st.binary(max_size=200), st.integers(0, 4000))
def test_import_moodle_raises_only_its_own_error_for_any_bytes(data: bytes, depth: int) -> None:
    for document in (data, b"[" * depth + data, deep_tree(depth).encode() + data):
        with contextlib.suppress(MoodleFormatError):
            import_moodle(document)


@given(moodle_trees, st.sampled_from(["json", "yaml"]))
def test_path_and_evidence_documents_raise_only_library_errors(tree: object, fmt: str) -> None:
    try:
        text = json.dumps(tree)
    except (ValueError, UnicodeEncodeError):
        return
    for parse in (parse_path, parse_evidence):
        with contextlib.suppress(ProgressionError):
            parse(text, fmt)  # type: ignore[operator]


# --- statements import -------------------------------------------------------------------------


def good_statement() -> bytes:
    return orjson.dumps(
        {
            "id": str(uuid.uuid4()),
            "actor": {"mbox": "mailto:ana@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://tool.example.edu/activities/m1"},
            "timestamp": "2026-01-05T09:00:00Z",
        }
    )


def nested_extension(levels: int) -> bytes:
    """A statement whose one extension nests ``levels`` objects deep (written as text)."""
    value = b'{"x":' * levels + b'"end"' + b"}" * levels
    extensions = b'{"extensions":{"https://example.org/ext":' + value + b"}}"
    return good_statement()[:-1] + b',"context":' + extensions + b"}"


def queued_ids() -> set[str]:
    store = Store.from_settings(load_settings())
    sink = BytesIO()
    Outbox(store).export(sink, state="all")
    store.dispose()
    return {orjson.loads(line)["id"] for line in sink.getvalue().splitlines() if line}


def test_statements_import_keeps_the_good_statements_of_a_chunk_with_deep_ones(
    tmp_path: Path,
) -> None:
    good = [good_statement() for _ in range(3)]
    lines = [good[0], nested_extension(300), good[1], nested_extension(2000), good[2]]
    source = tmp_path / "statements.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = run("statements", "import", "--no-deliver", str(source))
    assert_refused(result, "line 2:", "line 4:", "document.too_deep", "queued 3 statement(s)")
    assert {orjson.loads(g)["id"] for g in good} <= queued_ids()


garbage_lines = (
    (
        st.binary(min_size=1, max_size=60)
        | st.builds(nested_extension, st.integers(70, 1200))
        | st.sampled_from(
            [b"\xff\xfe", b"[]", b"1e999", b'{"id": 99999999999999999999999}', b"{" * 5000, b"null"]
        )
        | st.builds(
            orjson.dumps,
            st.recursive(
                st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
                lambda i: st.lists(i, max_size=3),
                max_leaves=10,
            ),
        )
    )
    .map(lambda line: re.sub(rb"[\r\n]", b"_", line))
    .filter(lambda line: line.strip() != b"")
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), garbage_lines), min_size=1, max_size=12))
def test_statements_import_never_drops_a_good_line(
    tmp_path: Path, mix: list[tuple[bool, bytes]]
) -> None:
    lines = [good_statement() if is_good else junk for is_good, junk in mix]
    good_ids = {
        orjson.loads(line)["id"] for line, (is_good, _) in zip(lines, mix, strict=True) if is_good
    }
    bad_numbers = [n for n, (is_good, _) in enumerate(mix, start=1) if not is_good]
    source = tmp_path / f"{uuid.uuid4()}.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = run("statements", "import", "--no-deliver", str(source))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    reported = {int(n) for n in re.findall(r"^line (\d+):", result.output, flags=re.M)}
    assert reported == set(bad_numbers)
    assert result.exit_code == (2 if bad_numbers else 0)
    assert good_ids <= queued_ids()


# --- sessions plan ------------------------------------------------------------------------------

zone_names = st.sampled_from(
    ["Europe/Berlin", "America", "..", "/etc/passwd", "a" * 300, "UTC/..", "Europe/Berlin/",
     "__init__.py", "zoneinfo", "\\x00", "Asia/Tokyo", "x/" * 200]
) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=',\n\r"\x00'),
    max_size=40,
)  # fmt: skip


def zone_file(path: Path, zones: list[str]) -> Path:
    rows = "".join(f"learner-{i},{zone}\n" for i, zone in enumerate(zones))
    path.write_text("learner,time_zone\n" + rows, encoding="utf-8")
    return path


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(zone_names, min_size=1, max_size=5))
def test_zone_files_give_learners_or_a_schedule_error(tmp_path: Path, zones: list[str]) -> None:
    source = zone_file(tmp_path / "zones.csv", zones)
    problem = ""
    try:
        learners = read_zone_file(source)
    except ScheduleError as exc:
        problem = exc.message
    if problem:
        assert re.search(r"line \d+", problem)
        return
    with contextlib.suppress(ScheduleError):
        plan_slots(
            learners, term_start=date(2026, 3, 2), term_end=date(2026, 3, 20), duration_minutes=60
        )


@given(st.binary(max_size=200))
def test_zone_files_of_any_bytes_give_a_schedule_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    source = tmp_path_factory.mktemp("zones") / "zones.csv"
    source.write_bytes(b"learner,time_zone\n" + data)
    with contextlib.suppress(ScheduleError):
        read_zone_file(source)


@pytest.mark.parametrize("zone", ["America", "a" * 300, "x/" * 200, "Europe/Berlin/"])
def test_sessions_plan_names_the_line_of_a_bad_zone_and_exits_2(tmp_path: Path, zone: str) -> None:
    source = zone_file(tmp_path / "zones.csv", ["Europe/Berlin", zone])
    result = run(
        "sessions", "plan", "--zones", str(source), "--from", "2026-03-02", "--to",
        "2026-03-20", "--minutes", "60",
    )  # fmt: skip
    assert_refused(result, "line 3")


def test_sessions_plan_refuses_a_csv_the_csv_module_cannot_read(tmp_path: Path) -> None:
    source = tmp_path / "zones.csv"
    source.write_text("learner,time_zone\nana," + "x" * 200_000 + "\n", encoding="utf-8")
    result = run(
        "sessions", "plan", "--zones", str(source), "--from", "2026-03-02", "--to",
        "2026-03-20", "--minutes", "60",
    )  # fmt: skip
    assert_refused(result, "line 2")


# --- every file-reading command ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00", b"a: &x 1\nb: *x\n", deep_tree(3000).encode(), b"[" * 100, b"\x00"],
)
@pytest.mark.parametrize(
    "command",
    [
        ["path", "validate"],
        ["path", "import-moodle"],
        ["path", "export-moodle"],
        ["path", "check", "--evidence", "{file}"],
        ["path", "risks", "--evidence", "{file}"],
        ["statements", "import", "--no-deliver"],
    ],
)
def test_every_file_reading_command_exits_2_without_a_traceback(
    tmp_path: Path, command: list[str], content: bytes
) -> None:
    source = tmp_path / "input.txt"
    source.write_bytes(content)
    args = [part.replace("{file}", str(source)) for part in command]
    result = run(*args[:2], str(source), *args[2:])
    assert_refused(result)
