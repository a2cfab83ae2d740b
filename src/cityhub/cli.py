"""``cityhub`` command line: serve, migrate, settings, dead-letters, ingest, demo. The help
text is the documentation."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence

from cityhub.settings import ENV_PREFIX, Settings, describe_settings, load_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    overrides = {"host": args.host, "port": args.port, "workers": args.workers}
    settings = load_settings(config_file=args.config, **overrides)
    _check_feeds(settings)
    # Workers are separate processes: they read the same settings from the environment.
    for name, value in overrides.items():
        if value is not None:
            os.environ[ENV_PREFIX + name.upper()] = str(value)
    if args.config:
        os.environ[ENV_PREFIX + "CONFIG_FILE"] = args.config
    asyncio.run(_migrate(settings.database_url))
    print(
        f"CityHub on http://{settings.host}:{settings.port}/ngsi-ld/v1 "
        f"({settings.backend}, {settings.workers} worker(s))",
        flush=True,
    )
    uvicorn.run(
        "cityhub.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
    )
    return 0


def _check_feeds(settings: Settings) -> None:
    """Refuse to start with a feed configuration that cannot run (ValueError: usage error)."""
    from cityhub.federation.configured import configured_sources
    from cityhub.ingest.feeds.scheduler import build_adapter, feed_configs

    for config in feed_configs(settings.feeds):
        build_adapter(config, settings)
    configured_sources(settings.sources)


async def _migrate(database_url: str) -> list[str]:
    from cityhub.storage import create_store

    store = create_store(load_settings(database_url=database_url))
    await store.open()
    try:
        return await store.migrate()
    finally:
        await store.close()


def _migrate_command(args: argparse.Namespace) -> int:
    settings = load_settings(config_file=args.config)
    applied = asyncio.run(_migrate(settings.database_url))
    print("applied: " + ", ".join(applied) if applied else "schema is up to date")
    return 0


async def _dead_letters(database_url: str, tenant: str, limit: int) -> list[dict[str, object]]:
    from cityhub.storage import create_store

    store = create_store(load_settings(database_url=database_url))
    await store.open()
    try:
        await store.migrate()
        letters = await store.dead_letters(tenant, limit, 0)
    finally:
        await store.close()
    return [
        {
            "id": d.id,
            "source": d.source,
            "reason": d.reason,
            "raw": d.raw,
            "receivedAt": d.received_at,
        }
        for d in letters
    ]


def _dead_letters_command(args: argparse.Namespace) -> int:
    import orjson

    settings = load_settings(config_file=args.config)
    for item in asyncio.run(_dead_letters(settings.database_url, args.tenant, args.limit)):
        print(orjson.dumps(item).decode())
    return 0


DEMO_DATABASE = "sqlite:///cityhub-demo.db"


def _demo_command(args: argparse.Namespace) -> int:
    from cityhub.demo.server import run_demo
    from cityhub.demo.table import register_samples

    settings = load_settings(config_file=args.config, host=args.host, port=args.port)
    if settings.database_url == Settings.database_url and not os.environ.get(
        ENV_PREFIX + "DATABASE_URL"
    ):
        database = DEMO_DATABASE
        if args.city:
            database = f"sqlite:///cityhub-demo-{args.city}.db"
        settings = load_settings(
            config_file=args.config, host=args.host, port=args.port, database_url=database
        )
    if args.federated:
        from cityhub.demo.federated import run_federated

        return run_federated(settings, args.seed)
    register_samples()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(settings, args.seed, live=not args.no_live, city=args.city))
    return 0


def _settings_command(args: argparse.Namespace) -> int:
    for env_name, help_text, default in describe_settings():
        print(f"{env_name}  (default: {default!r})\n    {help_text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cityhub",
        description="CityHub: an ETSI NGSI-LD context broker for smart-city data. Settings come "
        "from CITYHUB_* environment variables and an optional TOML file (--config).",
    )
    parser.add_argument("--config", help="TOML settings file (also CITYHUB_CONFIG_FILE)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the hub's HTTP API (migrates first)")
    serve.add_argument("--host", help="listen address (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="listen port (default 1026)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply pending schema migrations and exit")
    migrate.set_defaults(run=_migrate_command)

    settings = commands.add_parser("settings", help="list every setting with its help")
    settings.set_defaults(run=_settings_command)

    letters = commands.add_parser(
        "dead-letters",
        help="print what ingestion could not store (newest first, one JSON object a line:"
        " id, source, reason, raw input, receivedAt)",
    )
    letters.add_argument("--tenant", default="", help="tenant (default: the default tenant)")
    letters.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    letters.set_defaults(run=_dead_letters_command)

    from cityhub.ingest.feeds.command import add_parser as add_ingest

    add_ingest(commands)

    demo = commands.add_parser(
        "demo",
        help="run a hub with Seoul, Tokyo and Beijing as living demo cities (tenants seoul, "
        "tokyo, beijing; offline; SQLite file cityhub-demo.db unless CITYHUB_DATABASE_URL is set)",
    )
    demo.add_argument("--host", help="listen address (default 0.0.0.0)")
    demo.add_argument("--port", type=int, help="listen port (default 1026)")
    demo.add_argument("--seed", type=int, default=2026, help="variation seed (default 2026)")
    demo.add_argument(
        "--no-live", action="store_true", help="seed the cities but do not keep changing them"
    )
    demo.add_argument(
        "--city",
        choices=["seoul", "tokyo", "beijing"],
        help="serve one demo city only (its own SQLite file cityhub-demo-<city>.db)",
    )
    demo.add_argument(
        "--federated",
        action="store_true",
        help="the regional example: three city hubs (ports P+1..P+3, one city each, sharing "
        "with the region by policy) and a regional hub on port P that federates them",
    )
    demo.set_defaults(run=_demo_command)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        sys.exit(args.run(args))
    except ValueError as exc:
        parser.error(str(exc))
