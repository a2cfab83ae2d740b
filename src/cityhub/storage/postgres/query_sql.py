"""The PostgreSQL dialect of the query compiler: jsonb over ``entities.doc`` through the
small SQL functions of migration 003 (``cityhub_elements``, ``cityhub_q_root``,
``cityhub_q_flat``, ``cityhub_instant``), GIN indexes on types and scopes, and PostGIS on the
``entity_geo`` table the entities' triggers keep.

Entity alias ``e``; instance aliases ``i0``, ``i1``, … are jsonb values.
"""

from __future__ import annotations

import orjson

from cityhub.query.ast import GeoQuery, Path, ScopeMatch
from cityhub.storage.sql.compiler import Params, Predicate, Target
from cityhub.storage.sql.geo_bounds import query_bounds
from cityhub.storage.sql.scopes import scope_regex
from cityhub.storage.sql.value_index import attribute_key, string_key

_GEORELS = {
    "within": "ST_Within",
    "contains": "ST_Contains",
    "intersects": "ST_Intersects",
    "equals": "ST_Equals",
    "disjoint": "ST_Disjoint",
    "overlaps": "ST_Overlaps",
}


# The page's column: the document as JSON text, kept unparsed by QueryResult; stored beside
# the jsonb by migration 016, so a page does not print every document again.
PAGE_COLUMN = "e.doc_text"


def _target(v: str) -> Target:
    return Target(
        is_number=f"jsonb_typeof({v}) = 'number'",
        number=f"(CASE WHEN jsonb_typeof({v}) = 'number' THEN ({v})::numeric END)",
        is_string=f"jsonb_typeof({v}) = 'string'",
        string=f"({v} #>> '{{}}') COLLATE \"C\"",
        is_true=f"{v} = 'true'::jsonb",
        is_false=f"{v} = 'false'::jsonb",
        instant=(
            f"(CASE WHEN jsonb_typeof({v}) = 'string' THEN cityhub_instant({v} #>> '{{}}') END)"
        ),
    )


