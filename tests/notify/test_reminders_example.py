"""docs/examples/reminders_quickstart.py runs as documented and shows what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_reminders_example_plans_moves_and_waits_for_quiet_hours_to_end() -> None:
    ran = subprocess.run(
        [sys.executable, str(ROOT / "docs/examples/reminders_quickstart.py")],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "new reminders: 8"
    assert sum(" 24h" in line or " 15m" in line for line in lines) == 4
    assert "cancelled: 4 moved notices: 2" in lines
    assert lines[-1] == "Postpone 2027-03-08 22:00:00+00:00 quiet hours of the learner"
