"""The SQLite temporal dialect (storage/sql/temporal_sql.py): the query compiler's SQLite
dialect over ``temporal_entities e`` (types and scopes as JSON arrays), whose q and geoQ look
at the attribute instances in a time range instead of the current document."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from cityhub.query.ast import GeoQuery, Path
from cityhub.query.temporal import TemporalQuery
from cityhub.storage.sql.compiler import Params
from cityhub.storage.sql.temporal_sql import series_rows
from cityhub.storage.sqlite.query_sql import SqliteDialect, json_label

KIND = "json_extract(a.doc, '$.type')"


class SqliteTemporalDialect(SqliteDialect):
    kind_expr = KIND
    per_row = ""  # SQLite runs EXISTS per row anyway
    # Numbers have no canonical JSON stored (model/history.py): they count by value.
    distinct_expr = "coalesce(a.val, a.num)"

    def __init__(
        self,
        tenant_param: str,
        params: Params,
        tenant: str,
        tq: TemporalQuery | None = None,
        attrs: frozenset[str] | None = None,
    ) -> None:
        super().__init__(tenant_param, params, tenant)
        self.tq = tq
        self.attrs = attrs

    def with_range(self, tq: TemporalQuery, attrs: frozenset[str] | None) -> SqliteTemporalDialect:
        return SqliteTemporalDialect(self.tenant, self.params, self.tenant_value, tq, attrs)

    def in_list(self, column: str, values: Sequence[str]) -> str:
        listed = self.params.add(orjson.dumps(list(values)).decode())
        return f"{column} IN (SELECT value FROM json_each({listed}))"

    def bucket_of_bounds(self, time: str, bounds: Sequence[int]) -> str:
        listed = self.params.add(orjson.dumps(list(bounds)).decode())
        return f"((SELECT count(*) FROM json_each({listed}) b WHERE b.value <= {time}) - 1)"

    # --- entity-level filters on temporal_entities ---------------------------------------

    def types_any(self, iris: list[str]) -> str:
        return f"EXISTS (SELECT 1 FROM json_each(e.types) t WHERE {self.in_list('t.value', iris)})"

    def types_all(self, iris: list[str]) -> str:
        return "(" + " AND ".join(self.types_any([iri]) for iri in iris) + ")"

    # --- q and geoQ over the instances in range --------------------------------------------

    def _in_range(self, attr: str) -> str:
        """``FROM … WHERE …`` of the entity's instances of ``attr`` in the range."""
        assert self.tq is not None
        return series_rows("e.id", self.tq, self, None, attr)

    def _instances(self, path: Path) -> tuple[str, str]:
        if self.tq is None:
            return super()._instances(path)
        in_range = self._in_range(path.attribute_names[0])
        first = f"(SELECT a.doc AS value {in_range}) i0"
        sources, alias = [first], "i0"
        for depth, name in enumerate(path.attribute_names[1:], start=1):
            label = self.params.add("$" + json_label(name))
            sources.append(f"json_each({alias}.value, {label}) i{depth}")
            alias = f"i{depth}"
        return ", ".join(sources), alias

    def exists(self, path: Path) -> str:
        single = len(path.attribute_names) == 1 and not path.keys and path.member is None
        if self.tq is not None and single:
            in_range = self._in_range(path.names[0])
            return f"EXISTS (SELECT 1 {in_range})"
        return super().exists(path)

    def strings_prefilter(self, attr_iri: str, values: list[str]) -> str:
        return "1=1" if self.tq is not None else super().strings_prefilter(attr_iri, values)

    def numbers_prefilter(self, attr_iri: str, low: float | None, high: float | None) -> str:
        if self.tq is not None:
            return "1=1"
        return super().numbers_prefilter(attr_iri, low, high)

    def geo(self, geo: GeoQuery) -> str:
        if self.tq is None:
            return super().geo(geo)
        in_range = self._in_range(geo.geoproperty)
        value = "json_extract(a.doc, '$.value')"
        check = self.geo_match(geo, value)
        return (
            f"EXISTS (SELECT 1 {in_range} AND (CASE WHEN"
            f" {KIND} = 'GeoProperty' AND json_type(a.doc, '$.value') = 'object'"
            f" THEN {check} ELSE 0 END))"
        )
