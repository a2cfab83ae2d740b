"""Temporal consumption: retrieve (5.7.3) and query (5.7.4, GET /temporal/entities and POST
/temporal/entityOperations/query) with the temporal query (4.11), lastN, attrs, q/geoQ/scopeQ over
instances in the range, entity paging, the normalized and simplified (4.5.9) representations,
instance pagination (206 + Content-Range) and parameter errors. Runs on SQLite and PostgreSQL
with at most 5 instances per attribute in one answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.entity_requests import (
    JSON,
    NGSI_NULL,
    assert_problem,
    create,
    entity_url,
    moment,
)
from tests.api.temporal_requests import (
    DS_A,
    EVER,
    URI,
    by_dataset_values,
    case_id,
    content_range,
    create_temporal,
    fill,
    find,
    instances,
    iso,
    later,
    now,
    observed,
    pause,
    prop,
    retrieve,
    series,
    simple,
    stamps,
    temporal_query,
    temporal_url,
    ts,
    unique,
    values,
    vehicle,
    when,
    within,
)

LIMIT = 5


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"temporal_instance_limit": LIMIT}


@pytest.fixture
def kind() -> str:
    return unique()


@pytest.fixture
async def car(client: httpx.AsyncClient, kind: str) -> str:
    """speed 120/80/100 at 12:03/12:05/12:07, fuelLevel 67/53/40 at 12:03/13:03/14:03."""
    entity = f"urn:ngsi-ld:{kind}:car"
    await create_temporal(client, vehicle(entity, kind))
    return entity


HOWS = ["retrieve", "get", "post"]

# --- Retrieve and the temporal query ----------------------------------------------------------


async def test_retrieve_temporal_returns_200_with_all_history_when_there_is_no_temporal_query(
    client: httpx.AsyncClient, car: str, kind: str
) -> None:
    body = await retrieve(client, car)
    assert set(body) == {"id", "type", "speed", "fuelLevel"}
    assert (body["id"], body["type"]) == (car, kind)
    assert values(body, "speed") == [120, 80, 100]
    assert observed(body, "fuelLevel") == stamps(ts(12, 3), ts(13, 3), ts(14, 3))
    for item in instances(body, "speed") + instances(body, "fuelLevel"):
        assert set(item) == {"type", "value", "observedAt", "instanceId"}
        assert URI.match(item["instanceId"])


S3, S5, S7, F3, F13, F14 = ts(12, 3), ts(12, 5), ts(12, 7), ts(12, 3), ts(13, 3), ts(14, 3)
TIMERELS = [  # (params, speed times, fuelLevel times); None: attribute omitted
    (when("before", S5), [S3], [F3]),
    (when("after", S5), [S5, S7], [F13, F14]),
    (when("after", ts(12, 7, 0.001)), None, [F13, F14]),
    (when("between", S5, F13), [S5, S7], None),
    (when("between", S3, S7), [S3, S5], [F3]),
    (when("after", "2020-08-01T21:05:00+09:00"), [S5, S7], [F13, F14]),
    (when("between", "2020-08-01T07:03:00-05:00", "2020-08-01T14:07:00+02:00"), [S3, S5], [F3]),
]


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("case", TIMERELS, ids=case_id)
async def test_temporal_query_returns_200_with_the_instances_in_the_time_range(
    client: httpx.AsyncClient, car: str, kind: str, how: str, case: Any
) -> None:
    """before is exclusive, after inclusive, between [timeAt, endTimeAt); zones honoured."""
    params, speed, fuel = case
    body = await find(client, how, car, kind, params)
    assert body is not None
    for attr, expected in (("speed", speed), ("fuelLevel", fuel)):
        if expected is None:
            assert attr not in body
        else:
            assert observed(body, attr) == stamps(*expected)


@pytest.mark.parametrize("how", HOWS)
async def test_temporal_query_returns_nothing_in_range_as_id_and_type_or_no_entity(
    client: httpx.AsyncClient, car: str, kind: str, how: str
) -> None:
    body = await find(client, how, car, kind, {"timerel": "before", "timeAt": ts(12, 3)})
    assert body == ({"id": car, "type": kind} if how == "retrieve" else None)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (when("after", ts(12, 3, 0.5)), [0.5, 0.75]),
        (when("before", ts(12, 3, 0.5)), [0.25]),
        (when("between", ts(12, 3, 0.25), ts(12, 3, 0.75)), [0.25, 0.5]),
    ],
)
async def test_retrieve_temporal_returns_200_with_sub_second_bounds_and_times(
    client: httpx.AsyncClient, entity_id: str, params: dict[str, str], expected: list[float]
) -> None:
    pairs = [(n, ts(12, 3, n)) for n in (0.25, 0.5, 0.75)]
    await create_temporal(client, {"id": entity_id, "type": "Vehicle", "speed": series(pairs)})
    body = await retrieve(client, entity_id, **params)
    assert values(body, "speed") == expected
    assert observed(body, "speed") == stamps(*(ts(12, 3, n) for n in expected))


async def test_retrieve_temporal_returns_200_filtered_and_ordered_by_created_at(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, {"id": entity_id, "type": "Vehicle", "speed": prop(120, ts(12, 3))})
    mid = await pause()
    fragment = {"speed": prop(80, ts(12, 1))}  # observed before the first value
    response = await client.patch(entity_url(entity_id, ""), json=fragment, headers=JSON)
    assert response.status_code == 204, response.text
    created = {"timeproperty": "createdAt"}
    assert values(await retrieve(client, entity_id, **created, **EVER), "speed") == [120, 80]
    assert values(await retrieve(client, entity_id, **EVER), "speed") == [80, 120]
    later_ones = await retrieve(client, entity_id, **created, timerel="after", timeAt=mid)
    assert values(later_ones, "speed") == [80]
    earlier = await retrieve(client, entity_id, **created, timerel="before", timeAt=mid)
    assert values(earlier, "speed") == [120]


async def test_retrieve_temporal_returns_200_filtered_by_modified_at_after_a_correction(
    client: httpx.AsyncClient, car: str
) -> None:
    second = instances(await retrieve(client, car), "speed")[1]
    mid = await pause()
    url = temporal_url(car, "speed", second["instanceId"])
    response = await client.patch(url, json=prop(81, ts(12, 5)), headers=JSON)
    assert response.status_code == 204, response.text
    after_mid = {"timerel": "after", "timeAt": mid}
    modified = await retrieve(client, car, timeproperty="modifiedAt", **after_mid)
    assert values(modified, "speed") == [81]
    assert "speed" not in await retrieve(client, car, timeproperty="createdAt", **after_mid)
    untouched = await retrieve(client, car, timeproperty="modifiedAt", timerel="before", timeAt=mid)
    assert values(untouched, "speed") == [120, 100]


@pytest.mark.parametrize("how", ["get", "post"])
async def test_query_temporal_returns_200_with_tombstones_when_timeproperty_is_deleted_at(
    client: httpx.AsyncClient, kind: str, how: str
) -> None:
    kept, deleted = (f"urn:ngsi-ld:{kind}:{n}" for n in "AB")
    for entity in (kept, deleted):
        await create(client, {"id": entity, "type": kind, "speed": prop(120, ts(12, 3))})
    before = now()
    assert (await client.delete(entity_url(deleted, "speed"))).status_code == 204
    after = later()
    params = {"type": kind, "timeproperty": "deletedAt", "timerel": "after", "timeAt": iso(before)}
    response = await temporal_query(client, how, params)
    assert response.status_code == 200, response.text
    (found,) = response.json()
    assert found["id"] == deleted
    assert values(found, "speed") == [NGSI_NULL]
    simplified = await temporal_query(client, how, {**params, "options": "temporalValues"})
    ((value, at),) = simplified.json()[0]["speed"]["values"]
    assert value == NGSI_NULL and within(at, before, after)


LAST_N = [  # (params, speed values, fuelLevel values)
    ({"lastN": "2"}, [80, 100], [53, 40]),
    (when("before", S7, lastN="1"), [80], [67]),
    (when("between", S3, ts(14), lastN="2"), [80, 100], [67, 53]),
    ({"lastN": str(LIMIT)}, [120, 80, 100], [67, 53, 40]),
]


@pytest.mark.parametrize("case", LAST_N, ids=case_id)
@pytest.mark.parametrize("how", ["retrieve", "get"])  # lastN is a URL parameter of GET
async def test_temporal_query_returns_200_with_the_last_n_instances_in_ascending_order(
    client: httpx.AsyncClient, car: str, kind: str, how: str, case: Any
) -> None:
    params, speed, fuel = case
    body = await find(client, how, car, kind, params if how == "retrieve" else {**EVER, **params})
    assert body is not None
    assert (values(body, "speed"), values(body, "fuelLevel")) == (speed, fuel)


async def test_retrieve_temporal_returns_200_with_the_last_n_per_dataset(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    temperature = [
        *series([(1, ts(12, 1)), (2, ts(12, 2)), (3, ts(12, 3))]),
        *series([(10, ts(12, 1)), (20, ts(12, 2)), (30, ts(12, 3))], datasetId=DS_A),
    ]
    await create_temporal(client, {"id": entity_id, "type": "Vehicle", "temperature": temperature})
    body = await retrieve(client, entity_id, lastN="2")
    assert by_dataset_values(instances(body, "temperature")) == {None: [2, 3], DS_A: [20, 30]}


@pytest.mark.parametrize(
    ("entity", "attrs", "expected"),
    [
        ("car", "speed", {"speed"}),
        ("car", "speed,nothing", {"speed"}),
        ("car", "fuelLevel", {"fuelLevel"}),
        ("car", "nothing", None),
        ("none", "speed", None),
    ],
)
async def test_retrieve_temporal_returns_only_the_attributes_asked_or_404_when_none_has_history(
    client: httpx.AsyncClient, car: str, kind: str, entity: str, attrs: str, expected: Any
) -> None:
    response = await client.get(
        temporal_url(f"urn:ngsi-ld:{kind}:{entity}"), params={"attrs": attrs}
    )
    if expected is None:
        assert_problem(response, 404, "ResourceNotFound")
    else:
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"id", "type"} | expected


# --- Query: which entities --------------------------------------------------------------------

SELECTIONS = [  # (GET params, POST entities or None, expected ids); {K}, {O}: types, {A}..: ids
    ({"type": "{K}"}, None, "ABC"),
    ({"type": "{K},{O}"}, [{"type": "{K}"}, {"type": "{O}"}], "ABCD"),
    ({"id": "{A},{D}"}, [{"id": "{A}", "type": "{K}"}, {"id": "{D}", "type": "{O}"}], "AD"),
    ({"idPattern": "^urn:ngsi-ld:{K}:[BD]$"}, [{"idPattern": "[BD]$", "type": "{K},{O}"}], "BD"),
    ({"type": "{K}", **when("after", ts(13))}, None, "B"),
    ({"type": "{K}", "attrs": "fuelLevel"}, None, "B"),
    ({"type": "{K}", "attrs": "speed", **when("before", ts(12, 4))}, None, "AC"),
    ({"type": "{K}", "attrs": "nothing"}, None, ""),
]


@pytest.mark.parametrize("how", ["get", "post"])
@pytest.mark.parametrize("case", SELECTIONS, ids=case_id)
async def test_query_temporal_returns_200_with_the_selected_entities_in_id_order(
    client: httpx.AsyncClient, kind: str, how: str, case: Any
) -> None:
    """A: speed 12:03; B: speed 13:03, fuelLevel 12:03; C: speed 12:03, deleted; D: other type."""
    params, entities, expected = case
    other = unique()
    names = {"K": kind, "O": other} | {n: f"urn:ngsi-ld:{kind}:{n}" for n in "ABCD"}
    for name, kind_of, attrs in [
        ("A", kind, {"speed": prop(1, ts(12, 3))}),
        ("B", kind, {"speed": prop(2, ts(13, 3)), "fuelLevel": prop(9, ts(12, 3))}),
        ("C", kind, {"speed": prop(3, ts(12, 3))}),
        ("D", other, {"speed": prop(4, ts(12, 3))}),
    ]:
        await create_temporal(client, {"id": names[name], "type": kind_of, **attrs})
    assert (await client.delete(entity_url(names["C"]))).status_code == 204
    selection = {**EVER, **fill(params, names)}
    response = await temporal_query(
        client, how, selection, fill(entities, names) if entities else None
    )
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()] == [names[n] for n in expected]


@pytest.fixture
async def movers(client: httpx.AsyncClient, kind: str) -> None:
    """A: speed 120 then 50, Tokyo then Seoul; B: speed 50 then 60, always in Seoul."""
    tokyo = {"type": "Point", "coordinates": [139.76, 35.68]}
    seoul = {"type": "Point", "coordinates": [126.98, 37.57]}
    for name, speeds, places in [("A", (120, 50), (tokyo, seoul)), ("B", (50, 60), (seoul, seoul))]:
        body: dict[str, Any] = {"id": f"urn:ngsi-ld:{kind}:{name}", "type": kind}
        body["speed"] = series([(speeds[0], ts(12, 3)), (speeds[1], ts(12, 10))])
        body["location"] = [
            {"type": "GeoProperty", "value": place, "observedAt": at}
            for place, at in zip(places, (ts(12, 3), ts(12, 10)), strict=True)
        ]
        await create_temporal(client, body)


TOKYO = "[139.76,35.68]"
NEAR_TOKYO = {"georel": "near;maxDistance==2000", "geometry": "Point", "coordinates": TOKYO}
SEOUL_BOX = "[[[126.9,37.5],[127.1,37.5],[127.1,37.7],[126.9,37.7],[126.9,37.5]]]"
IN_SEOUL = {"georel": "within", "geometry": "Polygon", "coordinates": SEOUL_BOX}
BEFORE, AFTER = when("before", S5), when("after", S5)
IN_RANGE = [  # (params, expected ids)
    ({"q": "speed>100", **EVER}, "A"),
    ({"q": "speed>100", **AFTER}, ""),
    ({"q": "speed<55", **AFTER}, "A"),
    ({"q": "speed==50", **BEFORE}, "B"),
    ({**NEAR_TOKYO, **BEFORE}, "A"),
    ({**NEAR_TOKYO, **AFTER}, ""),
    ({**IN_SEOUL, **AFTER}, "AB"),
    ({**IN_SEOUL, **BEFORE}, "B"),
]


@pytest.mark.parametrize("how", ["get", "post"])
@pytest.mark.parametrize("case", IN_RANGE, ids=case_id)
async def test_query_temporal_returns_200_with_entities_matching_within_the_range(
    client: httpx.AsyncClient, kind: str, movers: None, how: str, case: Any
) -> None:
    """q and geoQ look at the instances in the range only, not at other times or the present."""
    params, expected = case
    response = await temporal_query(client, how, {"type": kind, **params})
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()] == [f"urn:ngsi-ld:{kind}:{n}" for n in expected]


@pytest.mark.parametrize("how", ["get", "post"])
async def test_query_temporal_returns_200_with_every_instance_in_range_not_only_those_matching_q(
    client: httpx.AsyncClient, kind: str, movers: None, how: str
) -> None:
    response = await temporal_query(client, how, {"type": kind, "q": "speed>100", **EVER})
    assert response.status_code == 200, response.text
    (found,) = response.json()
    assert values(found, "speed") == [120, 50]
    assert len(instances(found, "location")) == 2


@pytest.mark.parametrize("how", ["get", "post"])
async def test_query_temporal_returns_200_matching_scope_q_on_the_latest_scope(
    client: httpx.AsyncClient, kind: str, how: str
) -> None:
    tag = unique("Scope")
    moved, stayed = f"urn:ngsi-ld:{kind}:moved", f"urn:ngsi-ld:{kind}:stayed"
    for entity in (moved, stayed):
        body = {"id": entity, "type": kind, "scope": f"/{tag}/old", "speed": prop(1, ts(12, 3))}
        await create(client, body)
    replacement = {"type": kind, "scope": f"/{tag}/new", "speed": prop(1, ts(12, 3))}
    response = await client.put(entity_url(moved), json=replacement, headers=JSON)
    assert response.status_code == 204, response.text
    for scope, expected in [
        (f"/{tag}/new", [moved]),
        (f"/{tag}/old", [stayed]),
        (f"/{tag}/#", [moved, stayed]),
    ]:
        response = await temporal_query(client, how, {"scopeQ": scope, **EVER})
        assert response.status_code == 200, response.text
        assert [e["id"] for e in response.json()] == expected


SELECTORS = {
    "type": lambda k, e, tag: {"type": k},
    "id": lambda k, e, tag: {"id": e},
    "idPattern": lambda k, e, tag: {"idPattern": f"^{e}$"},
    "attrs": lambda k, e, tag: {"attrs": tag},
    "q": lambda k, e, tag: {"q": f"{tag}>0"},
    "geoQ": lambda k, e, tag: {**NEAR_TOKYO, "coordinates": "[-70.5,-45.5]"},
    "scopeQ": lambda k, e, tag: {"scopeQ": f"/{tag}"},
}


@pytest.mark.parametrize(
    ("how", "selector"),
    [("get", s) for s in SELECTORS]
    + [("post", s) for s in ("type", "attrs", "q", "geoQ", "scopeQ")],
)
async def test_query_temporal_returns_200_when_one_selector_is_given(
    client: httpx.AsyncClient, kind: str, how: str, selector: str
) -> None:
    tag, entity = unique("probe"), f"urn:ngsi-ld:{kind}:probe"
    point = {"type": "Point", "coordinates": [-70.5, -45.5]}
    body = {
        "id": entity,
        "type": kind,
        "scope": f"/{tag}",
        tag: prop(5, ts(12, 3)),
        "location": {"type": "GeoProperty", "value": point, "observedAt": ts(12, 3)},
    }
    await create(client, body)
    response = await temporal_query(client, how, {**SELECTORS[selector](kind, entity, tag), **EVER})
    assert response.status_code == 200, response.text
    assert entity in [e["id"] for e in response.json()]


@pytest.mark.parametrize("how", ["get", "post"])
@pytest.mark.parametrize("params", [{"type": "Vehicle"}, EVER], ids=["no-timerel", "no-selector"])
async def test_query_temporal_returns_400_without_a_temporal_query_or_a_selector(
    client: httpx.AsyncClient, how: str, params: dict[str, str]
) -> None:
    assert_problem(await temporal_query(client, how, params), 400, "BadRequestData")


@pytest.mark.parametrize("how", ["get", "post"])
async def test_query_temporal_returns_200_with_a_page_of_entities_and_the_count(
    client: httpx.AsyncClient, kind: str, how: str
) -> None:
    ids = [f"urn:ngsi-ld:{kind}:{n}" for n in "EDCBA"]
    for entity in ids:
        await create_temporal(client, {"id": entity, "type": kind, "speed": prop(1, ts(12, 3))})
    page = {"type": kind, "limit": "2", "offset": "1", "count": "true", **EVER}
    response = await temporal_query(client, how, page)
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()] == sorted(ids)[1:3]
    assert response.headers["NGSILD-Results-Count"] == "5"


# --- Representations --------------------------------------------------------------------------


async def test_retrieve_temporal_returns_200_with_system_attributes_when_asked(
    client: httpx.AsyncClient, kind: str
) -> None:
    entity = f"urn:ngsi-ld:{kind}:sys"
    before = now()
    await create_temporal(client, vehicle(entity, kind))
    after = later()
    body = await retrieve(client, entity, options="sysAttrs")
    assert within(body["createdAt"], before, after) and within(body["modifiedAt"], before, after)
    assert "deletedAt" not in body
    for item in instances(body, "speed") + instances(body, "fuelLevel"):
        assert all(within(item[key], before, after) for key in ("createdAt", "modifiedAt"))
        assert "deletedAt" not in item
    assert "createdAt" not in await retrieve(client, entity)


T1, T2, LM = ts(12, 3), ts(12, 5), "languageMap"
P1, P2 = {"type": "Point", "coordinates": [1, 2]}, {"type": "Point", "coordinates": [3, 4]}
EVERY_TYPE = [  # (attribute, type, member, simplified member, wrapper, value at T1, value at T2)
    ("speed", "Property", "value", "values", None, 120, 80),
    ("location", "GeoProperty", "value", "values", None, P1, P2),
    ("owner", "Relationship", "object", "objects", None, "urn:ngsi-ld:P:1", "urn:ngsi-ld:P:2"),
    ("name", "LanguageProperty", LM, LM + "s", LM, {"en": "Bus"}, {"ja": "バス"}),
    ("category", "VocabProperty", "vocab", "vocabs", "vocab", "bus", "tram"),
    ("config", "JsonProperty", "json", "jsons", "json", {"a": 1}, {"a": [1, "x"]}),
    ("readings", "ListProperty", "valueList", "valueLists", None, [1, 2], [3]),
]


@pytest.fixture
async def typed(client: httpx.AsyncClient, kind: str) -> str:
    entity = f"urn:ngsi-ld:{kind}:typed"
    body: dict[str, Any] = {"id": entity, "type": kind}
    for attr, type_name, member, _, _, *pair in EVERY_TYPE:
        body[attr] = [
            {"type": type_name, member: v, "observedAt": t}
            for v, t in zip(pair, (T1, T2), strict=True)
        ]
    body["temperature"] = [prop(20, T1), *series([(21, T1), (22, T2)], datasetId=DS_A)]
    await create_temporal(client, body)
    return entity


@pytest.mark.parametrize(
    "params",
    [
        {"options": "temporalValues"},
        {"format": "temporalValues"},
        {"format": "temporalValues", "options": "aggregatedValues", "aggrMethods": "sum"},
    ],
)
@pytest.mark.parametrize("how", HOWS)
async def test_temporal_query_returns_200_in_the_simplified_representation_of_every_type(
    client: httpx.AsyncClient, typed: str, kind: str, how: str, params: dict[str, str]
) -> None:
    body = await find(client, how, typed, kind, params if how == "retrieve" else {**EVER, **params})
    assert body is not None
    for attr, type_name, _, simplified, wrapper, *pair in EVERY_TYPE:
        items = [[{wrapper: v} if wrapper else v, t] for v, t in zip(pair, (T1, T2), strict=True)]
        assert simple(body[attr]) == simple({"type": type_name, simplified: items}), attr
    temperature = {item.get("datasetId"): simple(item) for item in body["temperature"]}
    assert temperature == {
        None: simple({"type": "Property", "values": [[20, T1]]}),
        DS_A: simple({"type": "Property", "datasetId": DS_A, "values": [[21, T1], [22, T2]]}),
    }


async def test_retrieve_temporal_returns_200_normalized_when_format_overrides_options(
    client: httpx.AsyncClient, typed: str
) -> None:
    body = await retrieve(client, typed, format="normalized", options="temporalValues")
    assert values(body, "speed") == [120, 80]
    assert by_dataset_values(instances(body, "temperature")) == {None: [20], DS_A: [21, 22]}


# --- Instance pagination (limit 5) ------------------------------------------------------------


@pytest.fixture
async def busy(client: httpx.AsyncClient, kind: str) -> str:
    """speed = minute at 12:00..12:11 (12 instances); fuelLevel = 100 + minute at 12:00, 12:03,
    12:08, 12:11."""
    entity = f"urn:ngsi-ld:{kind}:busy"
    speed = series([(m, ts(12, m)) for m in range(12)])
    fuel = series([(100 + m, ts(12, m)) for m in (0, 3, 8, 11)])
    await create_temporal(client, {"id": entity, "type": kind, "speed": speed, "fuelLevel": fuel})
    return entity


M5_8 = (ts(12, 5), "8")
PAGES = [  # (params, speed minutes, fuelLevel minutes, Content-Range start, end and size)
    ({}, range(5), [0, 3], ts(12, 0), ts(12, 4), "*"),
    (when("after", ts(11, 59)), range(5), [0, 3], ts(11, 59), ts(12, 4), "*"),
    (when("before", ts(12, 10)), range(5), [0, 3], ts(12, 0), ts(12, 4), "*"),
    (when("between", ts(12, 2), ts(12, 10)), range(2, 7), [3], ts(12, 2), ts(12, 6), "*"),
    ({"lastN": "8"}, range(7, 12), [8, 11], ts(12, 11), ts(12, 7), "8"),
    (when("before", ts(12, 9), lastN="8"), range(4, 9), [8], ts(12, 9), ts(12, 4), "8"),
    (when("between", ts(12, 1), ts(12, 10), lastN="8"), range(5, 10), [8], ts(12, 10), *M5_8),
]


@pytest.mark.parametrize("case", PAGES, ids=case_id)
async def test_retrieve_temporal_returns_206_with_a_content_range_when_instances_exceed_the_limit(
    client: httpx.AsyncClient, busy: str, case: Any
) -> None:
    params, speed, fuel, start, end, size = case
    response = await client.get(temporal_url(busy), params=params)
    assert content_range(response) == (moment(start), moment(end), size)
    body = response.json()
    assert values(body, "speed") == list(speed)
    assert values(body, "fuelLevel") == [100 + m for m in fuel]


async def test_retrieve_temporal_returns_the_rest_on_the_next_pages(
    client: httpx.AsyncClient, busy: str
) -> None:
    seen: dict[str, dict[str, int]] = {"speed": {}, "fuelLevel": {}}
    params: dict[str, str] = {}
    for _ in range(6):
        response = await client.get(temporal_url(busy), params=params)
        for attr, found in seen.items():
            found.update((i["instanceId"], i["value"]) for i in response.json().get(attr, []))
        if response.status_code == 200:
            break
        _, end, size = content_range(response)
        assert size == "*"
        params = {"timerel": "after", "timeAt": iso(end)}
    assert response.status_code == 200 and "content-range" not in response.headers
    assert sorted(seen["speed"].values()) == list(range(12))
    assert sorted(seen["fuelLevel"].values()) == [100, 103, 108, 111]


async def test_retrieve_temporal_returns_the_older_instances_on_the_previous_page_with_last_n(
    client: httpx.AsyncClient, busy: str
) -> None:
    first = await client.get(temporal_url(busy), params={"lastN": "8", "attrs": "speed"})
    _, end, _ = content_range(first)
    assert values(first.json(), "speed") == [7, 8, 9, 10, 11]
    rest = await retrieve(client, busy, lastN="3", attrs="speed", timerel="before", timeAt=iso(end))
    assert values(rest, "speed") == [4, 5, 6]


@pytest.mark.parametrize(
    "params",
    [{"lastN": str(LIMIT)}, {"options": "aggregatedValues", "aggrMethods": "totalCount"}],
    ids=["last-n-at-the-limit", "aggregated"],
)
async def test_retrieve_temporal_returns_200_without_content_range_when_the_answer_is_whole(
    client: httpx.AsyncClient, busy: str, params: dict[str, str]
) -> None:
    body = await retrieve(client, busy, **params)
    if "lastN" in params:
        assert values(body, "speed") == list(range(7, 12))
    else:
        assert [bucket[0] for bucket in body["speed"]["totalCount"]] == [12]


@pytest.mark.parametrize("how", ["get", "post"])
async def test_query_temporal_returns_206_when_instances_exceed_the_limit(
    client: httpx.AsyncClient, busy: str, kind: str, how: str
) -> None:
    response = await temporal_query(client, how, {"type": kind, **when("after", ts(11, 59))})
    assert content_range(response) == (moment(ts(11, 59)), moment(ts(12, 4)), "*")
    (found,) = response.json()
    assert values(found, "speed") == [0, 1, 2, 3, 4]


# --- Parameter errors -------------------------------------------------------------------------

BAD_PARAMS = [
    when("during", ts(12)),
    {"timerel": "after"},
    {"timerel": "between", "timeAt": ts(12)},
    when("between", ts(12), ts(12)),
    when("between", ts(13), ts(12)),
    when("after", "yesterday"),
    when("after", "2020-13-01T00:00:00Z"),
    when("between", ts(12), "soon"),
    {"timeAt": ts(12)},
    {**EVER, "timeproperty": "expiresAt"},
    {**EVER, "timeproperty": "observed"},
    *({**EVER, "lastN": n} for n in ("0", "-2", "1.5", "ten")),
]


@pytest.mark.parametrize(
    ("how", "params"),
    [(how, p) for p in BAD_PARAMS for how in HOWS if how != "post" or "lastN" not in p],
    ids=case_id,
)
async def test_temporal_query_returns_400_when_a_temporal_parameter_is_invalid(
    client: httpx.AsyncClient, car: str, kind: str, how: str, params: dict[str, str]
) -> None:
    if how == "retrieve":
        response = await client.get(temporal_url(car), params=params)
    else:
        response = await temporal_query(client, how, {"type": kind, **params})
    assert_problem(response, 400, "BadRequestData")
