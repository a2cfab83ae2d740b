"""The cities the dashboard shows: every tenant of the hub, with names, map position and time
zone for the ones it knows (the demo cities and their usual names in the four languages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class City:
    tenant: str
    name: dict[str, str] = field(default_factory=dict)
    center: tuple[float, float] = (127.0, 37.0)
    zoom: float = 11.0
    time_zone: str = "UTC"
    simulated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "name": self.name or dict.fromkeys(("en", "ja", "ko", "zh-Hans"), self.tenant),
            "center": list(self.center),
            "zoom": self.zoom,
            "timeZone": self.time_zone,
            "simulated": self.simulated,
        }


KNOWN: dict[str, City] = {
    "seoul": City(
        "seoul",
        {"en": "Seoul", "ja": "ソウル", "ko": "서울", "zh-Hans": "首尔"},
        (126.9769, 37.5700),
        14.0,
        "Asia/Seoul",
    ),
    "tokyo": City(
        "tokyo",
        {"en": "Tokyo", "ja": "東京", "ko": "도쿄", "zh-Hans": "东京"},
        (139.7530, 35.6850),
        10.0,
        "Asia/Tokyo",
    ),
    "beijing": City(
        "beijing",
        {"en": "Beijing", "ja": "北京", "ko": "베이징", "zh-Hans": "北京"},
        (116.3975, 39.9087),
        11.0,
        "Asia/Shanghai",
        simulated=True,
    ),
}
ORDER = ("seoul", "tokyo", "beijing")


def cities_of(tenants: list[str]) -> list[City]:
    """The known cities first (in their usual order), then other tenants by name; the default
    tenant ("") is not a city."""
    known = [KNOWN[t] for t in ORDER if t in tenants]
    others = sorted(t for t in tenants if t and t not in KNOWN)
    return [*known, *(City(t) for t in others)]
