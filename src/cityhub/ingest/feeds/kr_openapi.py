"""Conventions shared by the Korean open-data APIs (CATALOG §1–§3, §10, §11).

* Seoul's ``openapi.seoul.go.kr:8088`` puts the key in the path and answers JSON or XML with
  a ``RESULT`` envelope whose key spelling differs between services (``CODE`` or
  ``RESULT.CODE``). In its XML every list is wrapped twice (``<PRK_STTS><PRK_STTS>…``), and a
  list may share its wrapper with other members (``<ROAD_TRAFFIC_STTS>`` holds
  ``<AVG_ROAD_DATA>`` and the link rows), so :func:`decode` turns both shapes into the same
  dicts and lists as the JSON form.
* ``apis.data.go.kr`` and ``safetydata.go.kr`` take a ``serviceKey`` query parameter; portals
  hand out the key both percent-encoded and plain, so :func:`service_key` undoes the encoding
  (httpx encodes it once again).
* Times are local (KST) without an offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError, tostring

import orjson
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from cityhub.ingest.feeds.fetch import Fetched, Fetcher, FetchError, masked
from cityhub.ingest.feeds.records import Item, RecordError, Rejected, raw_text
from cityhub.ingest.feeds.values import KST, iso, local_time, text

SEOUL_BASE_URL = "http://openapi.seoul.go.kr:8088"
SEOUL_PROVIDER = "Seoul Open Data Plaza (data.seoul.go.kr)"
SEOUL_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M", "%Y%m%d %H%M")
RAW_LIMIT = 4096  # characters of a payload kept in a whole-payload dead letter


class XmlRecord(dict[str, Any]):
    """A record read from XML; ``xml`` keeps its own XML text for a dead letter."""

    xml: str = ""


class PayloadError(ValueError):
    """The payload as a whole cannot be read (not JSON/XML, or an error envelope)."""


def record_raw(record: Any) -> str:
    """Raw text of a record for :class:`Rejected`: its XML when it came as XML."""
    if isinstance(record, XmlRecord) and record.xml:
        return record.xml
    return raw_text(record)


def payload_rejected(reason: str, payload: bytes) -> Rejected:
    return Rejected(reason, payload[:RAW_LIMIT].decode("utf-8", errors="replace"), "payload")


def decode(payload: bytes) -> dict[str, Any]:
    """A JSON or XML payload (told apart by its first non-blank byte) as dicts and lists.

    XML becomes ``{root tag: content}`` (a ``<Map>`` root is looked through), e.g.
    ``<GetParkingInfo><row>…</row></GetParkingInfo>`` → ``{"GetParkingInfo": {"row": {…}}}``.
    """
    body = payload.lstrip()
    if not body:
        raise PayloadError("The payload is empty")
    if body[:1] == b"<":
        try:
            root = fromstring(body)
        except (ParseError, DefusedXmlException) as exc:
            raise PayloadError(f"The payload is not well-formed XML: {exc}") from None
        if root.tag == "Map" and len(root) == 1:
            root = root[0]
        return {root.tag: _xml_value(root)}
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"The payload is neither JSON nor XML: {exc}") from None
    if not isinstance(decoded, dict):
        raise PayloadError("The payload is not a JSON object")
    return decoded


class _Repeated(list[Any]):
    """Values of an element that occurs more than once inside the same parent."""


def _xml_value(element: Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    items = [child for child in children if child.tag == element.tag]
    if len(items) == len(children):  # <X><X>…</X><X>…</X></X>: a list
        return [_xml_value(child) for child in children]
    record = XmlRecord()
    record.xml = tostring(element, encoding="unicode")
    for child in children:
        value = _xml_value(child)
        if child.tag == element.tag:  # list rows beside other members, wrapped or not
            listed = record.setdefault(child.tag, [])
            if isinstance(value, list):
                listed.extend(value)
            else:
                listed.append(value)
        elif child.tag in record:  # a repeated element (<row>…</row><row>…</row>)
            previous = record[child.tag]
            if isinstance(previous, _Repeated):
                previous.append(value)
            else:
                record[child.tag] = _Repeated([previous, value])
        else:
            record[child.tag] = value
    return record


def rows(value: Any) -> list[Any]:
    """A list member as a list whatever its shape: a list, one record, ``""`` or null (an
    empty XML list), or ``{"item": …}`` (data.go.kr)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and set(value) == {"item"}:
        return rows(value["item"])
    return [value]


