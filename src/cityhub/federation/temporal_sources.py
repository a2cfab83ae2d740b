"""How context sources are asked for temporal evolution and their answers read (clause
4.3.6.3), for federation/temporal.py.

* A source is always asked for the normalized form with sysAttrs (never concise,
  temporalValues or lang: the hub renders the merged answer itself), and for
  ``aggregatedValues`` only where it alone holds an entity.
* The first request of a query passes the client's own filters on as written (type
  expressions, q, geoQ, scopeQ, a Query body with its @context): nothing to translate, so
  nothing lost. Requests by id are built from what was parsed, attributes as IRIs (a Query
  body's @context does not travel with a GET).
* An answer that is not 200/206 with NGSI-LD entities is a :class:`SourceFailure` (an
  ``NGSILD-Warning``); a 206 marks the answer partial (clause 6.3.10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityhub.federation.distributed import Forward, _localonly, _quote
from cityhub.federation.remote import SourceAnswer, SourceFailure, Sources
from cityhub.federation.temporal_merge import (
    micros,
    read_aggregated,
    read_instances,
    read_record,
)
from cityhub.jsonld.termmap import TermMap
from cityhub.model.history import AggregateRow, TemporalEntityRecord, TemporalInstance
from cityhub.model.temporal_representation import Periods
from cityhub.query.temporal import Aggregation, Duration, TemporalQuery, format_micros

# Parameters of the incoming query that the hub sets itself for every source.
_REPLACED = frozenset({"attrs", "lastN", "datasetId", "aggrMethods", "aggrPeriodDuration"})
_BODY_REPLACED = ("attrs", "lang", "aggrMethods", "aggrPeriodDuration")


@dataclass(frozen=True)
class Ask:
    """What every place is asked: the temporal query, the attributes (None: all), the
    datasetIds (None: all; "" the default instance) and the aggregation (None: instances)."""

    tq: TemporalQuery
    attrs: frozenset[str] | None
    datasets: frozenset[str] | None
    aggregation: Aggregation | None


@dataclass(frozen=True)
class Incoming:
    """How the client asked a query, to ask the sources alike: the Query body of
    ``POST /temporal/entityOperations/query`` (None: ``GET /temporal/entities``)."""

    body: dict[str, Any] | None = None
    content_type: str = "application/json"


@dataclass
class Place:
    """What the store or one source said about some entities."""

    source: str  # the registration id; "" for the store
    records: dict[str, TemporalEntityRecord] = field(default_factory=dict)
    instances: dict[str, list[TemporalInstance]] = field(default_factory=dict)  # by entity
    partial: bool = False
    aggregates: dict[str, list[AggregateRow]] = field(default_factory=dict)
    periods: dict[str, Periods] = field(default_factory=dict)
    passed: dict[str, dict[str, Any]] = field(default_factory=dict)
    total: int | None = None
    more: bool = False


def duration_text(duration: Duration) -> str:
    """An aggregation period as ISO 8601 again (``P1M``, ``PT900S``, ``PT0S``)."""
    text = f"P{duration.months}M" if duration.months else "P"
    if duration.micros or not duration.months:
        seconds, fraction = divmod(duration.micros, 1_000_000)
        tail = f".{fraction:06d}".rstrip("0") if fraction else ""
        text += f"T{seconds}{tail}S"
    return text


def holds_range(registration: dict[str, Any], tq: TemporalQuery) -> bool:
    """Whether a source may hold instances in the query's range (clause 5.2.9: the
    observationInterval for observedAt, the managementInterval for the other time
    properties; a registration without one may hold any time)."""
    member = "observationInterval" if tq.timeproperty == "observedAt" else "managementInterval"
    interval = registration.get(member)
    if not isinstance(interval, dict):
        return True
    start, end = micros(interval.get("startAt")), micros(interval.get("endAt"))
    if start is not None and tq.end is not None and start >= tq.end:
        return False
    return not (end is not None and tq.start is not None and tq.start >= end)


class TemporalSources:
    """Temporal requests to context sources through the hub's shared client."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def _params(
        self, ask: Ask, tq: TemporalQuery, registration: dict[str, Any], *, agg: bool
    ) -> list[tuple[str, str]]:
        """The parameters of a request built from what was parsed (by id, or the ids of a
        page). Attributes go as IRIs: a Query body's @context does not travel with a GET."""
        params: list[tuple[str, str]] = []
        if tq.timerel is not None and tq.time_at is not None:
            params += [("timerel", tq.timerel), ("timeAt", format_micros(tq.time_at))]
        if tq.end_time_at is not None:
            params.append(("endTimeAt", format_micros(tq.end_time_at)))
        params.append(("timeproperty", tq.timeproperty))
        return params + self._shared_params(ask, tq, registration, agg=agg)

    def _shared_params(
        self,
        ask: Ask,
        tq: TemporalQuery,
        registration: dict[str, Any],
        *,
        agg: bool,
        in_body: bool = False,
    ) -> list[tuple[str, str]]:
        """lastN, attrs (unless ``in_body``: a Query body holds them), datasetId, sysAttrs,
        the aggregation, and local=true for a localOnly registration."""
        params = []
        if tq.last_n is not None and not in_body:
            params.append(("lastN", str(tq.last_n)))
        if ask.attrs and not in_body:
            params.append(("attrs", ",".join(sorted(ask.attrs))))
        if ask.datasets is not None:
            params.append(("datasetId", ",".join(d or "@none" for d in sorted(ask.datasets))))
        params.append(("options", "sysAttrs"))
        if agg and ask.aggregation is not None:
            params += [
                ("format", "aggregatedValues"),
                ("aggrMethods", ",".join(ask.aggregation.methods)),
                ("aggrPeriodDuration", duration_text(ask.aggregation.period)),
            ]
        if _localonly(registration):
            params.append(("local", "true"))
        return params

    async def one(
        self,
        registration: dict[str, Any],
        entity_id: str,
        ask: Ask,
        forward: Forward,
        *,
        aggregated: bool,
        tq: TemporalQuery | None = None,
    ) -> SourceAnswer | SourceFailure:
        chosen = tq or ask.tq
        params = self._params(ask, chosen, registration, agg=aggregated)
        path = f"temporal/entities/{_quote(entity_id)}"
        return await self.sources.get(registration, path, forward, params)

    async def ids(
        self,
        registration: dict[str, Any],
        ids: list[str],
        ask: Ask,
        tq: TemporalQuery,
        forward: Forward,
        aggregated: bool,
    ) -> SourceAnswer | SourceFailure:
        params = [
            ("id", ",".join(ids)),
            ("limit", str(len(ids))),
            *self._params(ask, tq, registration, agg=aggregated),
        ]
        return await self.sources.get(registration, "temporal/entities", forward, params)

    async def window(
        self,
        registration: dict[str, Any],
        ask: Ask,
        tq: TemporalQuery,
        forward: Forward,
        incoming: Incoming,
        window: int,
        *,
        count: bool,
    ) -> SourceAnswer | SourceFailure:
        """A source's first ``window`` entities, asked as the client asked (its filters are
        passed on as written: type expressions, q, geoQ and scopeQ need no translating)."""
        params = [(k, v) for k, v in forward.params if k not in _REPLACED]
        params.append(("limit", str(window)))
        if count:
            params.append(("count", "true"))
        if incoming.body is None:
            params += self._shared_params(ask, tq, registration, agg=False)
            return await self.sources.get(registration, "temporal/entities", forward, params)
        body = {k: v for k, v in incoming.body.items() if k not in _BODY_REPLACED}
        if ask.attrs:
            body["attrs"] = sorted(ask.attrs)
        temporal = {k: v for k, v in dict(body.get("temporalQ") or {}).items() if k != "lastN"}
        if tq.last_n is not None:
            temporal["lastN"] = tq.last_n
        body["temporalQ"] = temporal
        params += self._shared_params(ask, tq, registration, agg=False, in_body=True)
        return await self.sources.request(
            registration,
            "POST",
            "temporal/entityOperations/query",
            via=forward.via,
            incoming=forward.headers,
            params=params,
            body=body,
            content_type=incoming.content_type,
        )

    def read(
        self,
        answer: SourceAnswer | SourceFailure | None,
        tm: TermMap,
        tq: TemporalQuery,
        warnings: list[str],
        outcomes: list[tuple[str, bool]],
        *,
        aggregated: bool,
        missing_ok: bool = False,
    ) -> Place | None:
        """What a source answered (None: nothing; a failure is noted in ``warnings``).
        ``missing_ok``: a 404 says the source does not hold the entity (Retrieve)."""
        if answer is None:
            return None
        if isinstance(answer, SourceFailure):
            warnings.append(answer.warning())
            outcomes.append((answer.registration_id, False))
            return None
        reg_id = str(answer.registration.get("id"))
        body = answer.body
        if answer.status == 404 and missing_ok:
            outcomes.append((reg_id, True))
            return None
        items = [body] if isinstance(body, dict) and answer.status in (200, 206) else body
        if answer.status not in (200, 206) or not isinstance(items, list):
            warnings.append(answer.failure().warning())
            outcomes.append((reg_id, False))
            return None
        outcomes.append((reg_id, True))
        place = Place(reg_id, partial=answer.status == 206)
        for item in items:
            if not isinstance(item, dict):
                continue
            record = read_record(item, tm)
            if record is None:
                continue
            place.records[record.entity_id] = record
            if aggregated:
                place.passed[record.entity_id] = read_aggregated(item, tm)
            else:
                place.instances[record.entity_id] = read_instances(item, tm, tq, reg_id)
        total = answer.headers.get("NGSILD-Results-Count")
        place.total = int(total) if total and total.isdigit() else None
        place.more = 'rel="next"' in answer.headers.get("Link", "")
        return place
