"""JMA tsunami warnings VTSE41 (津波警報・注意報・予報a) as Alerts (CATALOG §5).

One Alert per 津波予報区 item, ``urn:ngsi-ld:Alert:JMA:tsunami:{EventID}:{area code}``, severity
from the kind code (52/53 大津波警報 critical, 51 津波警報 high, 62 津波注意報 medium, 71–73
津波予報 low). Kind codes 00 (津波なし), 50 (警報解除) and 60 (注意報解除) mean the area's alert
is lifted: ``validTo`` = the report time, severity from ``LastKind``.

A 取消 telegram withdraws the event's earlier one and usually lists no area (the official
sample ``38-39_03_01_210805_VTSE41.xml`` has only a sentence), so the one thing the telegram
itself can say is an event-level Alert ``urn:ngsi-ld:Alert:JMA:tsunami:{EventID}`` with
``validTo``; ``data.cancels`` gives the id pattern of the per-area Alerts it withdraws.
Forecast heights are ``NaN`` with a description (``巨大``, ``高い``) while JMA has no figure.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from cityhub.ingest.feeds.jma_quakes import earthquake_facts
from cityhub.ingest.feeds.jma_telegram import (
    Telegram,
    alert,
    find,
    find_all,
    text,
    xml_text,
)
from cityhub.ingest.feeds.ngsi import urn_part
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records
from cityhub.ingest.feeds.values import aware_time, number

KIND_SEVERITY = {
    "52": "critical",
    "53": "critical",
    "51": "high",
    "62": "medium",
    "71": "low",
    "72": "low",
    "73": "low",
}
LIFTED_KINDS = {"00", "50", "60"}


def tsunami(telegram: Telegram) -> list[Item]:
    """VTSE41: one Alert per forecast area, or the event-level withdrawal of a 取消."""
    if telegram.event_id is None:
        return [Rejected("Head/EventID is missing", xml_text(telegram.root), "Head")]
    event = urn_part(telegram.event_id)
    forecast = list(find_all(telegram.body, "Tsunami", "Forecast", "Item"))
    if telegram.cancelled and not forecast:
        return [_withdrawal(telegram, event)]
    rejected: list[Item] = []
    try:
        quake, _ = earthquake_facts(telegram.body)
    except RecordError as exc:  # the cause is background: the warnings still go out
        quake = {}
        earthquake = find(telegram.body, "Earthquake")
        raw = xml_text(earthquake) if earthquake is not None else ""
        rejected.append(Rejected(f"Earthquake: {exc}", raw, "Body/Earthquake"))
    return rejected + map_records(
        ((f"Tsunami/Forecast/Item[{index}]", item) for index, item in enumerate(forecast)),
        lambda item: _area_alert(telegram, event, quake, item),
        raw=xml_text,
    )


def _height(item: Element) -> dict[str, Any] | None:
    height = find(item, "MaxHeight", "TsunamiHeight")
    if height is None:
        return None
    raw = text(height)
    value = None if raw is None or raw.lower() == "nan" else number(raw, "TsunamiHeight")
    facts = {
        "value": value,
        "unit": height.get("unit"),
        "description": height.get("description") or None,
        "condition": height.get("condition") or text(item, "MaxHeight", "Condition"),
    }
    return {key: value for key, value in facts.items() if value is not None} or None


def _area_alert(telegram: Telegram, event: str, quake: dict[str, Any], item: Element) -> Entity:
    area_code = text(item, "Area", "Code")
    if area_code is None or not area_code.isdigit():
        raise RecordError(f"Area/Code {area_code!r} is not a 津波予報区 code")
    kind_code = text(item, "Category", "Kind", "Code")
    if kind_code is None:
        raise RecordError("Category/Kind/Code is missing")
    last_code = text(item, "Category", "LastKind", "Code")
    lifted = kind_code in LIFTED_KINDS or telegram.cancelled
    severity = KIND_SEVERITY.get(kind_code) or KIND_SEVERITY.get(last_code or "")
    first = {
        "arrivalTime": aware_time(text(item, "FirstHeight", "ArrivalTime"), "ArrivalTime"),
        "condition": text(item, "FirstHeight", "Condition"),
    }
    data: dict[str, Any] = {
        "eventId": telegram.event_id,
        "areaCode": area_code,
        "kindCode": kind_code,
        "kindName": text(item, "Category", "Kind", "Name"),
        "lastKindCode": last_code,
        "lastKindName": text(item, "Category", "LastKind", "Name"),
        "firstHeight": {key: value for key, value in first.items() if value} or None,
        "maxHeight": _height(item),
        "earthquake": quake or None,
    }
    return alert(
        telegram,
        f"urn:ngsi-ld:Alert:JMA:tsunami:{event}:{area_code}",
        category="naturalDisaster",
        sub_category="tsunami",
        severity=severity,
        name=text(item, "Category", "Kind", "Name"),
        area=text(item, "Area", "Name"),
        valid_from=None if lifted else telegram.target_time or telegram.report_time,
        valid_to=telegram.report_time if lifted else None,
        data=data,
    )


def _withdrawal(telegram: Telegram, event: str) -> Entity:
    return alert(
        telegram,
        f"urn:ngsi-ld:Alert:JMA:tsunami:{event}",
        category="naturalDisaster",
        sub_category="tsunami",
        severity=None,
        name=telegram.head_title,
        area=None,
        valid_from=None,
        valid_to=telegram.report_time,
        data={
            "eventId": telegram.event_id,
            "infoType": telegram.info_type,
            "text": text(telegram.body, "Text"),
            "cancels": f"^urn:ngsi-ld:Alert:JMA:tsunami:{event}:",
        },
    )
