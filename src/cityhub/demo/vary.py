"""Gentle, deterministic variation of measured values, so a replayed city looks alive.

A value at tick ``k`` is its sample value times a slow wave plus a little noise, both derived
from (seed, entity, attribute, k) alone: the same seed gives the same city, tick for tick,
with no state to keep, and consecutive ticks stay close (no jumps a real sensor would not
make). Counts stay whole and within their bounds (free spaces never exceed the total).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    amplitude: float  # relative swing of the slow wave (0.2 = ±20 %), or absolute if additive
    low: float = 0.0
    high: float = math.inf
    whole: bool = False
    additive: bool = False  # temperatures swing by degrees, not by a share of themselves


RULES: dict[str, Rule] = {
    "averageVehicleSpeed": Rule(0.25, 3.0, 110.0),
    "intensity": Rule(0.25, 0.0, whole=True),
    "peopleCount": Rule(0.2, 0.0, whole=True),
    "temperature": Rule(1.5, -60.0, 60.0, additive=True),
    "relativeHumidity": Rule(0.05, 0.0, 1.0, additive=True),
    "windSpeed": Rule(0.3, 0.0, 80.0),
    "pm25": Rule(0.25, 0.0),
    "pm10": Rule(0.25, 0.0),
    "no2": Rule(0.2, 0.0),
    "o3": Rule(0.2, 0.0),
    "co": Rule(0.15, 0.0),
    "so2": Rule(0.15, 0.0),
    "airQualityIndex": Rule(0.15, 0.0, whole=True),
}
PERIOD_TICKS = 8640.0  # one slow wave a day (ticks are 10 s: demo/replay.py)
CONGESTED_BELOW_KMH = 15.0  # Seoul TOPIS: 정체 (congested) under 15 km/h on city roads


def stable_unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from the parts (not Python's salted hash)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def factor(seed: int, entity_id: str, name: str, tick: int) -> float:
    """Wave in [-1, 1] with a phase of its own, plus ±15 % noise of the amplitude."""
    phase = 2 * math.pi * stable_unit(seed, entity_id, name, "phase")
    wave = math.sin(2 * math.pi * tick / PERIOD_TICKS + phase)
    noise = (stable_unit(seed, entity_id, name, tick) - 0.5) * 0.3
    return max(-1.0, min(1.0, wave + noise))


def _value(base: float, rule: Rule, f: float) -> float | int:
    moved = base + rule.amplitude * f if rule.additive else base * (1 + rule.amplitude * f)
    moved = max(rule.low, min(rule.high, moved))
    return round(moved) if rule.whole else round(moved, 2)


def _number(attribute: Any) -> float | None:
    if isinstance(attribute, dict) and attribute.get("type") == "Property":
        value = attribute.get("value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def varied(entity: dict[str, Any], seed: int, tick: int, observed_at: str) -> dict[str, Any]:
    """A copy of ``entity`` with its measured values moved to tick ``tick``, observed at
    ``observed_at``; entities with nothing to vary come back unchanged."""
    out = dict(entity)
    entity_id = str(entity["id"])
    changed = False
    for name, rule in RULES.items():
        base = _number(entity.get(name))
        if base is None:
            continue
        out[name] = {
            **entity[name],
            "value": _value(base, rule, factor(seed, entity_id, name, tick)),
            "observedAt": observed_at,
        }
        changed = True
    changed |= _vary_spaces(entity, out, seed, tick, observed_at)
    if "averageVehicleSpeed" in out and "congested" in out and changed:
        out["congested"] = {
            **entity["congested"],
            "value": out["averageVehicleSpeed"]["value"] < CONGESTED_BELOW_KMH,
        }
    if changed:
        for name in ("dateObserved", "observationDateTime"):
            if isinstance(entity.get(name), dict):
                out[name] = {
                    "type": "Property",
                    "value": {"@type": "DateTime", "@value": observed_at},
                }
    return out


def _vary_spaces(
    entity: dict[str, Any], out: dict[str, Any], seed: int, tick: int, observed_at: str
) -> bool:
    """Free/total pairs (parking spaces, chargers, bikes): the occupied share moves, the
    total does not, and free = total - occupied."""
    for free_name, total_name, occupied_name in (
        ("availableSpotNumber", "totalSpotNumber", "occupiedSpotNumber"),
        ("availableCapacity", "capacity", None),
        ("availableBikeNumber", "totalSlotNumber", None),
    ):
        free, total = _number(entity.get(free_name)), _number(entity.get(total_name))
        if free is None or total is None or total <= 0:
            continue
        occupied = total - free
        f = factor(seed, str(entity["id"]), free_name, tick)
        moved = round(max(0.0, min(total, occupied + 0.25 * total * f)))
        out[free_name] = {
            **entity[free_name],
            "value": int(total) - moved,
            "observedAt": observed_at,
        }
        if occupied_name and occupied_name in entity:
            out[occupied_name] = {
                **entity[occupied_name],
                "value": moved,
                "observedAt": observed_at,
            }
        return True
    return False
