"""Numbered SQL migrations bundled with each backend (``NNN_name.sql``)."""

from __future__ import annotations

from importlib import resources


def bundled_migrations(backend: str) -> list[tuple[str, str]]:
    """(name, SQL) of the backend's migrations in order."""
    folder = resources.files(f"cityhub.storage.{backend}").joinpath("migrations")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]