class PostgresDialect:
    strings_drive = True  # see Dialect.strings_drive
    numbers_drive = False  # see Dialect.numbers_drive

    def __init__(self, params: Params, tenant_param: str, tenant: str) -> None:
        self.params = params
        self.tenant = tenant_param
        self.tenant_value = tenant  # the value index's keys include it

    def types_any(self, iris: list[str]) -> str:
        return f"e.types && {self.params.add(iris)}::text[]"

    def types_all(self, iris: list[str]) -> str:
        return f"e.types @> {self.params.add(iris)}::text[]"

    def ids(self, ids: list[str]) -> str:
        return f"e.id = ANY({self.params.add(ids)}::text[])"

    def id_pattern(self, pattern: str) -> str:
        return f"e.id ~ {self.params.add(pattern)}"

    def attrs_any(self, iris: list[str]) -> str:
        return f"e.doc ?| {self.params.add(iris)}::text[]"

    def scope(self, match: ScopeMatch) -> str:
        if all(s not in {"+", "#"} for s in match.segments):
            scope = "/" + "/".join(match.segments)
            return f"e.scopes @> ARRAY[{self.params.add(scope)}::text]"
        pattern = self.params.add(scope_regex(match))
        return f"EXISTS (SELECT 1 FROM unnest(e.scopes) s WHERE s ~ {pattern})"

    def _geo_query(self, geo: GeoQuery) -> tuple[str, str]:
        attr = self.params.add(geo.geoproperty)
        return attr, self._query_geometry(geo)

    def _query_geometry(self, geo: GeoQuery) -> str:
        geometry = self.params.add(orjson.dumps(geo.geometry).decode())
        return f"ST_Force2D(ST_GeomFromGeoJSON({geometry}))"

    def entity_by_id(self, key: str) -> tuple[str, str]:
        """A LATERAL lookup fenced by OFFSET 0: with statistics, the planner otherwise
        merge-joins the driver with a walk of the entities' whole primary key (a 100-entity
        page of a type whose ids sort late read 60,000 entities: 77 ms instead of 0.3)."""
        return (
            "LATERAL (SELECT * FROM entities e0"
            f" WHERE e0.tenant = {self.tenant} AND e0.id = {key} OFFSET 0) e",
            "TRUE",
        )

    def geo_candidates(self, geo: GeoQuery, types: list[str] | None) -> str | None:
        """Candidates by bounding box from the GiST indexes of migration 003: the geography
        index for ``near;maxDistance`` (the box ``ST_DWithin`` itself searches with, right on
        the sphere where a box in degrees would miss a great-circle edge bulging past its
        ends), the geometry index for the OGC relations, each of which implies overlapping
        boxes. Candidates of other types are dropped before any entity is fetched (migration
        015 copies the entity's types, and their hashes, into each row), for ``near`` already
        inside the geography index, which holds the hashes. ``OFFSET 0`` keeps the subquery
        whole, so its order reaches the page's ``LIMIT``."""
        if query_bounds(geo) is None:  # disjoint, minDistance: no box bounds the answer
            return None
        attr, query = self._geo_query(geo)
        if geo.georel == "near":
            distance = self.params.add(float(geo.max_distance or 0))
            overlap = f"g.geom::geography && _ST_Expand({query}::geography, {distance})"
        else:
            overlap = f"g.geom && {query}"
        of_type = ""
        if types is not None:
            names = f"{self.params.add(types)}::text[]"
            of_type = f" AND g.types && {names}"
            if geo.georel == "near":  # the geography index holds the types' hashes too
                keys = f"ARRAY(SELECT hashtext(t) FROM unnest({names}) t)::int4[]"
                of_type += f" AND g.type_keys && {keys}"
        return (
            "SELECT DISTINCT g.entity_id AS id FROM entity_geo g"
            f" WHERE g.tenant = {self.tenant} AND g.attr = {attr} AND {overlap}{of_type}"
            " ORDER BY 1 OFFSET 0"
        )

    def geo_match(self, geo: GeoQuery, geom: str) -> str:
        """The exact test of the PostGIS geometry ``geom`` against the geoQ."""
        query = self._query_geometry(geo)
        if geo.georel == "near":
            if geo.max_distance is not None:
                distance = self.params.add(float(geo.max_distance))
                return f"ST_DWithin({geom}::geography, {query}::geography, {distance}, false)"
            distance = self.params.add(float(geo.min_distance or 0))
            return f"ST_Distance({geom}::geography, {query}::geography, false) >= {distance}"
        return f"{_GEORELS[geo.georel]}({geom}, {query})"

    def geo(self, geo: GeoQuery) -> str:
        attr = self.params.add(geo.geoproperty)
        test = self.geo_match(geo, "g.geom")
        # Where geo_candidates drives the query, the exact test runs per candidate entity as
        # it comes (OFFSET 0 keeps PostgreSQL from turning it into a join that would test
        # every candidate before the page's LIMIT applies).
        per_row = " OFFSET 0" if query_bounds(geo) is not None else ""
        return (
            "EXISTS (SELECT 1 FROM entity_geo g WHERE g.tenant = e.tenant"
            f" AND g.entity_id = e.id AND g.attr = {attr} AND {test}{per_row})"
        )

    # --- q ----------------------------------------------------------------------------

    def _instances(self, path: Path) -> tuple[str, str]:
        sources = []
        parent = "e.doc"
        alias = "e"
        for depth, name in enumerate(path.attribute_names):
            alias = f"i{depth}"
            sources.append(f"cityhub_elements({parent} -> {self.params.add(name)}) {alias}")
            parent = alias
        return ", ".join(sources), alias

    def exists(self, path: Path) -> str:
        if len(path.attribute_names) == 1 and not path.keys and path.member is None:
            return f"(e.doc ? {self.params.add(path.names[0])})"
        sources, i = self._instances(path)
        if path.member is not None:
            test = f"{i} ? '{path.member}'"
        elif path.keys:
            keys = self.params.add(list(path.keys))
            test = f"(cityhub_q_root({i}) #> {keys}::text[]) IS NOT NULL"
        else:
            test = "true"
        return f"EXISTS (SELECT 1 FROM {sources} WHERE {test})"

    def any_target(self, path: Path, predicate: Predicate, strings_possible: bool) -> str:
        sources, i = self._instances(path)
        if path.member is not None:
            v = f"({i} -> '{path.member}')"
            test = f"jsonb_typeof({v}) NOT IN ('array', 'object') AND {predicate(_target(v))}"
            return f"EXISTS (SELECT 1 FROM {sources} WHERE {test})"
        if path.keys:
            keys = self.params.add(list(path.keys))
            root = f"cityhub_q_root({i}) #> {keys}::text[]"
            language = "false"
        else:
            root = f"cityhub_q_root({i})"
            language = f"({i} ->> 'type') = 'LanguageProperty'"
        branches = [
            f"EXISTS (SELECT 1 FROM cityhub_q_flat({root}, {language}) t"
            f" WHERE {predicate(_target('t'))})"
        ]
        if not path.keys:
            listed = _target("(o -> 'object')")
            branches.append(
                f"(({i} ->> 'type') = 'ListRelationship' AND EXISTS (SELECT 1 FROM"
                f" cityhub_elements({i} -> 'objectList') o WHERE jsonb_typeof(o) = 'object'"
                f" AND {predicate(listed)}))"
            )
            if strings_possible:
                branches.append(
                    f"(({i} ->> 'type') = 'LanguageProperty' AND EXISTS (SELECT 1 FROM"
                    f" jsonb_each(CASE WHEN jsonb_typeof({i} -> 'languageMap') = 'object'"
                    f" THEN {i} -> 'languageMap' ELSE '{{}}'::jsonb END) l,"
                    " cityhub_elements(l.value) t WHERE jsonb_typeof(t) NOT IN"
                    f" ('array', 'object') AND {predicate(_target('t'))}))"
                )
        return f"EXISTS (SELECT 1 FROM {sources} WHERE {' OR '.join(branches)})"

    def strings_prefilter(self, attr_iri: str, values: list[str]) -> str:
        """Entities whose attribute holds one of the strings: their hashes in the row's
        ``value_strings`` (GIN index, migration 009)."""
        hashes = [string_key(self.tenant_value, attr_iri, value) for value in values]
        return f"e.value_strings && {self.params.add(hashes)}::bigint[]"

    def numbers_prefilter(self, attr_iri: str, low: float | None, high: float | None) -> str:
        """Entities whose attribute holds a number in [low, high], from the row's small
        ``value_numbers`` object instead of its whole document (migration 009)."""
        key = attribute_key(self.tenant_value, attr_iri)
        tests = [
            test for test, bound in (("@ >= $low", low), ("@ <= $high", high)) if bound is not None
        ]
        condition = f" ? ({' && '.join(tests)})" if tests else ""
        path = self.params.add(f'$."{key}"[*]{condition}')
        bounds = self.params.add({"low": low, "high": high})
        return f"jsonb_path_exists(e.value_numbers, {path}::jsonpath, {bounds}::jsonb)"

    def regex(self, text: str, pattern_param: str) -> str:
        return f"{text} ~ {pattern_param}"
