"""The runnable examples of docs/xapi/*.md run as written."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs" / "xapi"
BENCH = Path(__file__).parents[2] / "benchmarks" / "mini_lrs.py"


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("page", ["statements.md", "outbox.md"])
def test_examples_run(page: str) -> None:
    blocks = python_blocks(page)
    assert blocks
    exec(compile(blocks[0], f"{page}:example", "exec"), {})


def test_lrs_example_runs_against_the_local_lrs() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, str(BENCH), str(port)], stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None
        server.stdout.readline()
        code = python_blocks("lrs.md")[0].replace("127.0.0.1:8100", f"127.0.0.1:{port}")
        exec(compile(code, "lrs.md:example", "exec"), {})
    finally:
        server.terminate()
        server.wait(10)


def test_catalogue_examples_are_what_the_builders_produce() -> None:
    import orjson

    from .test_builders import CATALOGUE

    text = (DOCS / "statements.md").read_text()
    sections = re.findall(r"\n### (.+?)\n.*?```json\n(.*?)```", text, flags=re.DOTALL)
    assert {name for name, _ in sections} == set(CATALOGUE)
    for name, block in sections:
        assert orjson.loads(block) == orjson.loads(CATALOGUE[name][0].to_json()), name
