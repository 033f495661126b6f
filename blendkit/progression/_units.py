"""Shared value types: percentages are floats from 0 to 100 inclusive."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["Percent"]


def _percent(value: float) -> float:
    if math.isnan(value) or not 0 <= value <= 100:
        raise ValueError("must be between 0 and 100")
    return value


Percent = Annotated[float, AfterValidator(_percent)]
"""A percentage, 0 to 100 inclusive."""
