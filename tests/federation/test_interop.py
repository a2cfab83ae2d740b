"""Interoperability (issue 8): the PyPI NGSI-LD client ``ngsildclient`` used against a
regional hub that answers from two city hubs. The client runs in its own virtual
environment (.venv-interop, made by scripts/test.sh): it pins an httpx older than the hub's."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.federation.hubs import Hub, load, parking, register, start_hub
from tests.scenarios.test_serve import FreshDatabases

ROOT = Path(__file__).resolve().parents[2]
INTEROP_PYTHON = ROOT / ".venv-interop" / "bin" / "python"


@pytest.fixture(scope="module")
async def region(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hub]:
    tmp = tmp_path_factory.mktemp("interop")
    databases = FreshDatabases(tmp)
    hubs: list[Hub] = []
    try:
        regional = await start_hub("region", await databases.new("sqlite"), tmp)
        hubs.append(regional)
        for city, (lon, lat) in {"seoul": (126.97, 37.56), "tokyo": (139.76, 35.68)}.items():
            hub = await start_hub(city, await databases.new("sqlite"), tmp)
            hubs.append(hub)
            await load(hub, city, [parking(city, n, lon, lat, free=10 + n) for n in range(3)])
            await register(regional, hub, city, ["OffStreetParking"])
        yield regional
    finally:
        for hub in hubs:
            await hub.server.stop()
        await databases.drop_all()


async def test_ngsildclient_queries_the_regional_hub(region: Hub) -> None:
    if not INTEROP_PYTHON.exists():
        pytest.fail(
            f"{INTEROP_PYTHON} is missing: scripts/test.sh creates it (pip install ngsildclient)"
        )
    script = Path(__file__).with_name("ngsildclient_session.py")
    done = await asyncio.to_thread(
        subprocess.run,
        [str(INTEROP_PYTHON), str(script), str(region.server.port)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ids"] == [
        f"urn:ngsi-ld:OffStreetParking:{c}:{n:03d}" for c in ("seoul", "tokyo") for n in (1, 2)
    ]
    assert result["free"] == 11
    assert result["count"] == 6
