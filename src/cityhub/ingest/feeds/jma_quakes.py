"""JMA earthquake telegrams as Alerts (CATALOG §5): VXSE51 震度速報, VXSE52 震源に関する情報,
VXSE53 震源・震度に関する情報 and VXSE43 緊急地震速報（警報）.

VXSE51/52/53 of one earthquake share ``urn:ngsi-ld:Alert:JMA:quake:{EventID}`` and each later
telegram (higher Serial) restates the event with what it knows: VXSE51 intensities only,
VXSE52 the hypocentre only, VXSE53 both. Severity follows the maximum intensity (≤2 low, 3–4
medium, 5-/5+ high, ≥6- critical). An Earthquake Early Warning is a warning of its own,
``urn:ngsi-ld:Alert:JMA:eew:{EventID}``, always critical. InfoType 取消 gives ``validTo``.

The hypocentre is an ISO 6709 string, ``+37.6+141.6-50000/`` = latitude, longitude and height
in metres (negative: a depth of 50 km); JMA writes it on the Tokyo datum at 0.1° resolution,
so the ~450 m datum shift is below its precision and the point is used as WGS84.
"""

from __future__ import annotations

import re
from typing import Any
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
from cityhub.ingest.feeds.ngsi import point, urn_part
from cityhub.ingest.feeds.records import Entity, Item, RecordError, map_records
from cityhub.ingest.feeds.values import aware_time, lon_lat, number

INTENSITY_SEVERITY = {
    "1": "low",
    "2": "low",
    "3": "medium",
    "4": "medium",
    "5-": "high",
    "5+": "high",
    "6-": "critical",
    "6+": "critical",
    "7": "critical",
}
_ISO6709 = re.compile(r"^([+-][0-9.]+)([+-][0-9.]+)([+-][0-9.]+)?/$")


def _angle(raw: str, degree_digits: int, field: str) -> float:
    """One ISO 6709 angle: ±D.D, ±DDMM.M or ±DDMMSS.S (D has 2 digits for latitude, 3 for
    longitude)."""
    whole = raw[1:].split(".", 1)[0]
    try:
        if len(whole) == degree_digits:
            value = float(raw[1:])
        elif len(whole) == degree_digits + 2:
            value = int(whole[:degree_digits]) + float(raw[1 + degree_digits :]) / 60
        elif len(whole) == degree_digits + 4:
            degrees, minutes = int(whole[:degree_digits]), int(whole[degree_digits:-2])
            value = degrees + minutes / 60 + float(raw[3 + degree_digits :]) / 3600
        else:
            raise ValueError
    except ValueError:
        raise RecordError(f"{field}: {raw!r} is not an ISO 6709 angle") from None
    return round(-value if raw.startswith("-") else value, 6)


def hypocentre(raw: str | None) -> tuple[float, float, float | None] | None:
    """``(longitude, latitude, depth in km)`` from an ISO 6709 Coordinate; None when JMA
    left it empty (hypocentre unknown)."""
    if raw is None or not raw.strip():
        return None
    match = _ISO6709.match(raw.strip())
    if match is None:
        raise RecordError(f"Coordinate {raw!r} is not an ISO 6709 point")
    lat = _angle(match.group(1), 2, "Coordinate latitude")
    lon = _angle(match.group(2), 3, "Coordinate longitude")
    lon, lat = lon_lat(lon, lat, "Coordinate")
    height = match.group(3)
    depth = None
    if height is not None:
        metres = number(height, "Coordinate depth")
        depth = None if metres is None else -metres / 1000 + 0.0
    return lon, lat, depth


def _magnitude(element: Element | None) -> dict[str, Any]:
    """Magnitude facts; JMA sends ``NaN`` with a description (``Ｍ８を超える巨大地震``) when the
    value is not determined."""
    if element is None:
        return {}
    raw = text(element)
    value = None if raw is None or raw.lower() == "nan" else number(raw, "Magnitude")
    facts = {"magnitude": value, "magnitudeType": element.get("type")}
    if value is None:
        facts["magnitudeDescription"] = element.get("description") or None
    return {key: value for key, value in facts.items() if value is not None}


def earthquake_facts(body: Element | None) -> tuple[dict[str, Any], Any]:
    """The Earthquake element's facts for ``data`` and its hypocentre as a GeoProperty."""
    quake = find(body, "Earthquake")
    if quake is None:
        return {}, None
    area = find(quake, "Hypocenter", "Area")
    position = hypocentre(text(area, "Coordinate"))
    facts: dict[str, Any] = {
        "originTime": aware_time(text(quake, "OriginTime"), "OriginTime"),
        "epicentreName": text(area, "Name"),
        "epicentreCode": text(area, "Code"),
        "depth": position[2] if position else None,
    }
    facts |= _magnitude(find(quake, "Magnitude"))
    location = point(position[0], position[1]) if position else None
    return {key: value for key, value in facts.items() if value is not None}, location


