"""Dashboard: time to a drawn map of 10,000 features, and change-to-screen latency.

    .venv/bin/python bench/dashboard.py [--loads 5] [--changes 20]
                                        [--traffic 6000] [--parking 3000] [--air 1000]

A hub (``cityhub serve``, SQLite in a temporary folder, 127.0.0.1 only) gets 10,000 features
in tenant ``seoul`` through /ngsi-ld/v1/entityOperations/upsert with the Smart Data Models
@context links: 6,000 TrafficFlowObserved road segments (LineStrings), 3,000 OffStreetParking
and 1,000 AirQualityObserved points around Seoul. Headless Chromium (the system's) measures:

(a) map ready: navigation start to the dashboard map's ``data-ready`` with all features
    drawn (``data-features``), median of N cold loads (a fresh browser context each), beside
    the same browser loading a bare page that fetches the same GeoJSON from static files and
    draws it with MapLibre, no dashboard code, same view (baseline). A second row says when
    the features were fetched and parsed in each (the hub's layer endpoints against static
    files), so the hub's share and the drawing's share can be told apart.
(b) change to screen: a PATCH of an entity's attribute through the NGSI-LD API, sent from the
    page, until ``window.cityhubDashboard.lastChangeAt`` (set once the map has drawn the
    change) moves; p50/p95 of N changes. Baselines: a bare EventSource on the hub's live
    stream (the hub's part, no rendering) and a bare EventSource round trip through a trivial
    local server (what SSE itself costs).

Targets (issue 7): map ready <= 2 s, change to screen <= 1 s (p95).
"""

from __future__ import annotations

import argparse
import json
import math
import queue
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if not __package__:  # run as a file: make ``bench`` importable like ``-m bench.dashboard`` does
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from bench.entities import VENV_BIN, Server, free_port, start_server, stop_server
from cityhub.dashboard.cities import KNOWN

ROOT = Path(__file__).resolve().parents[1]
MAPLIBRE = ROOT / "src" / "cityhub" / "dashboard" / "web" / "node_modules" / "maplibre-gl" / "dist"
CHROMIUM = "/usr/bin/chromium"
TENANT = "seoul"
CITY = KNOWN[TENANT]
VIEWPORT: ViewportSize = {"width": 1366, "height": 900}
SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"
CONTEXTS = {
    "traffic": SDM.format("Transportation"),
    "parking": SDM.format("Parking"),
    "air": SDM.format("Environment"),
}
TARGET_READY_S = 2.0
TARGET_CHANGE_MS = 1000.0


def link(context: str) -> str:
    return f'<{context}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def spot(rng: random.Random) -> tuple[float, float]:
    """A point in the dashboard's first view of the city (about 4 x 4 km)."""
    lon, lat = CITY.center
    return lon + rng.uniform(-0.022, 0.022), lat + rng.uniform(-0.016, 0.016)


def names(kind: str, n: int) -> dict[str, Any]:
    return {
        "type": "LanguageProperty",
        "languageMap": {"en": f"{kind} {n}", "ko": f"{kind} {n}번"},
    }


def traffic(n: int, rng: random.Random) -> dict[str, Any]:
    lon, lat = spot(rng)
    angle = rng.uniform(0, math.pi)
    dx, dy = 0.0012 * math.cos(angle), 0.0009 * math.sin(angle)
    speed = round(rng.uniform(5, 70), 1)
    return {
        "id": f"urn:ngsi-ld:TrafficFlowObserved:bench:{n:05d}",
        "type": "TrafficFlowObserved",
        "name": names("Road", n),
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "LineString",
                "coordinates": [[lon, lat], [lon + dx, lat + dy], [lon + 2 * dx, lat + dy / 2]],
            },
        },
        "averageVehicleSpeed": {"type": "Property", "value": speed, "unitCode": "KMH"},
        "congested": {"type": "Property", "value": speed < 15},
    }


def parking(n: int, rng: random.Random) -> dict[str, Any]:
    lon, lat = spot(rng)
    total = rng.randint(20, 600)
    return {
        "id": f"urn:ngsi-ld:OffStreetParking:bench:{n:05d}",
        "type": "OffStreetParking",
        "name": names("Car park", n),
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "totalSpotNumber": {"type": "Property", "value": total},
        "availableSpotNumber": {"type": "Property", "value": rng.randint(0, total)},
    }


