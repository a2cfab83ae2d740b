"""GTFS-Realtime feeds → Alert and Vehicle (CATALOG §14).

A feed is one protobuf ``FeedMessage`` (binary over HTTP GET; the protobuf text format of the
specification's examples is accepted too, so saved samples replay). Per ``FeedEntity``:

* ``alert`` → **Alert** ``urn:ngsi-ld:Alert:{agency}:{entity id}``: ``category`` "traffic";
  ``subCategory`` only where a cause or effect has an SDM counterpart (ACCIDENT →
  carAccident, CONSTRUCTION/MAINTENANCE → roadWorks, SIGNIFICANT_DELAYS → trafficJam), the
  cause and effect always in ``data``; ``severity`` from ``severity_level`` (UNKNOWN/INFO →
  informational, WARNING → medium, SEVERE → high); ``name``/``description`` from
  ``header_text``/``description_text`` translations; ``validFrom``/``validTo`` = the
  earliest start and latest end of the ``active_period``s (none when one is open-ended), all
  periods and the ``informed_entity`` selectors in ``data`` (GTFS field names); ``dateIssued``
  = the header timestamp (an alert has no issue time of its own; without one, the earliest
  start). A deleted alert (``is_deleted``, incremental feeds) keeps its entity: a partial
  entity with ``validTo`` = the header time is merged into it.
* ``vehicle`` → **Vehicle** ``urn:ngsi-ld:Vehicle:{agency}:{vehicle.id or entity id}``:
  ``location``, ``speed`` (m/s → km/h, unitCode KMH, as the SDM defines it), ``bearing``
  and ``heading`` (DD; ``heading`` −1 when stopped, per the SDM), ``vehicleType`` (option,
  default "bus"), ``category`` ["public", "tracked"], ``observationDateTime`` and every
  ``observedAt`` from the vehicle's timestamp (else the header's); trip, route, stop,
  status and occupancy in ``data``. A position is required (SDM): without one, Rejected.
* ``trip_update`` (and shapes, stops, trip modifications) are not mapped: skipped.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from google.protobuf import text_format
from google.protobuf.message import DecodeError, Message
from google.transit import gtfs_realtime_pb2 as rt

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.language_tags import language_texts
from cityhub.ingest.feeds.ngsi import date_time, entity, language, point, prop, urn_part
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records
from cityhub.ingest.feeds.values import epoch_time, lon_lat, number

log = logging.getLogger(__name__)

SUB_CATEGORY_OF_CAUSE = {
    "ACCIDENT": "carAccident",
    "CONSTRUCTION": "roadWorks",
    "MAINTENANCE": "roadWorks",
}
SUB_CATEGORY_OF_EFFECT = {"SIGNIFICANT_DELAYS": "trafficJam"}
SEVERITY_OF_LEVEL = {
    "UNKNOWN_SEVERITY": "informational",
    "INFO": "informational",
    "WARNING": "medium",
    "SEVERE": "high",
}


def _is_text(payload: bytes) -> bool:
    """Whether a payload is protobuf text format: its start is printable text (a binary
    FeedMessage starts with field tags and lengths, control bytes)."""
    head = payload[:1024].decode("utf-8", errors="ignore")
    return bool(head.strip()) and all(c.isprintable() or c in "\t\r\n" for c in head)


def feed_message(payload: bytes) -> rt.FeedMessage:
    """The FeedMessage of a binary or text-format payload; RecordError when it is neither."""
    message = rt.FeedMessage()
    try:
        if _is_text(payload):
            text_format.Parse(payload.decode("utf-8"), message, allow_unknown_field=True)
        else:
            message.ParseFromString(payload)
    except (DecodeError, text_format.ParseError, UnicodeDecodeError) as exc:
        raise RecordError(f"The payload is not a GTFS-Realtime FeedMessage: {exc}") from None
    if not message.HasField("header") or not message.header.gtfs_realtime_version:
        raise RecordError("The FeedMessage has no header with gtfs_realtime_version")
    return message


def shortest(value: float) -> float:
    """A protobuf ``float`` (32 bits) as the shortest decimal that reads back to it, so
    35.6895 stays 35.6895 instead of 35.68949890136719."""
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(6, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == single:
            return candidate
    return value


def _enum_name(message: Message, field: str) -> str | None:
    if not message.HasField(field):
        return None
    descriptor = message.DESCRIPTOR.fields_by_name[field].enum_type
    return str(descriptor.values_by_number[getattr(message, field)].name)


def _fields(message: Message) -> dict[str, Any]:
    """The set scalar fields of a small message (TripDescriptor, EntitySelector) by name."""
    found: dict[str, Any] = {}
    for field, value in message.ListFields():
        if field.message_type is not None:
            found[field.name] = _fields(value)
        elif field.enum_type is not None:
            found[field.name] = field.enum_type.values_by_number[value].name
        else:
            found[field.name] = value
    return found


@register
class GtfsRealtime(FeedAdapter):
    """A GTFS-Realtime feed (alerts and vehicle positions). Options: ``url`` (the feed),
    ``agency`` (id prefix, default "GTFS-RT"), ``languages`` (tags in order of preference;
    the first is given to translations without a language, default ["en"]),
    ``vehicle_type`` (SDM vehicleType, default "bus"), ``data_provider`` (attribution)."""

    name = "gtfs-rt"
    title = "GTFS-Realtime feed: service alerts and vehicle positions"
    default_tenant = ""

    def __init__(self, options: dict[str, Any] | None = None, api_key: str = "") -> None:
        super().__init__(options, api_key)
        self.agency = urn_part(str(self.options.get("agency") or "GTFS-RT"))
        languages = self.options.get("languages") or ["en"]
        if isinstance(languages, str):
            languages = [t.strip() for t in languages.split(",") if t.strip()]
        self.languages: list[str] = list(languages)
        self.provider = str(
            self.options.get("data_provider") or f"GTFS-Realtime feed of {self.agency}"
        )

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        url = self.options.get("url") or self.options.get("base_url")
        if not url:
            raise FetchError("The gtfs-rt feed needs the option url")
        fetched = await fetcher.get(str(url))
        if fetched is None:
            return []
        return self.parse(fetched.body, fetched_at=fetched.fetched_at, source=fetched.url)

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        try:
            message = feed_message(payload)
        except RecordError as exc:
            raw = payload.decode("utf-8", errors="replace")[:2000]
            return [Rejected(str(exc), raw, "payload")]
        issued = epoch_time(message.header.timestamp or None, "header.timestamp")
        feed = source or str(self.options.get("url") or "") or None
        mapper = _Mapper(self, issued, feed)
        items = map_records(
            ((f"entity[{i}]", e) for i, e in enumerate(message.entity)),
            mapper.build,
            raw=lambda e: text_format.MessageToString(e, as_utf8=True),
        )
        if mapper.skipped:
            log.debug("gtfs-rt %s: %d entities not mapped (trip updates …)", feed, mapper.skipped)
        return items


class _Mapper:
    def __init__(self, adapter: GtfsRealtime, issued: str | None, feed: str | None) -> None:
        self.adapter = adapter
        self.agency = adapter.agency
        self.issued = issued
        self.feed = feed
        self.skipped = 0

    def texts(self, translated: rt.TranslatedString) -> dict[str, str | None]:
        """A TranslatedString by normalised language tag, preferred languages first."""
        default = self.adapter.languages[0] if self.adapter.languages else "en"
        found = language_texts((t.language or default, t.text) for t in translated.translation)
        order = {tag: i for i, tag in enumerate(self.adapter.languages)}
        return dict(sorted(found.items(), key=lambda kv: order.get(kv[0], len(order))))

    def build(self, feed_entity: rt.FeedEntity) -> list[Entity] | None:
        if not feed_entity.id:
            raise RecordError("FeedEntity has no id")
        built = []
        if feed_entity.HasField("alert"):
            built.append(self.alert(feed_entity))
        if feed_entity.HasField("vehicle") and not feed_entity.is_deleted:
            built.append(self.vehicle(feed_entity))
        if not built:
            self.skipped += 1
            return None
        return built

    def alert(self, feed_entity: rt.FeedEntity) -> Entity:
        entity_id = f"urn:ngsi-ld:Alert:{self.agency}:{urn_part(feed_entity.id)}"
        source = prop(self.feed or self.agency)
        if feed_entity.is_deleted:  # merged into the stored alert: only the end is news
            return entity(
                entity_id,
                "Alert",
                validTo=date_time(self.issued),
                alertSource=source,
                dataProvider=prop(self.adapter.provider),
            )
        alert = feed_entity.alert
        cause, effect = _enum_name(alert, "cause"), _enum_name(alert, "effect")
        starts = [epoch_time(p.start, "start") for p in alert.active_period]
        ends = [epoch_time(p.end, "end") for p in alert.active_period]
        periods = [
            {k: v for k, v in (("start", start), ("end", end)) if v}
            for start, end in zip(starts, ends, strict=True)
        ]
        issued = self.issued or _earliest(starts)
        if issued is None:
            raise RecordError("neither the header nor an active_period gives a time to issue")
        data: dict[str, Any] = {
            "cause": cause or "UNKNOWN_CAUSE",
            "effect": effect or "UNKNOWN_EFFECT",
            "active_period": periods,
            "informed_entity": [_fields(s) for s in alert.informed_entity],
        }
        if url := self.texts(alert.url):
            data["url"] = url
        level = _enum_name(alert, "severity_level") or "UNKNOWN_SEVERITY"
        return entity(
            entity_id,
            "Alert",
            category=prop("traffic"),
            subCategory=prop(
                SUB_CATEGORY_OF_CAUSE.get(cause or "") or SUB_CATEGORY_OF_EFFECT.get(effect or "")
            ),
            severity=prop(SEVERITY_OF_LEVEL.get(level, "informational")),
            name=language(self.texts(alert.header_text)),
            description=language(self.texts(alert.description_text)),
            dateIssued=date_time(issued),
            validFrom=date_time(_earliest(starts)),
            validTo=date_time(None if not ends or None in ends else max(_present(ends))),
            alertSource=source,
            dataProvider=prop(self.adapter.provider),
            source=prop(self.feed),
            data=prop({k: v for k, v in data.items() if v}),
        )

    def vehicle(self, feed_entity: rt.FeedEntity) -> Entity:
        position = feed_entity.vehicle
        descriptor = position.vehicle
        local = descriptor.id or feed_entity.id
        if not position.HasField("position"):
            raise RecordError(f"VehiclePosition {local!r} has no position")
        where = position.position
        if not (where.HasField("latitude") and where.HasField("longitude")):
            raise RecordError(f"VehiclePosition {local!r} has no latitude/longitude")
        lon, lat = lon_lat(shortest(where.longitude), shortest(where.latitude), "position")
        observed = epoch_time(position.timestamp or None, "timestamp") or self.issued
        speed = number(shortest(where.speed), "speed") if where.HasField("speed") else None
        bearing = number(shortest(where.bearing), "bearing") if where.HasField("bearing") else None
        location = point(lon, lat)
        if observed:
            location["observedAt"] = observed
        data: dict[str, Any] = {}
        if position.HasField("trip"):
            data["trip"] = _fields(position.trip)
        for field in ("current_stop_sequence", "stop_id"):
            if position.HasField(field):
                data[field] = getattr(position, field)
        for field in ("current_status", "congestion_level", "occupancy_status"):
            if value := _enum_name(position, field):
                data[field] = value
        if position.HasField("occupancy_percentage"):
            data["occupancy_percentage"] = position.occupancy_percentage
        km_h = None if speed is None else round(speed * 3.6, 2)
        return entity(
            f"urn:ngsi-ld:Vehicle:{self.agency}:{urn_part(local)}",
            "Vehicle",
            vehicleType=prop(str(self.adapter.options.get("vehicle_type") or "bus")),
            category=prop(["public", "tracked"]),
            name=prop(descriptor.label or None),
            fleetVehicleId=prop(descriptor.id or None),
            vehiclePlateIdentifier=prop(descriptor.license_plate or None),
            location=location,
            speed=prop(km_h, unit="KMH", observed_at=observed),
            bearing=prop(bearing, unit="DD", observed_at=observed),
            heading=prop(
                None if bearing is None else (-1 if km_h == 0 else bearing),
                unit="DD",
                observed_at=observed,
            ),
            observationDateTime=date_time(observed),
            dataProvider=prop(self.adapter.provider),
            source=prop(self.feed),
            data=prop(data or None),
        )


def _present(values: Iterable[str | None]) -> list[str]:
    return [v for v in values if v is not None]


def _earliest(starts: list[str | None]) -> str | None:
    """The earliest start; none when a period starts open-ended (active since ever)."""
    if not starts or None in starts:
        return None
    return min(_present(starts))
