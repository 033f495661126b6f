"""Operating blendkit: readiness, database availability, JSON logs and outcome events, shared
by every web adapter. Prometheus metrics live in :mod:`blendkit.operations.metrics` (needs the
``metrics`` extra)."""

from blendkit.operations._health import (
    DATABASE_RETRY_AFTER_SECONDS,
    Readiness,
    check_readiness,
    database_unavailable,
    unavailable_error,
)
from blendkit.operations._logs import JsonLogFormatter, LogFormat, configure_logging
from blendkit.operations._outcomes import (
    OutcomeKind,
    OutcomeListener,
    add_outcome_listener,
    record_outcome,
    remove_outcome_listener,
)

__all__ = [
    "DATABASE_RETRY_AFTER_SECONDS",
    "JsonLogFormatter",
    "LogFormat",
    "OutcomeKind",
    "OutcomeListener",
    "Readiness",
    "add_outcome_listener",
    "check_readiness",
    "configure_logging",
    "database_unavailable",
    "record_outcome",
    "remove_outcome_listener",
    "unavailable_error",
]
