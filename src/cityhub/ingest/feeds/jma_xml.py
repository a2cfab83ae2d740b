"""Adapter ``jma-xml``: JMA disaster-prevention XML telegrams (気象庁防災情報XML) as Alerts.

JMA publishes Atom feeds (CATALOG §5: ``{base_url}/feed/{extra|eqvol|…}.xml``, updated every
minute) whose ``<entry><link href>`` each name one telegram. ``collect`` reads the feeds
(conditionally, through the Fetcher), fetches only the telegrams this adapter instance has not
seen yet — oldest first, so a later telegram of the same event is written last — and maps each
one. ``parse`` takes one telegram (an Atom document gives nothing: its links are followed by
``collect``) and dispatches on ``Control/Title`` to the warnings, quake or tsunami mapping.

Drills (訓練) and tests (試験) are dropped unless option ``include_drills`` is true: most
official samples are drills, and a drill shown as a real tsunami warning would be harmful.

Options: ``base_url`` (default the JMA endpoint), ``feeds`` (default ``["extra", "eqvol"]``),
``offices`` (publishing office codes in the telegram URL, e.g. ``["130000"]``), ``types``
(telegram type codes, e.g. ``["VPWW53", "VXSE53"]``), ``include_drills``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml.ElementTree import fromstring

from cityhub.ingest.feeds import jma_quakes, jma_tsunami, jma_warnings
from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.jma_telegram import ISSUED, Telegram, local, read_telegram
from cityhub.ingest.feeds.records import Item, RecordError, Rejected, raw_text

BASE_URL = "https://www.data.jma.go.jp/developer/xml"
ATOM = "{http://www.w3.org/2005/Atom}"
# 20210217140958_0_VXSE53_010000.xml: time, serial, telegram type, publishing office
_TELEGRAM_NAME = re.compile(r"_([A-Z]{4}[0-9]{2})_([0-9]{6})\.xml$")
_R06_WARNINGS = "気象警報・注意報（Ｒ０６）"  # VPWW55–59, one telegram per phenomenon

Mapping = Callable[[Telegram], list[Item]]
BY_TITLE: dict[str, Mapping] = {
    "気象特別警報・警報・注意報": jma_warnings.warnings,  # VPWW53
    "気象警報・注意報（Ｈ２７）": jma_warnings.warnings,  # VPWW54
    "土砂災害警戒情報": jma_warnings.landslide,  # VXWW50
    "記録的短時間大雨情報": jma_warnings.record_rain,  # VPOA50
    "震度速報": jma_quakes.quake,  # VXSE51
    "震源に関する情報": jma_quakes.quake,  # VXSE52
    "震源・震度に関する情報": jma_quakes.quake,  # VXSE53
    "緊急地震速報（警報）": jma_quakes.eew,  # VXSE43
    "津波警報・注意報・予報a": jma_tsunami.tsunami,  # VTSE41
}


def mapping_of(title: str) -> Mapping | None:
    """The mapping for a telegram kind (Control/Title), None for kinds not mapped."""
    if title.startswith(_R06_WARNINGS):
        return jma_warnings.warnings
    return BY_TITLE.get(title)


def _xml(payload: bytes) -> Element:
    root: Element = fromstring(payload)
    return root


def parse_telegram(payload: bytes, source: str = "", *, include_drills: bool = False) -> list[Item]:
    """Entities and rejections from one telegram; [] for an Atom document, a drill or test
    (unless ``include_drills``) and a telegram kind that is not mapped."""
    try:
        root = _xml(payload)
    except (ParseError, ValueError) as exc:  # defusedxml refusals are ValueErrors
        return [
            Rejected(f"The payload is not well-formed XML: {exc}", raw_text(payload), "payload")
        ]
    if root.tag == ATOM + "feed":
        return []
    try:
        telegram = read_telegram(root, source)
    except RecordError as exc:
        return [Rejected(str(exc), raw_text(payload), "payload")]
    if telegram.status != ISSUED and not include_drills:
        return []
    mapping = mapping_of(telegram.title)
    return mapping(telegram) if mapping is not None else []


def atom_links(payload: bytes) -> list[str]:
    """The telegram URLs of an Atom feed, in document order (newest first at JMA)."""
    root = _xml(payload)
    if root.tag != ATOM + "feed":
        raise ValueError(f"the document is <{local(root.tag)}>, not an Atom feed")
    return [
        href
        for entry in root.iter(ATOM + "entry")
        for link in entry.iter(ATOM + "link")
        if (href := (link.get("href") or "").strip())
    ]


@register
class JmaXmlAdapter(FeedAdapter):
    """JMA warnings, earthquake, EEW and tsunami telegrams (CATALOG §5) → Alert."""

    name = "jma-xml"
    title = "Japan Meteorological Agency disaster XML (warnings, earthquakes, tsunami) → Alert"
    default_tenant = "tokyo"

    def __init__(self, options: dict[str, Any] | None = None, api_key: str = "") -> None:
        super().__init__(options, api_key)
        self._seen: dict[str, set[str]] = {}  # feed name → telegram URLs already handled

    @property
    def include_drills(self) -> bool:
        return bool(self.options.get("include_drills", False))

    def wanted(self, href: str) -> bool:
        """Whether a telegram URL passes the ``types`` and ``offices`` options."""
        types = self.options.get("types")
        offices = self.options.get("offices")
        if not types and not offices:
            return True
        match = _TELEGRAM_NAME.search(href)
        if match is None:
            return False
        return (not types or match.group(1) in types) and (not offices or match.group(2) in offices)

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        base = str(self.options.get("base_url", BASE_URL)).rstrip("/")
        items: list[Item] = []
        for feed in self.options.get("feeds", ["extra", "eqvol"]):
            url = f"{base}/feed/{feed}.xml"
            fetched = await fetcher.get(url)
            if fetched is None:  # unchanged since the last run
                continue
            try:
                links = atom_links(fetched.body)
            except (ParseError, ValueError) as exc:
                reason = f"The Atom feed {feed} cannot be read: {exc}"
                items.append(Rejected(reason, raw_text(fetched.body), url))
                continue
            seen = self._seen.get(feed, set())
            handled: set[str] = set()
            for href in reversed(links):
                if href in seen:
                    handled.add(href)
                    continue
                if not self.wanted(href):
                    continue
                try:
                    telegram = await fetcher.get(href, conditional=False)
                except FetchError as exc:  # tried again on the next run while still listed
                    items.append(Rejected(str(exc), "", href))
                    continue
                handled.add(href)
                if telegram is not None:
                    items.extend(
                        self.parse(telegram.body, fetched_at=telegram.fetched_at, source=href)
                    )
            self._seen[feed] = handled  # only what the feed still lists: memory stays bounded
        return items

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        """One telegram; ``source`` is its URL (``alertSource``), empty for a saved sample."""
        url = source if source.startswith(("http://", "https://")) else ""
        return parse_telegram(payload, url, include_drills=self.include_drills)
