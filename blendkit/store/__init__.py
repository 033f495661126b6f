"""Persistence: SQLAlchemy 2 tables and repositories; SQLite by default, PostgreSQL by URL.

Each area keeps its tables in ``_tables_<area>.py``; importing this package registers them all on
:data:`metadata`, so migrations and the schema test always see the whole schema.
"""

import importlib
import pkgutil

from blendkit.store._errors import describe_database_error
from blendkit.store._schema import metadata
from blendkit.store._secrets import KeyEncryption, StoredSecrets
from blendkit.store._store import Store

for _module in pkgutil.iter_modules(__path__):
    if _module.name.startswith("_tables_"):
        importlib.import_module(f"{__name__}.{_module.name}")

from blendkit.store._breakers import StoredCircuitBreaker  # noqa: E402  # after the tables
from blendkit.store._exclusive import exclusively  # noqa: E402

__all__ = [
    "KeyEncryption",
    "Store",
    "StoredCircuitBreaker",
    "StoredSecrets",
    "describe_database_error",
    "exclusively",
    "metadata",
]