def air(n: int, rng: random.Random) -> dict[str, Any]:
    lon, lat = spot(rng)
    return {
        "id": f"urn:ngsi-ld:AirQualityObserved:bench:{n:05d}",
        "type": "AirQualityObserved",
        "name": names("Station", n),
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "pm25": {"type": "Property", "value": round(rng.uniform(3, 90), 1), "unitCode": "GQ"},
        "pm10": {"type": "Property", "value": round(rng.uniform(5, 150), 1), "unitCode": "GQ"},
    }


def load_city(base: str, counts: dict[str, int]) -> str:
    """Upsert the features; answer the id of a parking lot to change later."""
    rng = random.Random(7)
    makers = {"traffic": traffic, "parking": parking, "air": air}
    with httpx.Client(base_url=base, timeout=120) as client:
        for layer, count in counts.items():
            entities = [makers[layer](n, rng) for n in range(count)]
            for start in range(0, count, 1000):
                response = client.post(
                    "/ngsi-ld/v1/entityOperations/upsert",
                    content=json.dumps(entities[start : start + 1000]),
                    headers={
                        "Content-Type": "application/json",
                        "NGSILD-Tenant": TENANT,
                        "Link": link(CONTEXTS[layer]),
                    },
                )
                if response.status_code not in (201, 204):
                    raise RuntimeError(f"upsert {layer}: {response.status_code} {response.text}")
    return "urn:ngsi-ld:OffStreetParking:bench:00000"


# --- the baseline site: a bare MapLibre page, and an SSE echo ------------------------------

