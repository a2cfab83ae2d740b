"""Storage backends behind one domain-shaped protocol: embedded SQLite and PostgreSQL + PostGIS."""

from __future__ import annotations

from cityhub.settings import Settings
from cityhub.storage.base import Store


def create_store(settings: Settings) -> Store:
    """The Store for the configured database URL (not yet opened)."""
    if settings.backend == "postgres":
        from cityhub.storage.postgres.store import PostgresStore

        return PostgresStore(settings.database_url, pool_size=settings.pg_pool_size)
    from cityhub.storage.sqlite.store import SqliteStore

    return SqliteStore(settings.database_url, readers=settings.sqlite_readers)
