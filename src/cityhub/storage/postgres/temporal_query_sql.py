"""The PostgreSQL temporal dialect (storage/sql/temporal_sql.py): the query compiler's
PostgreSQL dialect over ``temporal_entities e``, whose q and geoQ look at the attribute
instances in a time range instead of the current document."""

from __future__ import annotations

from collections.abc import Sequence

from cityhub.query.ast import GeoQuery, Path
from cityhub.query.temporal import TemporalQuery
from cityhub.storage.postgres.query_sql import PostgresDialect
from cityhub.storage.sql.compiler import Params
from cityhub.storage.sql.temporal_sql import series_rows

KIND = "(a.doc ->> 'type')"


class PostgresTemporalDialect(PostgresDialect):
    kind_expr = KIND
    per_row = " OFFSET 0"  # (temporal_sql.TemporalDialect.per_row)
    # Numbers have no canonical JSON stored (model/history.py): they count by value.
    distinct_expr = "coalesce(a.val, a.num::text)"

    def __init__(
        self,
        params: Params,
        tenant_param: str,
        tenant: str,
        tq: TemporalQuery | None = None,
        attrs: frozenset[str] | None = None,
    ) -> None:
        super().__init__(params, tenant_param, tenant)
        self.tq = tq
        self.attrs = attrs

    def with_range(
        self, tq: TemporalQuery, attrs: frozenset[str] | None
    ) -> PostgresTemporalDialect:
        return PostgresTemporalDialect(self.params, self.tenant, self.tenant_value, tq, attrs)

    def in_list(self, column: str, values: Sequence[str]) -> str:
        return f"{column} = ANY({self.params.add(list(values))}::text[])"

    def bucket_of_bounds(self, time: str, bounds: Sequence[int]) -> str:
        listed = self.params.add(list(bounds))
        return f"((SELECT count(*) FROM unnest({listed}::bigint[]) b WHERE b <= {time}) - 1)"

    # --- q and geoQ over the instances in range --------------------------------------------

    def _in_range(self, attr: str) -> str:
        """``FROM … WHERE …`` of the entity's instances of ``attr`` in the range."""
        assert self.tq is not None
        return series_rows("e.id", self.tq, self, None, attr)

    def _instances(self, path: Path) -> tuple[str, str]:
        if self.tq is None:
            return super()._instances(path)
        in_range = self._in_range(path.attribute_names[0])
        sources = [f"(SELECT a.doc AS i0 {in_range}) s0"]
        alias = "i0"
        for depth, name in enumerate(path.attribute_names[1:], start=1):
            sources.append(f"cityhub_elements({alias} -> {self.params.add(name)}) i{depth}")
            alias = f"i{depth}"
        return ", ".join(sources), alias

    def exists(self, path: Path) -> str:
        single = len(path.attribute_names) == 1 and not path.keys and path.member is None
        if self.tq is not None and single:
            in_range = self._in_range(path.names[0])
            return f"EXISTS (SELECT 1 {in_range})"
        return super().exists(path)

    def strings_prefilter(self, attr_iri: str, values: list[str]) -> str:
        return "TRUE" if self.tq is not None else super().strings_prefilter(attr_iri, values)

    def numbers_prefilter(self, attr_iri: str, low: float | None, high: float | None) -> str:
        if self.tq is not None:
            return "TRUE"
        return super().numbers_prefilter(attr_iri, low, high)

    def geo(self, geo: GeoQuery) -> str:
        if self.tq is None:
            return super().geo(geo)
        in_range = self._in_range(geo.geoproperty)
        geom = "ST_Force2D(ST_GeomFromGeoJSON(a.doc -> 'value'))"
        check = self.geo_match(geo, geom)
        return (
            f"EXISTS (SELECT 1 {in_range} AND (CASE WHEN"
            f" {KIND} = 'GeoProperty' AND jsonb_typeof(a.doc -> 'value') = 'object'"
            f" THEN {check} ELSE false END))"
        )
