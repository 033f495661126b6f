"""Login states and used nonces: the two records that make a launch single-use.

A login state is created by the OIDC login step and consumed, once, by the launch it starts. A
nonce is remembered after its first accepted launch until the token it came in can no longer
be valid, so a replayed id_token is refused even when it carries a valid state. Store-backed
implementations rely on primary keys, so the guarantees hold across processes.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Row, bindparam, delete, select

from blendkit.store import Store
from blendkit.store._tables_core import lti_login_states, lti_nonces

__all__ = [
    "InMemoryLoginStateStore",
    "InMemoryNonceStore",
    "LoginState",
    "LoginStateStore",
    "NonceStore",
    "StoreLoginStateStore",
    "StoreNonceStore",
]

# Purge expired rows on roughly one call in this many: cheap, and tables stay small.
_PURGE_EVERY = 64
# Built once: every login and launch runs them.
_PUT_STATE = lti_login_states.insert()
_PEEK_STATE = select(lti_login_states).where(lti_login_states.c.state == bindparam("state"))
_POP_STATE = (
    delete(lti_login_states)
    .where(lti_login_states.c.state == bindparam("state"))
    .returning(*lti_login_states.c)
)


class LoginState(BaseModel):
    """What the login step remembers about one OIDC login, keyed by ``state``."""

    model_config = ConfigDict(frozen=True)

    state: str
    nonce: str
    issuer: str
    client_id: str
    target_link_uri: str
    browser_hash: str
    expires_at: float
    storage_target: str | None = None


@runtime_checkable
class LoginStateStore(Protocol):
    """Keeps login states between the login and the launch requests."""

    def put(self, record: LoginState) -> None:
        """Remember ``record`` until its ``expires_at``."""
        ...

    def peek(self, state: str) -> LoginState | None:
        """The record for ``state`` without consuming it (None when unknown)."""
        ...

    def pop(self, state: str) -> LoginState | None:
        """Atomically remove and return the record: only one caller ever gets it."""
        ...


@runtime_checkable
class NonceStore(Protocol):
    """Remembers nonces of accepted launches."""

    def use(self, issuer: str, nonce: str, expires_at: float) -> bool:
        """True the first time ``(issuer, nonce)`` is used, False on every later call."""
        ...


class InMemoryLoginStateStore:
    """Login states in a dict: one process only (tests, embedding, benchmarks)."""

    def __init__(self) -> None:
        self._records: dict[str, LoginState] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def put(self, record: LoginState) -> None:
        with self._lock:
            self._records[record.state] = record
            self._calls += 1
            if self._calls % _PURGE_EVERY == 0:
                now = time.time()
                for key in [k for k, v in self._records.items() if v.expires_at < now]:
                    del self._records[key]

    def peek(self, state: str) -> LoginState | None:
        return self._records.get(state)

    def pop(self, state: str) -> LoginState | None:
        with self._lock:
            return self._records.pop(state, None)


class InMemoryNonceStore:
    """Used nonces in a dict: one process only (tests, embedding, benchmarks)."""

    def __init__(self) -> None:
        self._used: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def use(self, issuer: str, nonce: str, expires_at: float) -> bool:
        key = (issuer, nonce)
        with self._lock:
            self._calls += 1
            if self._calls % _PURGE_EVERY == 0:
                now = time.time()
                for old in [k for k, v in self._used.items() if v < now]:
                    del self._used[old]
            if key in self._used:
                return False
            self._used[key] = expires_at
            return True


def _to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _to_epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


class StoreLoginStateStore:
    """Login states in ``lti_login_states``; ``pop`` is a DELETE … RETURNING, so it is atomic."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._calls = 0

    def put(self, record: LoginState) -> None:
        self._calls += 1
        # Single statements, each atomic alone: no BEGIN/COMMIT round trips.
        with self._store.autocommit() as session:
            if self._calls % _PURGE_EVERY == 1:
                session.execute(
                    delete(lti_login_states).where(
                        lti_login_states.c.expires_at < _to_datetime(time.time())
                    )
                )
            session.execute(
                _PUT_STATE,
                {
                    "state": record.state,
                    "nonce": record.nonce,
                    "browser_hash": record.browser_hash,
                    "issuer": record.issuer,
                    "client_id": record.client_id,
                    "target_link_uri": record.target_link_uri,
                    "storage_target": record.storage_target,
                    "expires_at": _to_datetime(record.expires_at),
                },
            )

    @staticmethod
    def _record(row: Row[Any]) -> LoginState:
        mapping = dict(row._mapping)
        mapping["expires_at"] = _to_epoch(mapping["expires_at"])
        return LoginState.model_validate(mapping)

    def peek(self, state: str) -> LoginState | None:
        with self._store.autocommit() as session:
            row = session.execute(_PEEK_STATE, {"state": state}).first()
        return None if row is None else self._record(row)

    def pop(self, state: str) -> LoginState | None:
        with self._store.autocommit() as session:
            row = session.execute(_POP_STATE, {"state": state}).first()
        return None if row is None else self._record(row)


class StoreNonceStore:
    """Used nonces in ``lti_nonces``: the primary key makes a second use fail in any process."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._calls = 0
        self._insert = store.insert_ignoring_conflicts(lti_nonces, "issuer", "nonce").returning(
            lti_nonces.c.nonce
        )

    def use(self, issuer: str, nonce: str, expires_at: float) -> bool:
        self._calls += 1
        if self._calls % _PURGE_EVERY == 1:
            with self._store.autocommit() as session:
                session.execute(
                    delete(lti_nonces).where(lti_nonces.c.expires_at < _to_datetime(time.time()))
                )
        with self._store.autocommit() as session:
            stored = session.execute(
                self._insert,
                {"issuer": issuer, "nonce": nonce, "expires_at": _to_datetime(expires_at)},
            ).first()
        return stored is not None
