"""Reading one JMA disaster-prevention XML telegram (気象庁防災情報XML, CATALOG §5).

Every telegram has the same frame: ``Report/Control`` (telegram kind, UTC time, 通常/訓練/試験),
``Report/Head`` (report time with offset, EventID, InfoType 発表/訂正/取消, Serial, the Japanese
headline) and a ``Body`` whose namespace depends on the family (meteorology1, seismology1).
Elements are found by local name so one reader serves every family, and the common Alert
attributes (issuer, times, headline, provenance) are built here once for all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, tostring

from cityhub.ingest.feeds.ngsi import Attribute, date_time, entity, language, prop
from cityhub.ingest.feeds.records import RecordError
from cityhub.ingest.feeds.values import aware_time

DATA_PROVIDER = "出典：気象庁 Japan Meteorological Agency"
ISSUED = "通常"  # Control/Status of a real telegram; 訓練 (drill) and 試験 (test) are not
CANCELLED = "取消"  # Head/InfoType: the telegram withdraws an earlier one of the same event


def local(tag: Any) -> str:
    """An element's name without its namespace (``{http://…/seismology1/}Body`` → ``Body``)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(element: Element | None, name: str) -> list[Element]:
    if element is None:
        return []
    return [child for child in element if local(child.tag) == name]


def find(element: Element | None, *names: str) -> Element | None:
    """The first element down the path of local names, or None."""
    for name in names:
        if element is None:
            return None
        element = next((child for child in element if local(child.tag) == name), None)
    return element


def find_all(element: Element | None, *names: str) -> Iterator[Element]:
    """Every element at the end of the path of local names (each step may branch)."""
    level = [element] if element is not None else []
    for name in names:
        level = [child for parent in level for child in children(parent, name)]
    yield from level


def text(element: Element | None, *names: str) -> str | None:
    """The stripped text at the path, None when absent or blank."""
    found = find(element, *names) if names else element
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def xml_text(element: Element) -> str:
    """An element as XML text for a dead letter, with local names (``<Item>``, not
    ``<ns2:Item xmlns:ns2=…>``) so that operators read what JMA wrote."""
    plain = deepcopy(element)
    for node in plain.iter():
        node.tag = local(node.tag)
    return tostring(plain, encoding="unicode")


@dataclass(frozen=True)
class Telegram:
    """The Control and Head of one telegram, with the URL it was read from."""

    root: Element
    title: str  # Control/Title: the telegram kind, e.g. 震源・震度に関する情報
    status: str  # Control/Status: 通常, 訓練 or 試験
    publishing_office: str
    head_title: str | None
    report_time: str  # Head/ReportDateTime, ISO 8601 with +09:00
    target_time: str | None
    event_id: str | None
    info_type: str  # 発表, 訂正 or 取消
    serial: str | None
    headline: str | None
    source: str  # the telegram URL, "" for a saved sample

    @property
    def head(self) -> Element | None:
        return find(self.root, "Head")

    @property
    def body(self) -> Element | None:
        return find(self.root, "Body")

    @property
    def cancelled(self) -> bool:
        return self.info_type == CANCELLED


def read_telegram(root: Element, source: str = "") -> Telegram:
    """The frame of a ``Report``; RecordError when Control or Head lacks what every telegram has."""
    if local(root.tag) != "Report":
        raise RecordError(f"a JMA telegram starts with <Report>, not <{local(root.tag)}>")
    control = find(root, "Control")
    head = find(root, "Head")
    if control is None or head is None:
        raise RecordError("the telegram has no Control or Head")
    title = text(control, "Title")
    status = text(control, "Status")
    if title is None or status is None:
        raise RecordError("Control/Title or Control/Status is missing")
    report_time = aware_time(text(head, "ReportDateTime"), "Head/ReportDateTime")
    if report_time is None:
        raise RecordError("Head/ReportDateTime is missing")
    return Telegram(
        root=root,
        title=title,
        status=status,
        publishing_office=text(control, "PublishingOffice") or "気象庁",
        head_title=text(head, "Title"),
        report_time=report_time,
        target_time=aware_time(text(head, "TargetDateTime"), "Head/TargetDateTime"),
        event_id=text(head, "EventID"),
        info_type=text(head, "InfoType") or "発表",
        serial=text(head, "Serial"),
        headline=text(head, "Headline", "Text"),
        source=source,
    )


def alert(
    telegram: Telegram,
    entity_id: str,
    *,
    category: str,
    sub_category: str | None,
    severity: str | None,
    name: str | None,
    area: str | None,
    valid_from: str | None,
    valid_to: str | None,
    data: dict[str, Any],
    description: str | None = None,
    location: Attribute | None = None,
) -> dict[str, Any]:
    """An Alert (dataModel.Alert) carrying what every JMA telegram says about itself.

    ``alertSource`` is the telegram URL, or the publishing office when a saved sample is
    replayed without one (the Alert schema requires it). ``description`` defaults to the
    Japanese headline; JMA publishes no other language.
    """
    return entity(
        entity_id,
        "Alert",
        category=prop(category),
        subCategory=prop(sub_category),
        severity=prop(severity),
        name=language({"ja": name}),
        description=language({"ja": description or telegram.headline}),
        dateIssued=date_time(telegram.report_time),
        validFrom=date_time(valid_from),
        validTo=date_time(valid_to),
        location=location,
        areaServed=language({"ja": area}),
        alertSource=prop(telegram.source or telegram.publishing_office),
        data=prop({key: value for key, value in data.items() if value is not None}),
        dataProvider=prop(DATA_PROVIDER),
        source=prop(telegram.source or None),
    )
