"""Fixtures: every storage and API test runs on SQLite and on PostgreSQL + PostGIS.

PostgreSQL comes from CITYHUB_TEST_DATABASE_URL (default: the local server). A throwaway
database is created for the session. With CITYHUB_TEST_REQUIRE_POSTGRES=1 (as CI sets) a
missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from cityhub.app import create_app
from cityhub.hub import Hub
from cityhub.settings import Settings, load_settings
from cityhub.storage.base import Store
from cityhub.storage.postgres.store import PostgresStore
from cityhub.storage.sqlite.store import SqliteStore

BACKENDS = ["sqlite", "postgres"]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_dir() -> Path:
    """The project's shared/ folder (fixtures, spec): CITYHUB_SHARED, else ../shared beside
    the checkout, else the workplace's /work/shared (for clones made elsewhere)."""
    if "CITYHUB_SHARED" in os.environ:
        return Path(os.environ["CITYHUB_SHARED"])
    for candidate in (SHARED, Path("/work/shared")):
        if candidate.is_dir():
            return candidate
    return SHARED


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not path.is_dir():
        pytest.fail(f"shared folder {path} is missing (set CITYHUB_SHARED)")
    return path


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
async def pg_store() -> AsyncIterator[PostgresStore | None]:
    """A migrated store on a fresh PostgreSQL database for this session (dropped at the end);
    None when PostgreSQL is unreachable and not required."""
    admin_url = os.environ.get("CITYHUB_TEST_DATABASE_URL", DEFAULT_PG)
    name = f"cityhub_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(admin_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CITYHUB_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable at {admin_url}: {exc}")
        yield None
        return
    await admin.execute(f'CREATE DATABASE "{name}"')
    store = PostgresStore(_with_database(admin_url, name), pool_size=5)
    try:
        await store.open()
        await store.migrate()
        yield store
    finally:
        await store.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, pg_store: PostgresStore | None
) -> AsyncIterator[Store]:
    """An empty, migrated store of each backend."""
    if request.param == "postgres":
        if pg_store is None:
            pytest.skip("PostgreSQL is not reachable (set CITYHUB_TEST_DATABASE_URL)")
        await pg_store.pool.execute(
            "TRUNCATE entities, tenants, jsonld_contexts, entity_geo, entity_types, subscriptions,"
            " subscription_versions, notification_outbox, notification_feed, temporal_entities,"
            " attribute_instances, temporal_series, iot_services, iot_devices, dead_letters,"
            " feed_runs, csource_registrations, csource_subscriptions, csource_versions,"
            " csource_outbox, entity_maps"
        )
        pg_store._known_tenants.clear()  # the store caches tenants it has seen
        pg_store.series.known.clear()  # and history series numbers
        yield pg_store
        return
    sqlite = SqliteStore(f"sqlite:///{tmp_path / 'hub.db'}", readers=2)
    await sqlite.open()
    await sqlite.migrate()
    yield sqlite
    await sqlite.close()


def test_settings(store: Store, **overrides: Any) -> Settings:
    url = getattr(store, "url", None) or f"sqlite:///{getattr(store, 'path', '')}"
    return load_settings(environ={}, database_url=url, **overrides)


test_settings.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to run its hub with other settings."""
    return {}


@pytest.fixture
async def hub(store: Store, settings_overrides: dict[str, Any]) -> AsyncIterator[Hub]:
    the_hub = Hub(test_settings(store, **settings_overrides), store=store)
    the_hub.start_background()
    yield the_hub
    await the_hub.stop_background()
    store.commit_hook = None
    await the_hub.contexts.aclose()


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the hub's ASGI app (in process, real store)."""
    app = create_app(hub.settings, hub=hub)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield http


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "postgres" in item.nodeid and "[" in item.nodeid:
            item.add_marker(pytest.mark.postgres)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs on the PostgreSQL backend")


@pytest.fixture
def entity_id() -> Iterator[str]:
    yield f"urn:ngsi-ld:Test:{uuid.uuid4().hex[:12]}"
