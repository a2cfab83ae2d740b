"""Random entities and random q expressions: the store's SQL (SQLite or PostgreSQL) and the
in-memory evaluator must select the same entities (DESIGN §4 rule 2, clause 4.9)."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityhub.hub import Hub
from cityhub.query.ast import EntityQuery
from cityhub.query.evaluate import matches
from cityhub.query.q import parse_q
from cityhub.query.resolve import resolve_q

NAMES = ["a", "b", "c"]
STRINGS = ["x", "xy", "y", "Z", "é", "2024-05-01T00:00:00Z", "2024-05-01T09:00:00+09:00"]
TIMES = ["2024-05-01T00:00:00Z", "2024-05-01T00:00:00.5Z", "2024-04-30T23:00:00-02:00"]
URIS = ["urn:x:1", "urn:x:2"]

scalars = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([-1.5, 0.5, 2.0, 2.5]),
    st.booleans(),
    st.sampled_from(STRINGS),
)


def _attribute(kind: str, value: Any, sub: Any, observed: str | None) -> dict[str, Any]:
    attribute: dict[str, Any]
    if kind == "Relationship":
        attribute = {"type": kind, "object": value}
    elif kind == "LanguageProperty":
        attribute = {"type": kind, "languageMap": value}
    elif kind == "ListProperty":
        attribute = {"type": kind, "valueList": value}
    else:
        attribute = {"type": "Property", "value": value}
    if sub is not None:
        attribute["s"] = {"type": "Property", "value": sub}
    if observed is not None:
        attribute["observedAt"] = observed
    return attribute


attributes = st.one_of(
    st.builds(
        _attribute,
        st.just("Property"),
        st.one_of(scalars, st.lists(scalars, min_size=1, max_size=3)),
        st.none() | scalars,
        st.none() | st.sampled_from(TIMES),
    ),
    st.builds(_attribute, st.just("Relationship"), st.sampled_from(URIS), st.none(), st.none()),
    st.builds(
        _attribute,
        st.just("LanguageProperty"),
        st.dictionaries(
            st.sampled_from(["en", "ja"]),
            st.sampled_from(STRINGS[:5]) | st.lists(st.sampled_from(STRINGS[:5]), min_size=1),
            min_size=1,
        ),
        st.none(),
        st.none(),
    ),
    st.builds(
        _attribute,
        st.just("ListProperty"),
        st.lists(scalars, min_size=1, max_size=3),
        st.none(),
        st.none(),
    ),
)
entities = st.lists(st.dictionaries(st.sampled_from(NAMES), attributes), min_size=1, max_size=6)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + value + '"'


literals = st.one_of(
    scalars.map(_literal),
    st.sampled_from(TIMES[:2]),  # unquoted: DateTime literals
    st.sampled_from(URIS),
)
paths = st.sampled_from(NAMES).flatmap(
    lambda name: st.sampled_from([name, f"{name}.s", f"{name}.observedAt", f"{name}[en]"])
)


@st.composite
def terms(draw: st.DrawFn) -> str:
    path = draw(paths)
    kind = draw(st.sampled_from(["exists", "absent", "compare", "list", "range", "regex"]))
    if kind == "exists":
        return path
    if kind == "absent":
        return "!" + path
    if kind == "regex":
        return path + draw(st.sampled_from(["~=", "!~="])) + draw(st.sampled_from(["x", "^y$"]))
    if kind == "range":
        low, high = draw(st.sampled_from([("-1", "2"), ('"x"', '"y"'), (TIMES[0], TIMES[1])]))
        return f"{path}{draw(st.sampled_from(['==', '!=']))}{low}..{high}"
    if kind == "list":
        values = draw(st.lists(literals, min_size=2, max_size=3))
        return f"{path}{draw(st.sampled_from(['==', '!=']))}{','.join(values)}"
    op = draw(st.sampled_from(["==", "!=", ">", ">=", "<", "<="]))
    literal = draw(literals)
    if op not in {"==", "!="} and literal in {"true", "false"}:
        op = "=="
    return f"{path}{op}{literal}"


expressions = st.recursive(
    terms(),
    lambda inner: st.tuples(inner, st.sampled_from([";", "|"]), inner).map(
        lambda t: f"({t[0]}{t[1]}{t[2]})"
    ),
    max_leaves=4,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bodies=entities, q=expressions)
async def test_random_q_selects_the_same_entities_in_sql_and_in_memory(
    hub: Hub, bodies: list[dict[str, Any]], q: str
) -> None:
    tenant = "p" + uuid.uuid4().hex[:12]
    tm = await hub.contexts.resolve(None)
    stored = []
    for number, attrs in enumerate(bodies):
        body = {"id": f"urn:ngsi-ld:R:{number}", "type": "R", **attrs}
        await hub.entities.create_entity(tenant, body, tm)
        stored.append(await hub.entities.retrieve_entity(tenant, body["id"]))
    query = EntityQuery(q=resolve_q(parse_q(q), tm), limit=100)
    result = await hub.store.query_entities(tenant, query)
    found = {entity["id"] for entity in result.entities}
    expected = {entity["id"] for entity in stored if matches(entity, query)}
    assert found == expected, q