def quiet_text(raw: Any) -> str | None:
    """Text, or None for anything else: for values that only help (an area's name, a code
    counted before the records are mapped), never a reason to reject."""
    try:
        return text(raw, "")
    except RecordError:
        return None


def seoul_result(envelope: Any) -> tuple[str, str] | None:
    """(code, message) of a Seoul ``RESULT`` member, under either spelling, or None."""
    result = envelope.get("RESULT") if isinstance(envelope, dict) else None
    if not isinstance(result, dict):
        return None
    code = quiet_text(result.get("CODE")) or quiet_text(result.get("RESULT.CODE"))
    message = quiet_text(result.get("MESSAGE")) or quiet_text(result.get("RESULT.MESSAGE"))
    return None if code is None else (code, message or "no message")


def gateway_error(document: dict[str, Any]) -> str | None:
    """The reason in a data.go.kr gateway refusal (``<OpenAPI_ServiceResponse>``, sent as XML
    even when JSON was asked for: unregistered key, quota exceeded…), else None."""
    refusal = document.get("OpenAPI_ServiceResponse")
    if refusal is None:
        return None
    header = refusal.get("cmmMsgHeader") if isinstance(refusal, dict) else None
    if not isinstance(header, dict):
        return "The API gateway refused the request"
    parts = [header.get(key) for key in ("returnReasonCode", "returnAuthMsg", "errMsg")]
    detail = " ".join(str(part).strip() for part in parts if part)
    return f"The API gateway refused the request: {detail or 'no reason given'}"


def seoul_time(raw: Any, field: str) -> str | None:
    """A Seoul local time (``2026-08-11 18:00``, ``202608111900``…) as ISO 8601 +09:00."""
    return local_time(raw, field, SEOUL_TIME_FORMATS, KST)


def cycle_start(moment: datetime, minutes: int) -> str:
    """``moment`` rounded down to the feed's update cycle, in KST (for payloads without
    any time: a refetch within one cycle then maps to identical entities)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(KST)
    floored = local - timedelta(
        minutes=local.minute % minutes, seconds=local.second, microseconds=local.microsecond
    )
    return iso(floored)


def service_key(key: str) -> str:
    """A data.go.kr service key in plain form (the portal also shows it percent-encoded)."""
    return unquote(key) if "%" in key else key


async def fetch_data_go_kr(
    fetcher: Fetcher, url: str, params: dict[str, Any], api_key: str
) -> Fetched | None:
    """One GET of a data.go.kr / safetydata.go.kr API with its service key in ``params``;
    the key (in either form) is masked in any error; None when the answer is unchanged."""
    try:
        return await fetcher.get(url, params=params)
    except FetchError as exc:
        raise FetchError(masked(str(exc), (api_key, service_key(api_key)))) from None


def gateway_document(payload: bytes) -> dict[str, Any] | Rejected:
    """A data.go.kr payload decoded (JSON or XML), or the Rejected saying why it is not a
    usable answer (unreadable, or a gateway refusal)."""
    try:
        document = decode(payload)
    except PayloadError as exc:
        return payload_rejected(str(exc), payload)
    problem = gateway_error(document)
    if problem is not None:
        return payload_rejected(problem, payload)
    return document


async def fetch_each(
    fetcher: Fetcher,
    requests: Iterable[tuple[str, str, dict[str, Any] | None]],
    secrets: tuple[str, ...],
) -> tuple[list[tuple[str, Fetched]], list[Item]]:
    """Fetch several URLs of one feed ((label, url, params) each). A failure of some becomes
    a Rejected naming the label so the others still count; when every one fails the feed
    cannot be fetched and FetchError is raised. Unchanged answers (304) are left out."""
    fetched: list[tuple[str, Fetched]] = []
    failures: list[Item] = []
    attempted = 0
    last: FetchError | None = None
    for label, url, params in requests:
        attempted += 1
        try:
            answer = await fetcher.get(url, params=params)
        except FetchError as exc:
            last = exc
            reason = masked(str(exc), secrets)
            failures.append(Rejected(f"{label} cannot be fetched: {reason}", "", label))
            continue
        if answer is not None:
            fetched.append((label, answer))
    if attempted and len(failures) == attempted and last is not None:
        raise FetchError(masked(str(last), secrets))
    return fetched, failures
