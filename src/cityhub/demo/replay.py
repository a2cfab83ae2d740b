"""The demo cities as entities at any moment: real samples replayed through the feed
adapters with times shifted to now, measured values varied per tick, Beijing simulated.

Deterministic: the same seed and the same moments give the same entities, so a demo can be
reproduced and tested. Ticks are 10-second steps of wall-clock time; an entity changes on one
tick in ``ROTATION`` (its own, by a stable hash), so each moves about once a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from cityhub.demo.beijing import CST, beijing_entities
from cityhub.demo.shift import latest_observation, shifted
from cityhub.demo.vary import RULES, stable_unit, varied
from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.ngsi import prop
from cityhub.ingest.feeds.records import Entity, Rejected

TICK_SECONDS = 10
ROTATION = 6
KST = timezone(timedelta(hours=9))
ZONES = {"seoul": KST, "tokyo": KST, "beijing": CST}
VARYING = frozenset(RULES) | {"availableSpotNumber", "availableCapacity", "availableBikeNumber"}


def samples_dir() -> Traversable:
    return resources.files("cityhub.demo").joinpath("samples")


Loader = Callable[[Traversable], list[Entity | Rejected]]


@dataclass(frozen=True)
class Sample:
    """One real sample and how the demo plays it."""

    tenant: str
    adapter: str
    files: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    varied: bool = False  # measured values move over time (else replayed as they are)

    def load(self, root: Traversable) -> list[list[Entity | Rejected]]:
        """What each file maps to (each file is one moment of its feed)."""
        adapter = adapter_class(self.adapter)(self.options)
        # A fixed fetch time: parsing never depends on when the demo runs.
        fetched = datetime(2026, 1, 1, tzinfo=UTC)
        return [
            adapter.parse(root.joinpath(name).read_bytes(), fetched_at=fetched, source=name)
            for name in self.files
        ]


SAMPLES: list[Sample] = []  # filled by demo/samples_table.py


def tick_of(moment: datetime) -> int:
    return int(moment.timestamp()) // TICK_SECONDS


class DemoReplay:
    """The three demo cities, built once from the samples and moved to any moment."""

    def __init__(self, seed: int, now: datetime, samples: list[Sample] | None = None) -> None:
        self.seed = seed
        self.now = now
        self.base: dict[str, list[Entity]] = {}
        self.rejected = 0
        root = samples_dir()
        for sample in SAMPLES if samples is None else samples:
            for items in sample.load(root):
                entities = [item for item in items if not isinstance(item, Rejected)]
                self.rejected += len(items) - len(entities)
                # Each payload moves by its own offset: samples come from different years.
                taken = latest_observation(entities)
                delta = (now - taken) if taken is not None else timedelta(0)
                delta = timedelta(minutes=int(delta.total_seconds() // 60))  # whole minutes
                for entity in entities:
                    moved = shifted(entity, delta)
                    label = "varied" if sample.varied and VARYING & set(entity) else "replayed"
                    moved["demoData"] = prop(label)
                    self.base.setdefault(sample.tenant, []).append(moved)
        self.base.setdefault("beijing", []).extend(beijing_entities(seed, now))

    def varying(self, tenant: str) -> list[Entity]:
        return [e for e in self.base.get(tenant, []) if e["demoData"]["value"] != "replayed"]

    def at(self, moment: datetime, *, every: bool = False) -> dict[str, list[Entity]]:
        """The varying entities whose turn it is at ``moment`` (all of them with
        ``every``), with values for that moment, by tenant."""
        tick = tick_of(moment)
        out: dict[str, list[Entity]] = {}
        for tenant in self.base:
            zone = ZONES.get(tenant, UTC)
            observed = moment.astimezone(zone).replace(microsecond=0).isoformat()
            chosen = [
                varied(e, self.seed, tick, observed)
                for e in self.varying(tenant)
                if every or int(stable_unit(e["id"]) * ROTATION) == tick % ROTATION
            ]
            if chosen:
                out[tenant] = chosen
        return out
