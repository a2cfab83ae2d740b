"""JMA weather warnings, landslide alerts and record-rain reports as Alerts (CATALOG §5).

* VPWW53 / VPWW54 (気象特別警報・警報・注意報, Ｈ２７ format) and VPWW55–59 (Ｒ０６ "レベル"
  format): one Alert per (municipality code, warning kind code) from
  ``Warning[type=気象警報・注意報（市町村等）]/Item``, ``urn:ngsi-ld:Alert:JMA:{area}:{kind}``.
  A kind whose Status is 解除 — or the earlier kind named by ``LastKind`` when it was replaced,
  e.g. 大雨警報 03 upgraded to 大雨特別警報 33 — keeps its entity with ``validTo`` = the report
  time (and no ``validFrom``, which only the issuing telegram knew).
* VXWW50 (土砂災害警戒情報): one Alert per municipality, ``…:{area}:landslide`` (its 解除 has a
  kind code of its own, so the kind code cannot be in the id).
* VPOA50 (記録的短時間大雨情報): one Alert per area and event, ``…:recordRain:{EventID}:{area}``.

Severity: 注意報 medium, 警報 high, 特別警報 critical; a Ｒ０６ level overrides it (2 medium,
3 high, 4 and 5 critical: level 4 is "everyone evacuates", 土砂災害警戒情報 is level-4
equivalent). Category is "weather" except flood and landslide kinds ("naturalDisaster");
landslide has no Alert subCategory of its own, so it is "floodRisk" with ``data.hazard``.
"""

from __future__ import annotations

import re
import unicodedata
from xml.etree.ElementTree import Element

from cityhub.ingest.feeds.jma_telegram import (
    Telegram,
    alert,
    children,
    find,
    find_all,
    text,
    xml_text,
)
from cityhub.ingest.feeds.ngsi import urn_part
from cityhub.ingest.feeds.records import Entity, Item, RecordError, map_records

MUNICIPALITIES = "気象警報・注意報（市町村等）"
LIFTED = "解除"
NOTHING = {"なし", "発表警報・注意報はなし"}

# Kind name fragments (after NFKC) → Alert subCategory; the first match wins, so compound
# names come before their parts (暴風雪 before 暴風).
_SUBCATEGORIES = (
    ("暴風雪", "snow"),
    ("風雪", "snow"),
    ("大雨", "rainfall"),
    ("洪水", "flood"),
    ("暴風", "wind"),
    ("強風", "wind"),
    ("大雪", "snow"),
    ("波浪", "badSeaState"),
    ("高潮", "coastalEvent"),
    ("雷", "thunderstorms"),
    ("濃霧", "fog"),
    ("乾燥", "fireRisk"),
    ("なだれ", "avalancheRisk"),
    ("低温", "lowTemperature"),
    ("霜", "lowTemperature"),
    ("着氷", "snow/ice"),
    ("着雪", "snow/ice"),
    ("融雪", "floodRisk"),
    ("土砂", "floodRisk"),
)
_NATURAL_DISASTER = ("洪水", "土砂")
_LEVEL_SEVERITY = {1: "low", 2: "medium", 3: "high", 4: "critical", 5: "critical"}


def warning_level(name: str) -> int | None:
    """The Ｒ０６ warning level in a kind name (``レベル３大雨警報`` → 3)."""
    match = re.search(r"レベル(\d)", unicodedata.normalize("NFKC", name))
    return int(match.group(1)) if match else None


def warning_severity(name: str) -> str | None:
    level = warning_level(name)
    if level is not None:
        return _LEVEL_SEVERITY.get(level)
    if "特別警報" in name:
        return "critical"
    if "警報" in name:
        return "high"
    if "注意報" in name:
        return "medium"
    return None


def warning_sub_category(name: str) -> str | None:
    normal = unicodedata.normalize("NFKC", name)
    return next((sub for fragment, sub in _SUBCATEGORIES if fragment in normal), None)


def _area(item: Element) -> tuple[str, str | None]:
    code = text(item, "Area", "Code")
    if code is None or not code.isdigit():
        raise RecordError(f"Area/Code {code!r} is not an area code")
    return code, text(item, "Area", "Name")


def _code(kind: Element, *path: str) -> str | None:
    code = text(kind, *path, "Code")
    if code is not None and not code.isdigit():
        raise RecordError(f"{'/'.join(('Kind', *path))}/Code {code!r} is not a kind code")
    return code


def warnings(telegram: Telegram) -> list[Item]:
    """VPWW53/54/55–59: the municipality section, one Alert per (area, kind)."""
    items = (
        (f"Warning[{MUNICIPALITIES}]/Item[{index}]", item)
        for warning in find_all(telegram.body, "Warning")
        if warning.get("type") == MUNICIPALITIES
        for index, item in enumerate(children(warning, "Item"))
    )
    return map_records(items, lambda item: _municipality(telegram, item), raw=xml_text)