def _max_int(raw: str | None, field: str) -> str | None:
    if raw is None:
        return None
    if raw not in INTENSITY_SEVERITY:
        raise RecordError(f"{field}: {raw!r} is not a JMA seismic intensity")
    return raw


def _intensities(observation: Element | None) -> dict[str, list[dict[str, Any]]]:
    """Maximum intensity per prefecture, per area (細分区域) and per municipality."""
    levels = {
        "prefectures": ("Pref",),
        "areas": ("Pref", "Area"),
        "cities": ("Pref", "Area", "City"),
    }
    found: dict[str, list[dict[str, Any]]] = {}
    for key, path in levels.items():
        rows = []
        for place in find_all(observation, *path):
            row = {
                "code": text(place, "Code"),
                "name": text(place, "Name"),
                "maxInt": _max_int(text(place, "MaxInt"), f"{path[-1]}/MaxInt"),
                "condition": text(place, "Condition"),
            }
            rows.append({name: value for name, value in row.items() if value is not None})
        if rows:
            found[key] = rows
    return found


def _comments(body: Element | None) -> list[str]:
    comments = find(body, "Comments")
    return [t for part in (comments if comments is not None else []) if (t := text(part, "Text"))]


def _event(telegram: Telegram) -> str:
    if telegram.event_id is None:
        raise RecordError("Head/EventID is missing")
    return telegram.event_id


def quake(telegram: Telegram) -> list[Item]:
    """VXSE51/52/53: one Alert for the earthquake."""
    return map_records([("Report", telegram.root)], lambda _: _quake(telegram), raw=xml_text)


def _quake(telegram: Telegram) -> Entity:
    event = _event(telegram)
    facts, location = earthquake_facts(telegram.body)
    observation = find(telegram.body, "Intensity", "Observation")
    max_int = _max_int(text(observation, "MaxInt"), "Observation/MaxInt")
    data: dict[str, Any] = {"eventId": event, "serial": telegram.serial}
    data |= {"infoType": telegram.info_type, **facts, "maxInt": max_int}
    data["intensity"] = _intensities(observation) or None
    data["comments"] = _comments(telegram.body) or None
    cancelled = telegram.cancelled
    return alert(
        telegram,
        f"urn:ngsi-ld:Alert:JMA:quake:{urn_part(event)}",
        category="naturalDisaster",
        sub_category="earthquake",
        severity=INTENSITY_SEVERITY.get(max_int or ""),
        name=telegram.head_title,
        area=facts.get("epicentreName"),
        valid_from=None if cancelled else facts.get("originTime") or telegram.target_time,
        valid_to=telegram.report_time if cancelled else None,
        data=data,
        location=location,
    )


def eew(telegram: Telegram) -> list[Item]:
    """VXSE43 Earthquake Early Warning: one critical Alert naming the warned areas."""
    return map_records([("Report", telegram.root)], lambda _: _eew(telegram), raw=xml_text)


def _forecast_int(element: Element | None) -> dict[str, str] | None:
    bounds = {"from": text(element, "From"), "to": text(element, "To")}
    present = {key: value for key, value in bounds.items() if value is not None}
    return present or None


def _eew(telegram: Telegram) -> Entity:
    event = _event(telegram)
    facts, location = earthquake_facts(telegram.body)
    forecast = find(telegram.body, "Intensity", "Forecast")
    areas: list[dict[str, Any]] = []
    for area in find_all(forecast, "Pref", "Area"):
        row = {
            "code": text(area, "Code"),
            "name": text(area, "Name"),
            "kindCode": text(area, "Category", "Kind", "Code"),
            "forecastInt": _forecast_int(find(area, "ForecastInt")),
            "condition": text(area, "Condition"),
        }
        areas.append({key: value for key, value in row.items() if value is not None})
    names = list(dict.fromkeys(name for area in areas if isinstance(name := area.get("name"), str)))
    data: dict[str, Any] = {"eventId": event, "serial": telegram.serial}
    data |= {"infoType": telegram.info_type, **facts}
    data |= {"forecastInt": _forecast_int(find(forecast, "ForecastInt")), "areas": areas or None}
    warning = " ".join(
        t
        for comment in children(find(telegram.body, "Comments"), "WarningComment")
        if (t := text(comment, "Text"))
    )
    cancelled = telegram.cancelled
    return alert(
        telegram,
        f"urn:ngsi-ld:Alert:JMA:eew:{urn_part(event)}",
        category="naturalDisaster",
        sub_category="earthquake",
        severity="critical",
        name=telegram.head_title,
        area="、".join(names) or None,
        valid_from=None if cancelled else facts.get("originTime") or telegram.target_time,
        valid_to=telegram.report_time if cancelled else None,
        data=data,
        description=warning or None,
        location=location,
    )
