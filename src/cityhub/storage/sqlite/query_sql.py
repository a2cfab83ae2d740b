"""The SQLite dialect of the query compiler: JSON1 over ``entities.doc``, the
``entity_types`` index table, a quadtree-cell prefilter and exact geometry checks in registered
functions (storage/sqlite/functions.py).

Entity alias ``e``; an attribute's instances come from ``json_each(e.doc, '$."<iri>"')``,
and a target's elements from ``json_each`` over the member the instance's type names
(query/ast.py "Target of an instance").
"""

from __future__ import annotations

import orjson

from cityhub.errors import BadRequestData
from cityhub.query.ast import GeoQuery, Path, ScopeMatch
from cityhub.storage.sql.compiler import Params, Predicate, Target
from cityhub.storage.sql.geo_bounds import query_bounds
from cityhub.storage.sql.geo_cells import covering_ranges
from cityhub.storage.sql.scopes import scope_regex
from cityhub.storage.sql.value_index import attribute_key, string_key

_ROOT = (
    "CASE json_extract({i}.value, '$.type')"
    " WHEN 'Relationship' THEN '$.object' WHEN 'LanguageProperty' THEN '$.languageMap'"
    " WHEN 'VocabProperty' THEN '$.vocab' WHEN 'JsonProperty' THEN '$.json'"
    " WHEN 'ListProperty' THEN '$.valueList' WHEN 'ListRelationship' THEN '$.objectList'"
    " ELSE '$.value' END"
)


# The page's column: the stored document's UTF-8 bytes as a BLOB, so no str is made of them
# (QueryResult keeps them unparsed).
PAGE_COLUMN = "CAST(e.doc AS BLOB)"


def json_label(name: str) -> str:
    """A quoted JSON path label: ``."https://x.org/speed"``."""
    if '"' in name or "\\" in name:
        raise BadRequestData(f"Name {name!r} contains a quote or backslash")
    return f'."{name}"'


def _target(type_col: str, value_col: str) -> Target:
    return Target(
        is_number=f"{type_col} IN ('integer', 'real')",
        number=value_col,
        is_string=f"{type_col} = 'text'",
        string=value_col,
        is_true=f"{type_col} = 'true'",
        is_false=f"{type_col} = 'false'",
        instant=f"(CASE WHEN {type_col} = 'text' THEN cityhub_instant({value_col}) END)",
    )