def _municipality(telegram: Telegram, item: Element) -> list[Entity]:
    area_code, area_name = _area(item)
    kinds = children(item, "Kind")
    current = {code for kind in kinds if (code := _code(kind)) is not None}
    built: list[Entity] = []
    replaced: set[str] = set()
    for kind in kinds:
        status = text(kind, "Status")
        code = _code(kind)
        if code is None:
            if status is None or status in NOTHING:
                continue
            raise RecordError(f"Kind/Code is missing (Status {status!r})")
        name = text(kind, "Name")
        if name is None:
            raise RecordError(f"Kind/Name is missing for kind {code}")
        lifted = status == LIFTED or telegram.cancelled
        data: dict[str, object] = {
            "areaCode": area_code,
            "kindCode": code,
            "kindName": name,
            "status": status,
            "condition": text(kind, "Condition"),
            "lastKindCode": text(kind, "LastKind", "Code"),
            "level": warning_level(name),
        }
        built.append(_warning(telegram, area_code, area_name, code, name, lifted, data))
        last_code = _code(kind, "LastKind")
        last_name = text(kind, "LastKind", "Name")
        if (
            last_code
            and last_name
            and last_code.strip("0")
            and last_code not in current
            and last_code not in replaced
        ):
            replaced.add(last_code)
            data = {"areaCode": area_code, "kindCode": last_code, "kindName": last_name}
            data |= {"replacedBy": code, "level": warning_level(last_name)}
            built.append(_warning(telegram, area_code, area_name, last_code, last_name, True, data))
    return built


def _warning(
    telegram: Telegram,
    area_code: str,
    area_name: str | None,
    code: str,
    name: str,
    lifted: bool,
    data: dict[str, object],
) -> Entity:
    normal = unicodedata.normalize("NFKC", name)
    natural = any(fragment in normal for fragment in _NATURAL_DISASTER)
    return alert(
        telegram,
        f"urn:ngsi-ld:Alert:JMA:{area_code}:{code}",
        category="naturalDisaster" if natural else "weather",
        sub_category=warning_sub_category(name),
        severity=warning_severity(name),
        name=name,
        area=area_name,
        valid_from=None if lifted else telegram.target_time or telegram.report_time,
        valid_to=telegram.report_time if lifted else None,
        data=data,
    )


def landslide(telegram: Telegram) -> list[Item]:
    """VXWW50 土砂災害警戒情報: one Alert per municipality (警戒 in force, 解除 lifted)."""
    prefecture = text(telegram.body, "TargetArea", "Code")
    items = (
        (f"Warning[土砂災害警戒情報]/Item[{index}]", item)
        for warning in find_all(telegram.body, "Warning")
        if warning.get("type") == "土砂災害警戒情報"
        for index, item in enumerate(children(warning, "Item"))
    )

    def build(item: Element) -> Entity | None:
        area_code, area_name = _area(item)
        kind = find(item, "Kind")
        status = text(kind, "Status")
        if status is None or status in NOTHING:
            return None
        lifted = status == LIFTED or telegram.cancelled
        return alert(
            telegram,
            f"urn:ngsi-ld:Alert:JMA:{area_code}:landslide",
            category="naturalDisaster",
            sub_category="floodRisk",
            severity="critical",
            name=telegram.title,
            area=area_name,
            valid_from=None if lifted else telegram.target_time or telegram.report_time,
            valid_to=telegram.report_time if lifted else None,
            data={
                "hazard": "landslide",
                "areaCode": area_code,
                "prefectureCode": prefecture,
                "kindCode": text(kind, "Code"),
                "kindName": text(kind, "Name"),
                "status": status,
                "level": 4,
            },
        )

    return map_records(items, build, raw=xml_text)


def record_rain(telegram: Telegram) -> list[Item]:
    """VPOA50 記録的短時間大雨情報: one Alert per area the report names (発表)."""
    items = (
        (f"Warning[{warning.get('type')}]/Item[{index}]", item)
        for warning in find_all(telegram.body, "Warning")
        for index, item in enumerate(children(warning, "Item"))
    )

    def build(item: Element) -> Entity | None:
        area_code, area_name = _area(item)
        kind = find(item, "Kind")
        status = text(kind, "Status")
        if status is None or status in NOTHING:
            return None
        if telegram.event_id is None:
            raise RecordError("Head/EventID is missing")
        event = urn_part(telegram.event_id)
        return alert(
            telegram,
            f"urn:ngsi-ld:Alert:JMA:recordRain:{event}:{area_code}",
            category="weather",
            sub_category="rainfall",
            severity="high",
            name=text(kind, "Name") or telegram.title,
            area=area_name,
            valid_from=None if telegram.cancelled else telegram.target_time,
            valid_to=telegram.report_time if telegram.cancelled else None,
            data={
                "eventId": telegram.event_id,
                "serial": telegram.serial,
                "areaCode": area_code,
                "kindCode": text(kind, "Code"),
                "status": status,
            },
        )

    return map_records(items, build, raw=xml_text)
