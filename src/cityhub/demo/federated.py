"""``cityhub demo --federated``: the regional example of issue 8 on one machine.

Three city hubs — Seoul, Tokyo and Beijing, each a ``cityhub demo --city`` process with its
own SQLite file on ports P+1, P+2, P+3 — and a regional hub on port P that federates them
from its ``sources`` (federation/configured.py). Each city hub shares with the region through
a partner key made for this run: Seoul keeps its crowd counts (CrowdFlowObserved) to itself,
to show a sharing policy at work; the rest of the dashboard types are shared. A query to the
regional hub's default tenant answers from all three cities.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import subprocess
import sys
import time

import orjson
import uvicorn

from cityhub.dashboard.layers import LAYERS
from cityhub.settings import ENV_PREFIX, Settings, load_settings

CITIES = ("seoul", "tokyo", "beijing")
TYPES = [t for layer in LAYERS for t in layer.types]
KEPT_BY_CITY = {"seoul": {"CrowdFlowObserved"}}  # what a city does not share with the region
# Where each city hub's entities are ([west, south, east, north]): Seoul's and Tokyo's feeds
# carry their country's warnings and stations, Beijing's simulation its municipality.
AREAS = {
    "seoul": (124.0, 33.0, 132.0, 39.0),
    "tokyo": (122.0, 20.0, 154.0, 46.0),
    "beijing": (115.4, 39.4, 117.6, 41.1),
}


def _die_with_parent() -> None:
    """In a city hub's process before it starts: be sent SIGTERM when the regional hub's
    process ends, however it ends (Linux prctl PR_SET_PDEATHSIG), so no hub outlives the
    example — uvicorn ends its own process by re-raising SIGTERM, skipping any cleanup."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _city_env(city: str, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    shared = [t for t in TYPES if t not in KEPT_BY_CITY.get(city, set())]
    env[ENV_PREFIX + "PARTNERS"] = orjson.dumps(
        [{"name": "region", "key": key, "types": shared}]
    ).decode()
    return env


def run_federated(settings: Settings, seed: int) -> int:
    from cityhub.app import create_app

    port = settings.port
    keys = {city: secrets.token_hex(16) for city in CITIES}
    children = []
    sources = []
    for offset, city in enumerate(CITIES, start=1):
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cityhub",
                    "demo",
                    "--city",
                    city,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port + offset),
                    "--seed",
                    str(seed),
                ],
                env=_city_env(city, keys[city]),
                preexec_fn=_die_with_parent,
            )
        )
        shared = [t for t in TYPES if t not in KEPT_BY_CITY.get(city, set())]
        sources.append(
            {
                "name": city,
                "endpoint": f"http://127.0.0.1:{port + offset}",
                "tenant": city,
                "types": shared,
                "key": keys[city],
                "area": list(AREAS[city]),
                # Temporal operations belong to no operation group (clause 4.20): named.
                "operations": ["federationOps", "retrieveTemporal", "queryTemporal"],
            }
        )
    region = load_settings(
        environ={},
        host=settings.host,
        port=port,
        database_url="sqlite:///cityhub-demo-region.db",
        sources=orjson.dumps(sources).decode(),
        log_level=settings.log_level,
    )
    print(
        f"Regional hub on http://localhost:{port}/ngsi-ld/v1 federating "
        + ", ".join(f"{c} (port {port + i})" for i, c in enumerate(CITIES, start=1))
        + "; Seoul does not share CrowdFlowObserved with the region.",
        flush=True,
    )
    try:
        uvicorn.run(
            create_app(region),
            host=region.host,
            port=port,
            loop="uvloop",
            http="httptools",
            log_level=region.log_level,
            access_log=False,
            server_header=False,
        )
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
        deadline = time.monotonic() + 20
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
    return 0