class SqliteDialect:
    strings_drive = False  # see Dialect.strings_drive
    numbers_drive = True  # see Dialect.numbers_drive

    def __init__(self, tenant_param: str, params: Params, tenant: str) -> None:
        self.params = params
        self.tenant = tenant_param
        self.tenant_value = tenant  # the value index's keys include it

    # --- entity-level filters -----------------------------------------------------------

    def types_any(self, iris: list[str]) -> str:
        marks = ", ".join(self.params.add(iri) for iri in iris)
        return (
            f"e.id IN (SELECT t.id FROM entity_types t WHERE t.tenant = {self.tenant}"
            f" AND t.type IN ({marks}))"
        )

    def types_all(self, iris: list[str]) -> str:
        return "(" + " AND ".join(self.types_any([iri]) for iri in iris) + ")"

    def ids(self, ids: list[str]) -> str:
        listed = self.params.add(orjson.dumps(ids).decode())
        return f"e.id IN (SELECT value FROM json_each({listed}))"

    def id_pattern(self, pattern: str) -> str:
        return f"cityhub_regexp({self.params.add(pattern)}, e.id)"

    def attrs_any(self, iris: list[str]) -> str:
        tests = [
            f"json_type(e.doc, {self.params.add('$' + json_label(iri))}) IS NOT NULL"
            for iri in iris
        ]
        return "(" + " OR ".join(tests) + ")"

    def scope(self, match: ScopeMatch) -> str:
        exact = all(s not in {"+", "#"} for s in match.segments)
        if exact:
            scope = "/" + "/".join(match.segments)
            return (
                "EXISTS (SELECT 1 FROM json_each(e.scopes) s"
                f" WHERE s.value = {self.params.add(scope)})"
            )
        return (
            "EXISTS (SELECT 1 FROM json_each(e.scopes) s"
            f" WHERE cityhub_regexp({self.params.add(scope_regex(match))}, s.value))"
        )

    def entity_by_id(self, key: str) -> tuple[str, str]:
        # CROSS JOIN keeps the driver outside: SQLite then looks entities up by primary key.
        return "entities e", f"e.tenant = {self.tenant} AND e.id = {key}"

    def geo_candidates(self, geo: GeoQuery, types: list[str] | None) -> str | None:
        return None  # geo() drives through its IN list of cell-index candidates

    def geo_match(self, geo: GeoQuery, geojson: str) -> str:
        """The exact test of the GeoJSON text ``geojson`` against the geoQ (shapely)."""
        query = self.params.add(orjson.dumps(geo.geometry).decode())
        relation = self.params.add(geo.georel)
        distance = self.params.add(
            geo.max_distance if geo.max_distance is not None else geo.min_distance
        )
        which = self.params.add("max" if geo.max_distance is not None else "min")
        return f"cityhub_geo_match({relation}, {geojson}, {query}, {distance}, {which})"

    def geo(self, geo: GeoQuery) -> str:
        attr = self.params.add(geo.geoproperty)
        check = self.geo_match(geo, "g.geojson")
        if geo.georel == "near" and geo.geometry.get("type") == "Point":
            # A point GeoProperty (its box is a point) near a point: the great-circle distance
            # from the stored box, without parsing GeoJSON into shapely (~2 µs, not ~80).
            position: list[float] = geo.geometry["coordinates"]  # type: ignore[assignment]
            lon, lat = (self.params.add(float(c)) for c in position[:2])
            compare = "<=" if geo.max_distance is not None else ">="
            distance = self.params.add(
                geo.max_distance if geo.max_distance is not None else geo.min_distance
            )
            check = (
                "(CASE WHEN g.minx = g.maxx AND g.miny = g.maxy"
                f" THEN cityhub_point_distance(g.minx, g.miny, {lon}, {lat}) {compare} {distance}"
                f" ELSE {check} END)"
            )
        exact = (
            f"EXISTS (SELECT 1 FROM entity_geo g WHERE g.tenant = {self.tenant}"
            f" AND g.entity_id = e.id AND g.attr = {attr} AND {check})"
        )
        bounds = query_bounds(geo)
        if bounds is None:  # disjoint, minDistance: no box bounds the answer
            return exact
        minx, miny, maxx, maxy = bounds
        ranges = self.params.add(orjson.dumps(covering_ranges(*bounds)).decode())
        # The candidates come from the cell index alone: one range scan per covering cell
        # range (storage/sql/geo_cells.py) and the box test on the box the index carries
        # (migration 009). The exact check runs per candidate entity, in id order, after the
        # other conditions (compile_where puts geo last), so a page stops after ``limit``
        # matches instead of checking every candidate geometry.
        prefilter = (
            f"e.id IN (SELECT g.entity_id FROM json_each({ranges}) c CROSS JOIN entity_geo g"
            f" WHERE g.tenant = {self.tenant} AND g.attr = {attr}"
            " AND g.cell BETWEEN json_extract(c.value, '$[0]') AND json_extract(c.value, '$[1]')"
            f" AND g.minx <= {self.params.add(maxx)} AND g.maxx >= {self.params.add(minx)}"
            f" AND g.miny <= {self.params.add(maxy)} AND g.maxy >= {self.params.add(miny)})"
        )
        return f"{prefilter} AND {exact}"

    # --- q ----------------------------------------------------------------------------

    def _instances(self, path: Path) -> tuple[str, str]:
        """FROM items walking attribute and sub-attribute instances; the last alias."""
        sources = []
        parent = "e.doc"
        alias = "e"
        for depth, name in enumerate(path.attribute_names):
            alias = f"i{depth}"
            label = self.params.add("$" + json_label(name))
            sources.append(f"json_each({parent}, {label}) {alias}")
            parent = f"{alias}.value"
        return ", ".join(sources), alias

    def _keys(self, path: Path) -> str:
        return self.params.add("".join(json_label(k) for k in path.keys))

    def exists(self, path: Path) -> str:
        if len(path.attribute_names) == 1 and not path.keys and path.member is None:
            label = self.params.add("$" + json_label(path.names[0]))
            return f"(json_type(e.doc, {label}) IS NOT NULL)"
        sources, i = self._instances(path)
        if path.member is not None:
            test = f"json_type({i}.value, '$.{path.member}') IS NOT NULL"
        elif path.keys:
            test = f"json_type({i}.value, {_ROOT.format(i=i)} || {self._keys(path)}) IS NOT NULL"
        else:
            test = "1"
        return f"EXISTS (SELECT 1 FROM {sources} WHERE {test})"

    def any_target(self, path: Path, predicate: Predicate, strings_possible: bool) -> str:
        sources, i = self._instances(path)
        if path.member is not None:
            member = f"json_each({i}.value, '$.{path.member}') t"
            test = (
                f"EXISTS (SELECT 1 FROM {member} WHERE t.type NOT IN ('array', 'object')"
                f" AND {predicate(_target('t.type', 't.value'))})"
            )
            return f"EXISTS (SELECT 1 FROM {sources} WHERE {test})"
        kind = f"json_extract({i}.value, '$.type')"
        root = _ROOT.format(i=i)
        if path.keys:
            root = f"{root} || {self._keys(path)}"
            language_members = "0"
        else:
            language_members = f"{kind} = 'LanguageProperty'"
        branches = [
            f"EXISTS (SELECT 1 FROM json_each({i}.value, {root}) t"
            " WHERE t.type NOT IN ('array', 'object')"
            f" AND (t.key IS NULL OR typeof(t.key) = 'integer' OR {language_members})"
            f" AND {predicate(_target('t.type', 't.value'))})"
        ]
        if not path.keys:
            listed = _target("json_type(t.value, '$.object')", "json_extract(t.value, '$.object')")
            branches.append(
                f"({kind} = 'ListRelationship' AND EXISTS (SELECT 1 FROM"
                f" json_each({i}.value, '$.objectList') t WHERE t.type = 'object'"
                f" AND {predicate(listed)}))"
            )
            if strings_possible:
                branches.append(
                    f"({kind} = 'LanguageProperty' AND EXISTS (SELECT 1 FROM"
                    f" json_each({i}.value, '$.languageMap') l,"
                    " json_each(CASE WHEN l.type = 'array' THEN l.value ELSE '[]' END) t"
                    f" WHERE t.type NOT IN ('array', 'object')"
                    f" AND {predicate(_target('t.type', 't.value'))}))"
                )
        return f"EXISTS (SELECT 1 FROM {sources} WHERE {' OR '.join(branches)})"

    def strings_prefilter(self, attr_iri: str, values: list[str]) -> str:
        """Entities whose attribute holds one of the strings, by hash (value index), or
        queued for the index (storage/sqlite/value_rows.py)."""
        hashes = ", ".join(
            self.params.add(string_key(self.tenant_value, attr_iri, value)) for value in values
        )
        return (
            f"e.id IN (SELECT s.entity_id FROM entity_strings s WHERE s.h IN ({hashes})"
            f" UNION ALL {self._queued()})"
        )

    def numbers_prefilter(self, attr_iri: str, low: float | None, high: float | None) -> str:
        """Entities whose attribute holds a number in [low, high] (value index), or queued
        for the index."""
        tests = [f"n.k = {self.params.add(attribute_key(self.tenant_value, attr_iri))}"]
        if low is not None:
            tests.append(f"n.value >= {self.params.add(low)}")
        if high is not None:
            tests.append(f"n.value <= {self.params.add(high)}")
        return (
            f"e.id IN (SELECT n.entity_id FROM entity_numbers n WHERE {' AND '.join(tests)}"
            f" UNION ALL {self._queued()})"
        )

    def _queued(self) -> str:
        return f"SELECT p.entity_id FROM value_index_pending p WHERE p.tenant = {self.tenant}"

    def regex(self, text: str, pattern_param: str) -> str:
        return f"cityhub_regexp({pattern_param}, {text})"
