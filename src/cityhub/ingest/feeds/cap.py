"""OASIS Common Alerting Protocol 1.2 messages → Alert (CATALOG §13).

One ``<alert>`` gives one entity ``urn:ngsi-ld:Alert:CAP:{sender}:{identifier}``; its
``<info>`` blocks are translations of one another (CAP 1.2 §3.2.2), so their texts go into
one LanguageProperty per attribute, tagged by ``<language>`` without the region (``en-US`` →
``en``, ``es-US`` → ``es``) so that ``description[en]`` means the same for every feed; a
second variant of the same language (``en-GB`` after ``en-US``) keeps its full tag.

Choices the catalog leaves open:

* ``name`` ← ``headline`` (the "brief human-readable headline"; ``event`` when absent),
  ``subCategory`` ← ``event`` (English when given); ``areaServed`` ← ``areaDesc``; the
  geocodes, urgency, certainty, instruction, onset … go to ``data``.
* ``location``: every ``<polygon>`` of every area (deduplicated across the translations) as
  one Polygon or MultiPolygon — a point "in the warned area" must match any of them in a geoQ;
  with no polygon, the first ``<circle>`` as a Point with ``data.radius`` (km); other circles
  in ``data.circles``.
* ``msgType`` Cancel gives, for each alert named in ``references``, a partial entity of that
  alert: ``validTo`` = the time of the Cancel, ``dateIssued`` = the referenced ``sent`` and
  ``cancellation`` (who cancelled, when, the note); the runner merges it into the stored
  alert (upsert in update mode), which keeps its other attributes. An Update is an alert of
  its own (its own identifier) listing the ids it supersedes in ``data.supersedes``; the
  superseded alert is left as it is. Ack and Error messages are not alerts: skipped.
* ``status`` Exercise/Test/Draft/System are skipped unless the option ``include_tests``;
  ``scope`` other than Public is skipped unless listed in the option ``scopes``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.cap_area import area_geometry
from cityhub.ingest.feeds.cap_index import (
    ALERT_TAGS,
    INDEX_ROOTS,
    embedded_alerts,
    index_links,
    local_name,
)
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.language_tags import language_texts
from cityhub.ingest.feeds.ngsi import date_time, entity, geo, language, prop, urn_part
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records
from cityhub.ingest.feeds.values import aware_time

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")

# CAP info/category → SDM Alert category (CATALOG §13); the SDM enumeration has no place for
# fire, infrastructure, CBRNE or "other": they are public-safety matters, hence "security".
CATEGORIES = {
    "Met": "weather",
    "Geo": "naturalDisaster",
    "Transport": "traffic",
    "Env": "environment",
    "Health": "health",
    "Security": "security",
    "Safety": "security",
    "Rescue": "security",
    "Fire": "security",
    "Infra": "security",
    "CBRNE": "security",
    "Other": "security",
}
SEVERITIES = {
    "Extreme": "critical",
    "Severe": "high",
    "Moderate": "medium",
    "Minor": "low",
    "Unknown": "informational",
}
_RANK = ("informational", "low", "medium", "high", "critical")
_SENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d")  # the XSD's pattern


def alert_id(sender: str, identifier: str) -> str:
    return f"urn:ngsi-ld:Alert:CAP:{urn_part(sender)}:{urn_part(identifier)}"


class _Message:
    """Reads the members of one ``<alert>`` (in whichever CAP namespace it uses)."""

    def __init__(self, element: Element) -> None:
        self.element = element
        self.ns = element.tag[: element.tag.index("}") + 1] if "}" in element.tag else ""
        self.infos = element.findall(self.ns + "info")

    def translated(self, *tags: str) -> dict[str, str | None]:
        """Per <info> language, the first of ``tags`` that info has ("en-US" by default)."""
        return language_texts(
            (
                self.text(info, "language") or "en-US",
                next((value for tag in tags if (value := self.text(info, tag))), None),
            )
            for info in self.infos
        )

    def text(self, parent: Element, tag: str) -> str | None:
        found = parent.find(self.ns + tag)
        if found is None or found.text is None or not found.text.strip():
            return None
        return found.text.strip()

    def texts(self, parent: Element, tag: str) -> list[str]:
        return [e.text.strip() for e in parent.findall(self.ns + tag) if e.text and e.text.strip()]

    def pairs(self, parent: Element, tag: str) -> list[dict[str, str]]:
        """``eventCode``, ``geocode``, ``parameter``: lists of valueName/value pairs."""
        return [
            {"valueName": self.text(e, "valueName") or "", "value": self.text(e, "value") or ""}
            for e in parent.findall(self.ns + tag)
        ]

    def token(self, tag: str) -> str:
        """identifier and sender: required, without spaces, commas, ``<`` or ``&`` (§3.2.1)."""
        value = self.text(self.element, tag)
        if value is None:
            raise RecordError(f"{tag} is missing")
        if re.search(r"[\s,<&]", value):
            raise RecordError(f"{tag} {value!r} contains a space, comma, < or &")
        return value

    def choice(self, tag: str, allowed: tuple[str, ...]) -> str:
        value = self.text(self.element, tag)
        if value not in allowed:
            raise RecordError(f"{tag} {value!r} is not one of {', '.join(allowed)}")
        return value


def _sent(value: str | None, field: str = "sent") -> str:
    if value is None:
        raise RecordError(f"{field} is missing")
    if not _SENT.fullmatch(value):
        raise RecordError(f"{field} {value!r} is not in the CAP form YYYY-MM-DDThh:mm:ss±hh:mm")
    return aware_time(value, field) or value


def references(text: str | None) -> list[tuple[str, str, str]]:
    """The ``references`` member: whitespace-separated "sender,identifier,sent" triples."""
    triples = []
    for item in (text or "").split():
        parts = item.split(",")
        if len(parts) != 3 or not all(parts):
            raise RecordError(f"reference {item!r} is not sender,identifier,sent")
        triples.append((parts[0], parts[1], _sent(parts[2], "reference sent")))
    return triples


@register
class CapAlerts(FeedAdapter):
    """CAP 1.2 alert messages. Options: ``url`` (a CAP message, or an Atom/RSS index whose
    entries link to CAP messages — followed, at most ``max_entries``, default 50),
    ``include_tests`` (keep Exercise/Test/Draft/System), ``scopes`` (default ["Public"])."""

    name = "cap"
    title = "Common Alerting Protocol 1.2 messages (a CAP URL or an Atom/RSS index of them)"
    default_tenant = ""

    def __init__(self, options: dict[str, Any] | None = None, api_key: str = "") -> None:
        super().__init__(options, api_key)
        scopes = self.options.get("scopes") or ["Public"]
        if isinstance(scopes, str):
            scopes = scopes.split(",")
        self.scopes = {str(s).strip() for s in scopes}

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        url = self.options.get("url") or self.options.get("base_url")
        if not url:
            raise FetchError("The cap feed needs the option url")
        fetched = await fetcher.get(str(url))
        if fetched is None:
            return []
        items = self.parse(fetched.body, fetched_at=fetched.fetched_at, source=fetched.url)
        limit = int(self.options.get("max_entries", 50))
        for link in index_links(fetched.body, str(url))[:limit]:
            try:
                message = await fetcher.get(link)
            except FetchError as exc:
                items.append(Rejected(str(exc), link, "entry"))
                continue
            if message is not None:
                items.extend(
                    self.parse(message.body, fetched_at=message.fetched_at, source=message.url)
                )
        return items

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        try:
            root = fromstring(payload)
        except (ParseError, DefusedXmlException, ValueError) as exc:
            raw = payload.decode("utf-8", errors="replace")[:2000]
            return [Rejected(f"The payload is not well-formed XML: {exc}", raw, "payload")]
        if local_name(root.tag) == "alert":
            records = [("alert", root)]
        elif local_name(root.tag) in INDEX_ROOTS:
            records = [(f"alert[{i}]", e) for i, e in enumerate(embedded_alerts(root))]
        else:
            raw = payload.decode("utf-8", errors="replace")[:2000]
            reason = f"The payload is neither a CAP alert nor an Atom/RSS index (<{root.tag}>)"
            return [Rejected(reason, raw, "payload")]
        return map_records(
            records,
            lambda element: self._alert(element, source),
            raw=lambda element: _xml_text(element, payload if element is root else None),
        )

    def _alert(self, element: Element, source: str) -> Entity | list[Entity] | None:
        message = _Message(element)
        if element.tag not in ALERT_TAGS:
            raise RecordError(f"<{element.tag}> is not a CAP 1.2 alert")
        identifier, sender = message.token("identifier"), message.token("sender")
        sent = _sent(message.text(element, "sent"))
        status = message.choice("status", STATUSES)
        msg_type = message.choice("msgType", MSG_TYPES)
        scope = message.choice("scope", SCOPES)
        refs = references(message.text(element, "references"))
        if status != "Actual" and not self.options.get("include_tests"):
            return None
        if msg_type in ("Ack", "Error") or scope not in self.scopes:
            return None
        facts: dict[str, Any] = {"status": status, "msgType": msg_type, "scope": scope}
        for tag in ("source", "note", "incidents", "restriction"):
            if value := message.text(element, tag):
                facts[tag] = value
        if msg_type != "Cancel":
            if refs:
                facts["supersedes"] = [alert_id(s, i) for s, i, _ in refs]
            return self._entity(message, alert_id(sender, identifier), sender, sent, facts, source)
        if not refs:
            raise RecordError("a Cancel message names no alert in references")
        cancellation = {"sender": sender, "identifier": identifier, "sent": sent}
        if note := message.text(element, "note"):
            cancellation["note"] = note
        return [
            entity(
                alert_id(ref_sender, ref_identifier),
                "Alert",
                dateIssued=date_time(ref_sent),
                validTo=date_time(sent),
                alertSource=prop(ref_sender),
                cancellation=prop(cancellation),
                dataProvider=prop(_provider(message, sender)),
                source=prop(source or None),
            )
            for ref_sender, ref_identifier, ref_sent in refs
        ]

    def _entity(
        self,
        message: _Message,
        entity_id: str,
        sender: str,
        issued: str,
        facts: dict[str, Any],
        source: str,
    ) -> Entity:
        infos = message.infos
        described = "area/" + message.ns + "areaDesc"
        events = message.translated("event")
        areas = language_texts(
            (message.text(i, "language") or "en-US", "; ".join(message.texts(i, described)))
            for i in infos
        )
        data = dict(facts)
        first = infos[0] if infos else None
        category = severity = valid_from = valid_to = None
        if first is not None:
            kinds = message.texts(first, "category")
            if not kinds or any(k not in CATEGORIES for k in kinds):
                raise RecordError(f"info/category {kinds!r} is not a CAP 1.2 category")
            category = CATEGORIES[kinds[0]]
            data["capCategory"] = kinds
            ranks = []
            for info in infos:
                level = message.text(info, "severity")
                if level not in SEVERITIES:
                    raise RecordError(f"info/severity {level!r} is not a CAP 1.2 severity")
                ranks.append(_RANK.index(SEVERITIES[level]))
            severity = _RANK[max(ranks)]
            valid_from = aware_time(message.text(first, "effective"), "effective") or issued
            valid_to = aware_time(message.text(first, "expires"), "expires")
            data.update(self._info_facts(message, first, events))
        area = "area/" + message.ns
        location = area_geometry(
            [t for info in infos for t in message.texts(info, area + "polygon")],
            [t for info in infos for t in message.texts(info, area + "circle")],
            data,
        )
        return entity(
            entity_id,
            "Alert",
            category=prop(category),
            subCategory=prop(events.get("en") or next(iter(events.values()), None)),
            severity=prop(severity),
            name=language(message.translated("headline", "event")),
            description=language(message.translated("description", "headline")),
            dateIssued=date_time(issued),
            validFrom=date_time(valid_from),
            validTo=date_time(valid_to),
            location=geo(location),
            areaServed=language(areas),
            alertSource=prop(sender),
            dataProvider=prop(_provider(message, sender)),
            source=prop(source or None),
            data=prop(data),
        )

    def _info_facts(
        self,
        message: _Message,
        first: Element,
        events: dict[str, str | None],
    ) -> dict[str, Any]:
        facts: dict[str, Any] = {"event": events}
        for tag in ("urgency", "certainty", "onset", "web", "contact", "audience"):
            if value := message.text(first, tag):
                facts[tag] = aware_time(value, tag) if tag == "onset" else value
        if responses := message.texts(first, "responseType"):
            facts["responseType"] = responses
        if instruction := message.translated("instruction"):
            facts["instruction"] = instruction
        for tag, key in (
            ("eventCode", "eventCodes"),
            ("parameter", "parameters"),
            ("area/" + message.ns + "geocode", "geocodes"),
        ):
            if pairs := message.pairs(first, tag):
                facts[key] = pairs
        return facts


def _provider(message: _Message, sender: str) -> str:
    """The sender's name from the first <info> that gives one, with the sender id."""
    name = next((n for i in message.infos if (n := message.text(i, "senderName"))), None)
    return f"{name} ({sender})" if name else sender


def _xml_text(element: Element, payload: bytes | None) -> str:
    """A rejected alert as its author wrote it: the payload itself when the alert is the whole
    document, else the element with its namespace as the default (no ``ns0:`` prefixes)."""
    if payload is not None:
        return payload.decode("utf-8", errors="replace")
    namespace = element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""
    try:
        return tostring(element, encoding="unicode", default_namespace=namespace or None)
    except ValueError:  # an element outside the namespace (cannot be written unprefixed)
        return tostring(element, encoding="unicode")
