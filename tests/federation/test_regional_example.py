"""The documented three-city example (issue 8): ``cityhub demo --federated`` starts Seoul,
Tokyo and Beijing hubs and a regional hub federating them from its ``[[sources]]``, with
Seoul's sharing policy keeping its crowd counts from the region — one command."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.federation.hubs import PARKING_CTX, TRANSPORT_CTX, link
from tests.scenarios.test_serve import cityhub_env


def free_block(size: int = 4) -> int:
    """A port P with P..P+size-1 all free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size > 65535:
            continue
        try:
            sockets = []
            for port in range(base, base + size):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
        return base
    raise RuntimeError("no block of free ports")


async def test_cityhub_demo_federated_answers_from_the_three_cities(tmp_path: Path) -> None:
    port = free_block()
    env = cityhub_env("")
    del env["CITYHUB_DATABASE_URL"]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cityhub",
            "demo",
            "--federated",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            lots: list[dict[str, object]] = []
            for _ in range(120):  # the three city hubs seed their data first
                await asyncio.sleep(1)
                try:
                    response = await http.get(
                        "/ngsi-ld/v1/entities",
                        params={"type": "OffStreetParking", "limit": "100"},
                        headers={"Link": link(PARKING_CTX)},
                    )
                except httpx.TransportError:
                    continue
                lots = response.json() if response.status_code == 200 else []
                cities = {str(e["id"]).split(":")[3] for e in lots}
                if (
                    cities >= {"KR-Seoul", "CN-Beijing-sim"}
                    and "NGSILD-Warning" not in response.headers
                ):
                    break
            assert {str(e["id"]).split(":")[3] for e in lots} >= {"KR-Seoul", "CN-Beijing-sim"}
            crowds = await http.get(
                "/ngsi-ld/v1/entities",
                params={"type": "CrowdFlowObserved", "limit": "100"},
                headers={"Link": link(TRANSPORT_CTX)},
            )
            assert crowds.status_code == 200
            places = {str(e["id"]).split(":")[3] for e in crowds.json()}
            assert "CN-Beijing-sim" in places and "KR-Seoul" not in places  # Seoul keeps them
            registrations = await http.get(
                "/ngsi-ld/v1/csourceRegistrations",
                params={"type": "OffStreetParking"},
                headers={"Link": link(PARKING_CTX)},
            )
            assert sorted(r["id"] for r in registrations.json()) == [
                f"urn:ngsi-ld:ContextSourceRegistration:config-{c}"
                for c in ("beijing", "seoul", "tokyo")
            ]
    finally:
        process.terminate()
        process.wait(timeout=30)
