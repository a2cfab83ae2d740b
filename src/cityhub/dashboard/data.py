"""What the dashboard shows, read from the store through the services: layer features,
panel summaries, entity details, history and the comparison of cities (docs/dashboard.md).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from cityhub.dashboard import summary
from cityhub.dashboard.cities import cities_of
from cityhub.dashboard.i18n import data_preference
from cityhub.dashboard.layers import BY_ID, BY_TYPE, LAYERS, Layer, feature, properties
from cityhub.dashboard.reader import LOCATION, Reader
from cityhub.errors import BadRequestData, ResourceNotFound
from cityhub.federation.matching import type_names
from cityhub.hub import Hub
from cityhub.ingest.feeds.contexts import context_of
from cityhub.jsonld.termmap import TermMap
from cityhub.query.ast import EntityQuery
from cityhub.query.resolve import resolve_types
from cityhub.query.temporal import Aggregation, TemporalQuery, micros_of, parse_duration
from cityhub.query.types import parse_type_expression
from cityhub.services.tenants import require_tenant

PAGE = 1000
PERIODS = {
    "PT6H": (timedelta(hours=6), None),
    "P1D": (timedelta(days=1), "PT15M"),
    "P7D": (timedelta(days=7), "PT1H"),
}
SKIPPED = {"demoData", "dataProvider", "source", "name", "location"}
SUMMARY_LAYERS = ("hazards", "parking", "traffic", "air", "crowding", "weather")
SUMMARY_SECONDS = 15
CACHED_LAYERS = 64  # rendered layer answers kept (city × layer × language), least recent out


class LayerCache:
    """Rendered layer answers, each kept with the version of its entity types it was read
    at (store.types_version: count and latest modifiedAt) and served while that version
    holds. Checking costs one indexed aggregate; re-reading 10,000 entities costs a few
    hundred ms, and a map is opened far more often than a city's data changes completely.
    The version is read before the entities, so an answer is never kept under a version
    older than what it shows."""

    def __init__(self, size: int = CACHED_LAYERS) -> None:
        self.size = size
        self._answers: OrderedDict[tuple[str, str, str], tuple[tuple[int, str], bytes]] = (
            OrderedDict()
        )

    def get(self, key: tuple[str, str, str], version: tuple[int, str]) -> bytes | None:
        found = self._answers.get(key)
        if found is None or found[0] != version:
            return None
        self._answers.move_to_end(key)
        return found[1]

    def put(self, key: tuple[str, str, str], version: tuple[int, str], body: bytes) -> None:
        self._answers[key] = (version, body)
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


class DashboardData:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._tms: dict[tuple[str, ...], TermMap] = {}
        self._iris: dict[str, dict[str, str]] = {}
        self._layers = LayerCache()
        self._summaries: dict[
            tuple[str, str], tuple[tuple[tuple[int, str], ...], datetime, dict[str, Any]]
        ] = {}

    async def termmap(self, context: tuple[str, ...]) -> TermMap:
        tm = self._tms.get(context)
        if tm is None:
            tm = self._tms[context] = await self.hub.contexts.resolve(list(context))
        return tm

    def layer(self, layer_id: str) -> Layer:
        layer = BY_ID.get(layer_id)
        if layer is None:
            raise ResourceNotFound(f"No dashboard layer {layer_id!r}")
        return layer

    async def version(self, tenant: str, layer: Layer) -> tuple[int, str]:
        """The version of the layer's entities in the city (store.types_version)."""
        tm = await self.termmap(layer.context)
        types = resolve_types(parse_type_expression(",".join(layer.types)), tm)
        return await self.hub.store.types_version(tenant, sorted(type_names(types) or ()))

    async def readers(self, tenant: str, layer: Layer) -> list[Reader]:
        """Every entity of the layer's types in the city, page by page."""
        await require_tenant(self.hub.store, tenant)
        tm = await self.termmap(layer.context)
        types = resolve_types(parse_type_expression(",".join(layer.types)), tm)
        iris = self._iris.setdefault(layer.id, {})
        readers: list[Reader] = []
        offset = 0
        while True:
            page = await self.hub.store.query_entities(
                tenant, EntityQuery(types=types, limit=PAGE, offset=offset)
            )
            readers.extend(Reader(entity, tm, iris) for entity in page.entities)
            if not page.more:
                return readers
            offset += PAGE

    async def features(self, tenant: str, layer_id: str, language: str) -> bytes:
        """The layer's features in the city as GeoJSON bytes, from the cache while the
        layer's entities are unchanged."""
        layer = self.layer(layer_id)
        await require_tenant(self.hub.store, tenant)
        key = (tenant, layer_id, language)
        version = await self.version(tenant, layer)
        body = self._layers.get(key, version)
        if body is None:
            pref = data_preference(language, tenant)
            found = [feature(layer, r, pref) for r in await self.readers(tenant, layer)]
            collection = {
                "type": "FeatureCollection",
                "features": [f for f in found if f is not None],
            }
            body = orjson.dumps(collection)
            self._layers.put(key, version, body)
        return body

    async def summary(
        self, tenant: str, language: str, now: datetime | None = None
    ) -> dict[str, Any]:
        """The panels' figures. Kept while the entities behind them are unchanged, for at
        most SUMMARY_SECONDS (alerts leave the list when their validTo passes)."""
        await require_tenant(self.hub.store, tenant)
        versions = tuple([await self.version(tenant, BY_ID[i]) for i in SUMMARY_LAYERS])
        moment = now or datetime.now(UTC)
        key = (tenant, language)
        kept = self._summaries.get(key)
        if (
            now is None
            and kept is not None
            and kept[0] == versions
            and moment - kept[1] < timedelta(seconds=SUMMARY_SECONDS)
        ):
            return kept[2]
        figures = await self._summary(tenant, language, moment)
        if now is None:
            if len(self._summaries) >= CACHED_LAYERS:
                self._summaries.clear()
            self._summaries[key] = (versions, moment, figures)
        return figures

    async def _summary(self, tenant: str, language: str, now: datetime) -> dict[str, Any]:
        pref = data_preference(language, tenant)
        props: dict[str, list[dict[str, Any]]] = {}
        for layer_id in SUMMARY_LAYERS:
            layer = BY_ID[layer_id]
            props[layer_id] = []
            for reader in await self.readers(tenant, layer):
                item = properties(layer, reader, pref)
                item["located"] = reader.geometry() is not None
                props[layer_id].append(item)
        alerts = summary.active_alerts(props["hazards"], now)
        return {
            "alerts": [
                {
                    k: a.get(k)
                    for k in (
                        "id",
                        "name",
                        "description",
                        "severity",
                        "category",
                        "subCategory",
                        "issued",
                        "validTo",
                        "area",
                        "located",
                        "demoData",
                    )
                }
                for a in alerts
            ],
            "parking": summary.parking(props["parking"]),
            "traffic": summary.traffic(props["traffic"]),
            "air": summary.air(props["air"]),
            "crowding": summary.crowding(props["crowding"]),
            "weather": summary.weather(props["weather"]),
            "updatedAt": now.isoformat(timespec="seconds"),
        }

    async def _entity(
        self, tenant: str, entity_id: str
    ) -> tuple[dict[str, Any], TermMap, Layer | None]:
        entity = await self.hub.entities.retrieve_entity(tenant, entity_id)
        core = self.hub.contexts.resolver.core
        short = core.compact(entity["type"][0]).rsplit("/", 1)[-1]
        layer = BY_TYPE.get(short)
        context = layer.context if layer else tuple(context_of(short))
        return entity, await self.termmap(context), layer

    async def details(self, tenant: str, entity_id: str, language: str) -> dict[str, Any]:
        entity, tm, layer = await self._entity(tenant, entity_id)
        pref = data_preference(language, tenant)
        reader = Reader(entity, tm, {})
        attributes = []
        for iri, instances in entity.items():
            if ":" not in iri or iri == LOCATION:
                continue
            name = tm.compact(iri)
            if name in SKIPPED:
                continue
            instance = next((i for i in instances if "datasetId" not in i), instances[0])
            value = (
                reader.text(name, pref)
                if instance.get("type") == "LanguageProperty"
                else reader.value(name)
            )
            attributes.append(
                {
                    "name": name,
                    "value": value,
                    "unitCode": instance.get("unitCode"),
                    "observedAt": instance.get("observedAt"),
                    "numeric": isinstance(value, int | float) and not isinstance(value, bool),
                }
            )
        attributes.sort(key=lambda a: (not a["numeric"], a["name"]))
        demo = reader.value("demoData")
        return {
            "id": entity["id"],
            "type": reader.short_type(),
            "layer": layer.id if layer else None,
            "name": reader.text("name", pref) or entity["id"].rsplit(":", 1)[-1],
            "source": reader.text("dataProvider", pref) or reader.text("source", pref),
            "demoData": demo if isinstance(demo, str) else None,
            "location": reader.geometry(),
            "attributes": attributes,
        }

    async def history(self, tenant: str, entity_id: str, attr: str, period: str) -> dict[str, Any]:
        if period not in PERIODS:
            raise BadRequestData(f"period must be one of {', '.join(PERIODS)}")
        if not attr:
            raise BadRequestData("attr names the attribute whose history to show")
        entity, tm, _ = await self._entity(tenant, entity_id)
        iri = tm.expand(attr)
        if iri not in entity:
            raise ResourceNotFound(f"Entity {entity_id} has no attribute {attr}")
        unit = entity[iri][0].get("unitCode")
        span, step = PERIODS[period]
        start = micros_of(datetime.now(UTC) - span)
        tq = TemporalQuery(timerel="after", time_at=start)
        aggregation = Aggregation(("avg",), parse_duration(step)) if step else None
        answer = await self.hub.temporal.retrieve(
            tenant, entity_id, tq, frozenset({iri}), None, aggregation
        )
        points: list[list[float]] = []
        if aggregation is not None:
            for row in answer.aggregates.get(entity_id, []):
                if row.numbers and row.number_sum is not None and row.dataset_id == "":
                    bucket_start = start + row.bucket * aggregation.period.micros
                    points.append([bucket_start / 1000, round(row.number_sum / row.numbers, 3)])
        else:
            for instance in answer.instances.get(entity_id, []):
                value = instance.doc.get("value")
                if (
                    instance.dataset_id == ""
                    and isinstance(value, int | float)
                    and not isinstance(value, bool)
                ):
                    points.append([instance.time / 1000, value])
        points.sort()
        return {"attr": attr, "unitCode": unit, "points": points}

    async def cities(self) -> list[dict[str, Any]]:
        return [city.as_json() for city in cities_of(await self.hub.store.tenants())]

    async def compare(self, period: str, language: str) -> dict[str, Any]:
        from cityhub.dashboard.compare import compare_cities

        return await compare_cities(self, period, language)


def layer_list() -> list[dict[str, str]]:
    return [{"id": layer.id, "geometry": layer.geometry} for layer in LAYERS]