BARE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="maplibre-gl.css">
<style>html, body, #map { margin: 0; height: 100%; }</style></head>
<body><div id="map"></div>
<script type="module">
import * as maplibregl from './maplibre-gl.mjs';
const ids = ['traffic', 'parking', 'air'];
const map = new maplibregl.Map({
  container: 'map', center: CENTER, zoom: ZOOM, fadeDuration: 0,
  style: { version: 8, sources: {}, layers: [
    { id: 'bg', type: 'background', paint: { 'background-color': '#f3f1ea' } }] },
});
map.on('load', async () => {
  const data = await Promise.all(ids.map((id) => fetch(`./${id}.geojson`).then((r) => r.json())));
  performance.mark('cityhub:layers-loaded');
  ids.forEach((id, i) => {
    map.addSource(id, { type: 'geojson', data: data[i] });
    map.addLayer({ id: `${id}-line`, type: 'line', source: id,
      filter: ['==', ['geometry-type'], 'LineString'],
      paint: { 'line-color': '#1b7a3a', 'line-width': 3 } });
    map.addLayer({ id: `${id}-circle`, type: 'circle', source: id,
      filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-color': '#1d4ed8', 'circle-radius': 5 } });
  });
  map.once('idle', () => {
    window.__features = data.reduce((n, d) => n + d.features.length, 0);
    window.__readyAt = performance.now();
  });
});
</script></body></html>
"""


class Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, folder: Path) -> None:
        super().__init__(("127.0.0.1", free_port()), SiteHandler)
        self.folder = folder
        self.listeners: list[queue.Queue[bytes]] = []
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class SiteHandler(BaseHTTPRequestHandler):
    server: Site

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/events":
            self._events()
            return
        path = (self.server.folder / self.path.lstrip("/").split("?")[0]).resolve()
        if self.server.folder not in path.parents or not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        types = {".html": "text/html", ".mjs": "text/javascript", ".css": "text/css"}
        self.send_response(200)
        self.send_header("Content-Type", types.get(path.suffix, "application/json"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            for listener in self.server.listeners:
                listener.put(body)
        self.send_response(204)
        self.end_headers()

    def _events(self) -> None:
        mine: queue.Queue[bytes] = queue.Queue()
        with self.server.lock:
            self.server.listeners.append(mine)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        try:
            self.wfile.write(b": open\n\n")
            self.wfile.flush()
            while True:
                try:
                    data = mine.get(timeout=15)
                except queue.Empty:
                    data = b""
                self.wfile.write(b"event: change\ndata: %s\n\n" % data if data else b": idle\n\n")
                self.wfile.flush()
        except OSError:
            pass
        finally:
            with self.server.lock:
                self.server.listeners.remove(mine)


def build_site(folder: Path, base: str) -> None:
    """The bare page, MapLibre's files, and the hub's own layer answers as static files."""
    for name in ("maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl-shared.mjs"):
        shutil.copy(MAPLIBRE / name, folder / name)
    shutil.copy(MAPLIBRE / "maplibre-gl.css", folder / "maplibre-gl.css")
    page = BARE_PAGE.replace("CENTER", json.dumps(list(CITY.center))).replace(
        "ZOOM", str(CITY.zoom)
    )
    (folder / "index.html").write_text(page, encoding="utf-8")
    with httpx.Client(base_url=base, timeout=120) as client:
        for layer in CONTEXTS:
            response = client.get(f"/dashboard/api/cities/{TENANT}/layers/{layer}?lang=en")
            response.raise_for_status()
            (folder / f"{layer}.geojson").write_bytes(response.content)


# --- measurements -------------------------------------------------------------------------

READY_PROBE = """
document.addEventListener('DOMContentLoaded', () => {
  const map = document.querySelector('[data-testid=map]');
  if (!map) return;
  new MutationObserver(() => {
    if (map.dataset.ready === 'true' && window.__readyAt === undefined) {
      window.__readyAt = performance.now();
      window.__features = Number(map.dataset.features);
    }
  }).observe(map, { attributes: true, attributeFilter: ['data-ready'] });
});
"""


@dataclass
class Load:
    ready: float  # s from navigation start to the map drawn
    data: float  # s from navigation start to the features fetched and parsed


def timed_load(browser: Browser, url: str, expected: int) -> Load:
    """One load in a fresh context (nothing cached)."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    try:
        context.add_init_script(READY_PROBE)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.__readyAt !== undefined", timeout=120_000)
        features = page.evaluate("window.__features")
        if features != expected:
            raise RuntimeError(f"{url}: {features} features drawn, {expected} expected")
        ready = float(page.evaluate("window.__readyAt"))
        data = float(
            page.evaluate(
                "performance.getEntriesByName('cityhub:layers-loaded')[0]?.startTime ?? NaN"
            )
        )
        return Load(ready / 1000, data / 1000)
    finally:
        context.close()


PATCH_AND_WAIT = """async ({ id, value, link, wait }) => {
  const t0 = performance.now();
  const marker = window.__changes || 0;
  const before = window.cityhubDashboard ? window.cityhubDashboard.lastChangeAt : 0;
  const response = await fetch(`/ngsi-ld/v1/entities/${encodeURIComponent(id)}/attrs`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json', 'NGSILD-Tenant': 'seoul', Link: link },
    body: JSON.stringify({ availableSpotNumber: { type: 'Property', value } }),
  });
  if (response.status !== 204) throw new Error(`PATCH ${response.status}`);
  const deadline = t0 + 10000;
  while (performance.now() < deadline) {
    if (wait === 'dashboard' && window.cityhubDashboard.lastChangeAt !== before) {
      return window.cityhubDashboard.lastChangeAt - t0;
    }
    if (wait === 'bare' && window.__changes !== marker) return window.__lastAt - t0;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error('no change arrived within 10 s');
}"""

BARE_STREAM = """(url) => new Promise((resolve) => {
  window.__changes = 0;
  const source = new EventSource(url);
  source.addEventListener('change', () => {
    window.__lastAt = performance.now();
    window.__changes += 1;
  });
  source.addEventListener('open', () => resolve(true));
})"""

ECHO = """async () => {
  const marker = window.__changes;
  const t0 = performance.now();
  await fetch('/echo', { method: 'POST', body: 'x' });
  while (window.__changes === marker) await new Promise((resolve) => setTimeout(resolve, 2));
  return window.__lastAt - t0;
}"""


def changes(page: Page, lot: str, count: int, wait: str) -> list[float]:
    out = []
    for n in range(count):
        out.append(
            float(
                page.evaluate(
                    PATCH_AND_WAIT,
                    {"id": lot, "value": n % 20, "link": link(CONTEXTS["parking"]), "wait": wait},
                )
            )
        )
        page.wait_for_timeout(150)
    return out


def dashboard_changes(browser: Browser, hub: str, lot: str, count: int) -> list[float]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{hub}/?lang=en#city/{TENANT}")
        page.wait_for_selector("[data-testid=map][data-ready=true]", timeout=120_000)
        page.wait_for_selector("[data-testid=live-status][data-state=live]", timeout=30_000)
        return changes(page, lot, count, "dashboard")
    finally:
        context.close()


def hub_stream_changes(browser: Browser, hub: str, lot: str, count: int) -> list[float]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{hub}/dashboard/api/config")  # same origin as the hub, no dashboard code
        page.evaluate(BARE_STREAM, f"/dashboard/api/cities/{TENANT}/live?lang=en")
        return changes(page, lot, count, "bare")
    finally:
        context.close()


def echo_changes(browser: Browser, site: Site, count: int) -> list[float]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{site.base}/index.html")
        page.evaluate(BARE_STREAM, "/events")
        out = []
        for _ in range(count):
            out.append(float(page.evaluate(ECHO)))
            page.wait_for_timeout(50)
        return out
    finally:
        context.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass
class Figures:
    loads: list[Load]
    bare_loads: list[Load]
    change: list[float]
    hub_stream: list[float]
    echo: list[float]


def print_table(f: Figures, features: int) -> None:
    ready = statistics.median(load.ready for load in f.loads)
    bare = statistics.median(load.ready for load in f.bare_loads)
    data = statistics.median(load.data for load in f.loads)
    bare_data = statistics.median(load.data for load in f.bare_loads)
    p50, p95 = percentile(f.change, 0.5), percentile(f.change, 0.95)
    rows = [
        (
            f"(a) map ready, {features:,} features, median of {len(f.loads)} cold loads",
            f"{ready:.2f} s  (min {min(x.ready for x in f.loads):.2f},"
            f" max {max(x.ready for x in f.loads):.2f})",
            f"{bare:.2f} s  bare MapLibre page, same GeoJSON from static files",
            f"<= {TARGET_READY_S:.0f} s  {'ok' if ready <= TARGET_READY_S else 'NO'}",
        ),
        (
            "    of which: features fetched and parsed at",
            f"{data:.2f} s  (the hub's layer endpoints)",
            f"{bare_data:.2f} s  (static files)",
            "",
        ),
        (
            f"(b) change to screen, p50 / p95 of {len(f.change)} PATCHes",
            f"{p50:.0f} / {p95:.0f} ms",
            f"{percentile(f.hub_stream, 0.5):.0f} / {percentile(f.hub_stream, 0.95):.0f} ms"
            "  bare EventSource on the hub's live stream",
            f"<= {TARGET_CHANGE_MS:.0f} ms  {'ok' if p95 <= TARGET_CHANGE_MS else 'NO'}",
        ),
        (
            "",
            "",
            f"{percentile(f.echo, 0.5):.1f} / {percentile(f.echo, 0.95):.1f} ms"
            "  bare EventSource round trip (trivial server)",
            "",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("measure", "dashboard", "baseline (same run, same browser)", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print("\n" + line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--traffic", type=int, default=6000)
    parser.add_argument("--parking", type=int, default=3000)
    parser.add_argument("--air", type=int, default=1000)
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    counts = {"traffic": args.traffic, "parking": args.parking, "air": args.air}
    total = sum(counts.values())
    workdir = Path(tempfile.mkdtemp(prefix="cityhub-dashboard-bench-"))
    port = free_port()
    hub: Server = start_server(
        "hub",
        [str(VENV_BIN / "cityhub"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        {
            "CITYHUB_DATABASE_URL": f"sqlite:///{workdir / 'hub.db'}",
            "CITYHUB_LOG_LEVEL": "warning",
            "CITYHUB_CONTEXT_ALLOW_HOSTS": "",
        },
        port,
        workdir / "hub.log",
    )
    site_folder = workdir / "site"
    site_folder.mkdir()
    site = Site(site_folder.resolve())
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        lot = load_city(hub.base, counts)
        print(f"loaded {total:,} features in {time.monotonic() - started:.1f} s", flush=True)
        build_site(site_folder, hub.base)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            try:
                # One unmeasured load of each warms the hub's caches and the disk.
                timed_load(browser, f"{hub.base}/?lang=en#city/{TENANT}", total)
                timed_load(browser, f"{site.base}/index.html", total)
                loads: list[Load] = []
                bare: list[Load] = []
                for n in range(args.loads):
                    loads.append(timed_load(browser, f"{hub.base}/?lang=en#city/{TENANT}", total))
                    bare.append(timed_load(browser, f"{site.base}/index.html", total))
                    print(
                        f"load {n + 1}: dashboard {loads[-1].ready:.2f} s"
                        f" (data {loads[-1].data:.2f} s), bare {bare[-1].ready:.2f} s"
                        f" (data {bare[-1].data:.2f} s)",
                        flush=True,
                    )
                figures = Figures(
                    loads,
                    bare,
                    dashboard_changes(browser, hub.base, lot, args.changes),
                    hub_stream_changes(browser, hub.base, lot, args.changes),
                    echo_changes(browser, site, args.changes),
                )
            finally:
                browser.close()
        print_table(figures, total)
    finally:
        site.shutdown()
        stop_server(hub)


if __name__ == "__main__":
    main()
