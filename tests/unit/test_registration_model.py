"""Context Source Registrations as data (clause 5.2.9), registration matching (clauses 5.10.2,
5.12), the rules between proxied registrations (clause 4.3.6.3), registration subscriptions
(clause 5.11) and the operation groups (clause 4.20): pure model functions."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cityhub.errors import BadRequestData, OperationNotSupported
from cityhub.jsonld.termmap import TermMap
from cityhub.model.csource_subscriptions import (
    NEWLY_MATCHING,
    NO_LONGER_MATCHING,
    UPDATED,
    compile_csource_subscription,
    csource_notification,
    merge_csource_fragment,
    parse_csource_subscription,
    relevant_part,
    render_csource_subscription,
    trigger_reason,
)
from cityhub.model.operations import OPERATION_GROUPS, expand_operations, is_operation_name
from cityhub.model.registration_match import (
    RegistrationFilter,
    proxied_conflict,
    registration_matches,
)
from cityhub.model.registrations import (
    RegistrationStatus,
    merge_registration,
    parse_registration,
    registration_expired,
    render_registration,
)
from cityhub.model.subscriptions import DeliveryStatus
from cityhub.query.ast import EntitySelector, GeoQuery, TypeAll, TypeAny, TypeName
from cityhub.query.q import parse_q
from cityhub.query.resolve import resolve_q
from cityhub.query.scope import parse_scope_query
from cityhub.query.temporal import parse_temporal_query
from cityhub.services.registrations import iso_duration

EX = "https://example.org/city/"
NGSI = "https://uri.etsi.org/ngsi-ld/"
CORE = ("endpoint", "mode", "registrationName", "location", "observationSpace", "scope")
TM = TermMap({**{name: NGSI + name for name in CORE}, "Vehicle": EX + "Vehicle"}, {}, EX)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CONTEXT = "https://example.org/city/context.jsonld"
REG_ID = "urn:ngsi-ld:ContextSourceRegistration:seoul"


def body(**members: Any) -> dict[str, Any]:
    """A valid registration body; members given as None are left out."""
    base: dict[str, Any] = {
        "id": REG_ID,
        "type": "ContextSourceRegistration",
        "information": [
            {
                "entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:A1"}],
                "propertyNames": ["speed"],
                "relationshipNames": ["isParked"],
            }
        ],
        "endpoint": "http://seoul.example.org:1026",
    }
    base.update(members)
    return {name: value for name, value in base.items() if value is not None}


def parse(**members: Any) -> dict[str, Any]:
    return parse_registration(body(**members), TM, CONTEXT, now=NOW)


def rejected(message: str, **members: Any) -> str:
    with pytest.raises(BadRequestData) as info:
        parse(**members)
    assert message in info.value.detail, info.value.detail
    return info.value.detail


def info(*entities: dict[str, Any], props: list[str] | None = None) -> dict[str, Any]:
    """A stored RegistrationInfo (names already IRIs)."""
    out: dict[str, Any] = {}
    if entities:
        out["entities"] = list(entities)
    if props:
        out["propertyNames"] = [EX + name for name in props]
    return out


def stored(*infos: dict[str, Any], **members: Any) -> dict[str, Any]:
    reg: dict[str, Any] = {
        "id": members.pop("id", REG_ID),
        "type": "ContextSourceRegistration",
        "information": list(infos),
        "endpoint": "http://source.example.org",
        "mode": members.pop("mode", "inclusive"),
    }
    reg.update(members)
    return reg


# --- parse_registration (clauses 5.2.9, 5.9.2) -----------------------------------------


def test_parse_registration_expands_names_and_fills_defaults() -> None:
    reg = parse()
    assert reg["id"] == REG_ID
    assert reg["type"] == "ContextSourceRegistration"
    [item] = reg["information"]
    assert item["entities"] == [{"id": "urn:ngsi-ld:Vehicle:A1", "type": EX + "Vehicle"}]
    assert item["propertyNames"] == [EX + "speed"]
    assert item["relationshipNames"] == [EX + "isParked"]
    assert reg["mode"] == "inclusive"
    assert "operations" not in reg  # only as given
    assert reg["operationsExpanded"] == expand_operations(["federationOps"])
    assert reg["@context"] == CONTEXT


def test_parse_registration_generates_an_id_when_none_is_given() -> None:
    reg = parse(id=None)
    assert reg["id"].startswith("urn:ngsi-ld:ContextSourceRegistration:")
    assert parse(id=None)["id"] != reg["id"]


def test_parse_registration_keeps_operations_as_given_and_expands_them() -> None:
    reg = parse(operations=["retrieveOps", "queryBatch", "retrieveOps"])
    assert reg["operations"] == ["retrieveOps", "queryBatch"]
    assert reg["operationsExpanded"] == ["queryBatch", "queryEntity", "retrieveEntity"]


def test_parse_registration_keeps_every_optional_member_in_stored_form() -> None:
    reg = parse(
        registrationName="Seoul hub",
        description="Traffic of Seoul",
        tenant="seoul",
        observationInterval={"startAt": "2026-01-01T09:00:00+09:00"},
        managementInterval={"startAt": "2026-01-01T00:00:00Z", "endAt": "2027-01-01T00:00:00Z"},
        location={"type": "Point", "coordinates": [126.97, 37.56]},
        expiresAt="2030-01-01T00:00:00+09:00",
        contextSourceInfo=[{"key": "Authorization", "value": "Bearer x"}],
        scope="/Korea/Seoul",
        mode="redirect",
        refreshRate="PT10S",
        management={"localOnly": True, "cacheDuration": "PT1M", "timeout": 500, "cooldown": 1},
    )
    assert reg["observationInterval"] == {"startAt": "2026-01-01T00:00:00Z"}
    assert reg["managementInterval"]["endAt"] == "2027-01-01T00:00:00Z"
    assert reg["expiresAt"] == "2029-12-31T15:00:00Z"
    assert reg["scope"] == ["/Korea/Seoul"]
    assert reg["mode"] == "redirect"
    assert reg["management"] == {
        "localOnly": True,
        "cacheDuration": "PT1M",
        "timeout": 500,
        "cooldown": 1,
    }
    assert reg["contextSourceInfo"] == [{"key": "Authorization", "value": "Bearer x"}]


def test_parse_registration_stores_context_source_properties_under_their_iris() -> None:
    reg = parse(operator="Seoul Metropolitan Government", tier={"level": 2})
    assert reg[EX + "operator"] == "Seoul Metropolitan Government"
    assert reg[EX + "tier"] == {"level": 2}


def test_parse_registration_ignores_read_only_members() -> None:
    reg = parse(status="ok", timesSent=3, createdAt="2020-01-01T00:00:00Z")
    assert not {"status", "timesSent", "createdAt"} & set(reg)


def test_parse_registration_accepts_entity_type_lists_and_the_type_iri() -> None:
    info = {"entities": [{"type": ["Vehicle", "Bus"]}]}
    reg = parse(type=NGSI + "ContextSourceRegistration", information=[info])
    assert reg["information"][0]["entities"][0]["type"] == [EX + "Vehicle", EX + "Bus"]


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"type": None}, "has no type"),
        ({"type": "Registration"}, "must be 'ContextSourceRegistration'"),
        ({"id": "not a uri"}, "Registration id must be a URI"),
        ({"information": None}, "has no information"),
        ({"information": []}, "information must be a non-empty array"),
        ({"information": [{}]}, "information[0] needs entities"),
        ({"information": ["Vehicle"]}, "information[0] must be a RegistrationInfo"),
        ({"information": [{"attrs": ["speed"]}]}, "unknown member 'attrs'"),
        ({"information": [{"entities": []}]}, "entities must be a non-empty array"),
        ({"information": [{"entities": [{"id": "urn:x:1"}]}]}, "entities[0] has no type"),
        ({"information": [{"entities": [{"type": 5}]}]}, "entities[0].type must be an entity type"),
        ({"information": [{"entities": [{"type": "V", "id": "x"}]}]}, ".id must be a URI"),
        ({"information": [{"entities": [{"type": "V", "idPattern": "("}]}]}, "not a valid"),
        ({"information": [{"propertyNames": []}]}, "propertyNames must be a non-empty"),
        ({"information": [{"relationshipNames": ["a b"]}]}, "forbidden character"),
        ({"endpoint": None}, "has no endpoint"),
        ({"endpoint": "seoul hub"}, "endpoint must be a URI"),
        ({"endpoint": "mqtt://broker:1883"}, "endpoint must be an http or https URI"),
        ({"expiresAt": "2020-01-01T00:00:00Z"}, "is not in the future"),
        ({"expiresAt": "tomorrow"}, "expiresAt must be an ISO 8601 DateTime"),
        ({"observationInterval": {"endAt": "2026-01-01T00:00:00Z"}}, "has no startAt"),
        (
            {
                "managementInterval": {
                    "startAt": "2026-01-02T00:00:00Z",
                    "endAt": "2026-01-01T00:00:00Z",
                }
            },
            "managementInterval.endAt must be after its startAt",
        ),
        ({"observationInterval": {"startAt": "x"}}, "observationInterval.startAt must be"),
        ({"location": {"type": "Point", "coordinates": [200, 0]}}, "location"),
        ({"observationSpace": "Seoul"}, "observationSpace"),
        ({"contextSourceInfo": [{"key": "k", "value": 1}]}, "contextSourceInfo[0]"),
        ({"contextSourceInfo": {"key": "k"}}, "contextSourceInfo must be an array"),
        ({"scope": "Seoul"}, "is not a valid scope"),
        ({"mode": "proxy"}, "mode must be one of"),
        ({"operations": ["fetchEverything"]}, "'fetchEverything' is not an NGSI-LD operation"),
        ({"operations": []}, "operations must be a non-empty array"),
        ({"refreshRate": "10 seconds"}, "refreshRate must be an ISO 8601 duration"),
        ({"management": "yes"}, "management must be a RegistrationManagementInfo"),
        ({"management": {"retries": 3}}, "management has the unknown member 'retries'"),
        ({"management": {"timeout": 0}}, "management.timeout must be a positive number"),
        ({"management": {"cooldown": -5}}, "management.cooldown must be a positive number"),
        ({"management": {"localOnly": "yes"}}, "management.localOnly must be true or false"),
        ({"management": {"cacheDuration": "bogus"}}, "management.cacheDuration must be"),
        ({"registrationName": ""}, "registrationName must be a non-empty string"),
        ({"description": 7}, "description must be a non-empty string"),
        ({"tenant": ""}, "tenant must be a non-empty string"),
        ({"operator": None, "owner": None, "contextSourceInfo": None}, ""),  # control: valid
    ],
)
def test_parse_registration_refuses_invalid_members(members: dict[str, Any], message: str) -> None:
    if not message:
        parse(**members)
        return
    rejected(message, **members)


def test_parse_registration_refuses_null_members() -> None:
    raw = body()
    raw["registrationName"] = None
    with pytest.raises(BadRequestData, match="registrationName cannot be null"):
        parse_registration(raw, TM, CONTEXT, now=NOW)


def test_parse_registration_refuses_a_property_that_names_a_core_member() -> None:
    rejected("names the core member endpoint", **{NGSI + "endpoint": "http://other.example"})


def test_parse_registration_refuses_a_body_that_is_not_an_object() -> None:
    with pytest.raises(BadRequestData, match="must be a JSON object"):
        parse_registration([body()], TM, CONTEXT, now=NOW)


# --- mode rules (clause 4.3.6) ----------------------------------------------------------


def test_parse_registration_accepts_an_exclusive_registration_of_entity_attributes() -> None:
    assert parse(mode="exclusive")["mode"] == "exclusive"


@pytest.mark.parametrize(
    ("information", "message"),
    [
        ([{"propertyNames": ["speed"]}], "needs entities with ids in information[0]"),
        (
            [{"entities": [{"type": "Vehicle"}], "propertyNames": ["speed"]}],
            "needs an entity id and no idPattern",
        ),
        (
            [{"entities": [{"type": "Vehicle", "idPattern": ".*"}], "propertyNames": ["speed"]}],
            "needs an entity id and no idPattern",
        ),
        (
            [{"entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:A1"}]}],
            "needs propertyNames or relationshipNames",
        ),
    ],
)
def test_parse_registration_refuses_exclusive_registrations_of_groups(
    information: list[dict[str, Any]], message: str
) -> None:
    rejected(message, mode="exclusive", information=information)


def test_parse_registration_limits_auxiliary_registrations_to_retrieval() -> None:
    rejected("auxiliary registration only serves", mode="auxiliary", operations=["updateOps"])
    rejected("its operations include", mode="auxiliary", operations=["federationOps"])
    assert parse(mode="auxiliary", operations=["retrieveOps"])["mode"] == "auxiliary"
    assert parse(mode="auxiliary", operations=["queryEntity"])["mode"] == "auxiliary"


# --- merge_registration (clause 5.9.3) --------------------------------------------------


def test_merge_registration_replaces_members_and_removes_nulls() -> None:
    reg = parse(registrationName="Seoul hub", mode="redirect", operations=["retrieveOps"])
    new_info = [{"entities": [{"type": "Bus"}]}]
    merged = merge_registration(
        reg,
        {"information": new_info, "registrationName": None, "mode": None, "operations": None},
        TM,
        now=NOW,
    )
    assert merged["information"] == [{"entities": [{"type": EX + "Bus"}]}]
    assert "registrationName" not in merged
    assert merged["mode"] == "inclusive"
    assert merged["operationsExpanded"] == expand_operations(["federationOps"])
    assert reg["registrationName"] == "Seoul hub"  # the stored form is not changed in place


def test_merge_registration_removes_an_expiry_and_keeps_an_expired_one_unchanged() -> None:
    reg = parse(expiresAt="2027-01-01T00:00:00Z")
    assert "expiresAt" not in merge_registration(reg, {"expiresAt": None}, TM, now=NOW)
    later = datetime(2028, 1, 1, tzinfo=UTC)  # expired by then: other members still change
    merged = merge_registration(reg, {"registrationName": "Old"}, TM, now=later)
    assert merged["expiresAt"] == "2027-01-01T00:00:00Z"


def test_merge_registration_adds_and_removes_context_source_properties() -> None:
    reg = parse(operator="Seoul")
    merged = merge_registration(reg, {"operator": None, "owner": "City"}, TM, now=NOW)
    assert EX + "operator" not in merged
    assert merged[EX + "owner"] == "City"


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ({}, "changes nothing"),
        ({"id": REG_ID, "type": "ContextSourceRegistration"}, "changes nothing"),
        ({"status": "ok"}, "changes nothing"),
        ({"id": "urn:ngsi-ld:ContextSourceRegistration:other", "mode": "redirect"}, "may not"),
        ({"endpoint": None}, "endpoint cannot be removed"),
        ({"information": None}, "information cannot be removed"),
        ({"type": "Subscription", "mode": "redirect"}, "must be 'ContextSourceRegistration'"),
        ({"mode": "exclusive", "information": [{"entities": [{"type": "Bus"}]}]}, "exclusive"),
        ({"expiresAt": "2001-01-01T00:00:00Z"}, "is not in the future"),
        ({"operations": ["nothing"]}, "is not an NGSI-LD operation"),
    ],
)
def test_merge_registration_refuses_invalid_fragments(
    fragment: dict[str, Any], message: str
) -> None:
    reg = parse()
    before = copy.deepcopy(reg)
    with pytest.raises(BadRequestData) as info:
        merge_registration(reg, fragment, TM, now=NOW)
    assert message in info.value.detail, info.value.detail
    assert reg == before


def test_merge_registration_checks_the_whole_result() -> None:
    reg = parse(information=[{"entities": [{"type": "Vehicle"}], "propertyNames": ["speed"]}])
    with pytest.raises(BadRequestData, match="exclusive registration needs an entity id"):
        merge_registration(reg, {"mode": "exclusive"}, TM, now=NOW)


# --- render_registration (clause 5.10.1) ------------------------------------------------


def test_render_registration_compacts_names_and_shows_defaults() -> None:
    reg = parse(operator="Seoul", information=[{"entities": [{"type": ["Vehicle", "Bus"]}]}])
    out = render_registration(
        reg, RegistrationStatus(), TM, sys_attrs=False, created_at="c", modified_at="m"
    )
    assert out == {
        "id": REG_ID,
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": ["Vehicle", "Bus"]}]}],
        "endpoint": "http://seoul.example.org:1026",
        "operator": "Seoul",
        "mode": "inclusive",
        "operations": ["federationOps"],
    }


def test_render_registration_shows_status_and_system_times_when_asked() -> None:
    status = RegistrationStatus(3, 1, "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", "ok")
    out = render_registration(
        parse(), status, TM, sys_attrs=True, created_at="2026-01-01T00:00:00Z", modified_at="m"
    )
    assert out["status"] == "ok"
    assert (out["timesSent"], out["timesFailed"]) == (3, 1)
    assert out["lastSuccess"] == "2026-01-02T00:00:00Z"
    assert out["lastFailure"] == "2026-01-01T00:00:00Z"
    assert (out["createdAt"], out["modifiedAt"]) == ("2026-01-01T00:00:00Z", "m")


def test_registration_expired_compares_expires_at_with_now() -> None:
    reg = parse(expiresAt="2027-01-01T00:00:00Z")
    assert not registration_expired(reg, NOW)
    assert registration_expired(reg, datetime(2027, 1, 1, tzinfo=UTC))
    assert not registration_expired(parse(), NOW + timedelta(days=9999))


# --- operation groups (clause 4.20) -----------------------------------------------------


def test_expand_operations_expands_groups_and_keeps_single_operations() -> None:
    assert expand_operations(["updateOps"]) == [
        "replaceAttrs",
        "replaceEntity",
        "updateAttrs",
        "updateEntity",
    ]
    federation = set(expand_operations(["federationOps"]))
    assert {"queryEntity", "queryBatch", "retrieveEntityTypes", "createSubscription"} <= federation
    assert not {"createEntity", "updateEntity", "deleteEntity"} & federation
    redirection = set(expand_operations(["redirectionOps"]))
    assert {"createEntity", "mergeEntity", "deleteAttrs", "queryEntity"} <= redirection
    assert not {"createBatch", "createSubscription"} & redirection


def test_is_operation_name_knows_operations_and_groups_only() -> None:
    assert all(is_operation_name(name) for name in (*OPERATION_GROUPS, "queryTemporal"))
    assert not is_operation_name("associationOps")
    assert not is_operation_name(5)


# --- registration_matches (clauses 5.10.2, 5.12) ----------------------------------------

VEHICLE = {"type": EX + "Vehicle"}
A1 = "urn:ngsi-ld:Vehicle:A1"


def test_registration_matches_entity_types_by_selection() -> None:
    reg = stored(info({"type": [EX + "Vehicle", EX + "Bus"]}))
    assert registration_matches(reg, RegistrationFilter(types=TypeName(EX + "Bus")))
    assert registration_matches(
        reg, RegistrationFilter(types=TypeAll((TypeName(EX + "Bus"), TypeName(EX + "Vehicle"))))
    )
    assert not registration_matches(reg, RegistrationFilter(types=TypeName(EX + "Tram")))
    anything = stored(info(props=["speed"]))  # no entities: any entity
    assert registration_matches(anything, RegistrationFilter(types=TypeName(EX + "Tram")))


@pytest.mark.parametrize(
    ("entity", "ids", "pattern", "expected"),
    [
        ({**VEHICLE, "id": A1}, (A1,), None, True),
        ({**VEHICLE, "id": A1}, ("urn:ngsi-ld:Vehicle:B2",), None, False),
        ({**VEHICLE, "idPattern": "Vehicle:A"}, (A1,), None, True),
        ({**VEHICLE, "idPattern": "Vehicle:B"}, (A1,), None, False),
        (VEHICLE, (A1,), None, True),  # a type-only group holds any id
        ({**VEHICLE, "id": A1}, None, "Vehicle:A", True),
        ({**VEHICLE, "id": A1}, None, "Bus:", False),
        ({**VEHICLE, "idPattern": "Bus:"}, None, "Vehicle:", True),  # patterns may overlap
    ],
)
def test_registration_matches_ids_and_patterns_by_overlap(
    entity: dict[str, Any], ids: tuple[str, ...] | None, pattern: str | None, expected: bool
) -> None:
    flt = RegistrationFilter(ids=ids, id_pattern=pattern)
    assert registration_matches(stored(info(entity)), flt) is expected


def test_registration_matches_attributes_in_the_same_registration_info() -> None:
    reg = stored(
        info({"type": EX + "Vehicle"}, props=["speed"]),
        info({"type": EX + "Bus"}, props=["occupancy"]),
    )
    speed = frozenset({EX + "speed"})
    assert registration_matches(reg, RegistrationFilter(attrs=speed))
    assert registration_matches(
        reg, RegistrationFilter(types=TypeName(EX + "Vehicle"), attrs=speed)
    )
    assert not registration_matches(
        reg, RegistrationFilter(types=TypeName(EX + "Bus"), attrs=speed)
    )
    unnamed = stored(info({"type": EX + "Bus"}))  # no attribute names: every attribute
    assert registration_matches(unnamed, RegistrationFilter(attrs=speed))


def test_registration_matches_selectors_when_any_of_them_does() -> None:
    reg = stored(info({"type": EX + "Bus", "id": "urn:ngsi-ld:Bus:1"}))
    bus = EntitySelector(types=TypeName(EX + "Bus"))
    tram = EntitySelector(types=TypeName(EX + "Tram"))
    assert registration_matches(reg, RegistrationFilter(selectors=(tram, bus)))
    assert not registration_matches(reg, RegistrationFilter(selectors=(tram,)))
    other_bus = EntitySelector(types=TypeAny((TypeName(EX + "Bus"),)), ids=("urn:ngsi-ld:Bus:2",))
    assert not registration_matches(reg, RegistrationFilter(selectors=(other_bus,)))


def test_registration_matches_q_and_csf_on_context_source_properties() -> None:
    reg = stored(info(VEHICLE), **{EX + "tier": 2, "registrationName": "Seoul hub"})
    tm = TermMap(
        {"registrationName": NGSI + "registrationName", "endpoint": NGSI + "endpoint"}, {}, EX
    )

    def holds(text: str) -> bool:
        expr = resolve_q(parse_q(text), tm)
        return registration_matches(reg, RegistrationFilter(properties=(expr,)))

    assert holds("tier>1")
    assert not holds("tier>2")
    assert holds('endpoint=="http://source.example.org"')
    assert holds('registrationName=="Seoul hub";tier==2')
    assert not holds("owner")


def test_registration_matches_scope_and_geometry_of_the_registration() -> None:
    seoul = {"type": "Polygon", "coordinates": [[[126, 37], [128, 37], [128, 38], [126, 37]]]}
    reg = stored(info(VEHICLE), scope=["/Korea/Seoul"], location=seoul)
    assert registration_matches(reg, RegistrationFilter(scope=parse_scope_query("/Korea/#")))
    assert not registration_matches(reg, RegistrationFilter(scope=parse_scope_query("/Japan")))
    inside = GeoQuery(
        "intersects", {"type": "Point", "coordinates": [127.5, 37.5]}, NGSI + "location"
    )
    outside = GeoQuery(
        "intersects", {"type": "Point", "coordinates": [139.7, 35.7]}, NGSI + "location"
    )
    space = GeoQuery("intersects", inside.geometry, NGSI + "observationSpace")
    assert registration_matches(reg, RegistrationFilter(geo=inside))
    assert not registration_matches(reg, RegistrationFilter(geo=outside))
    assert not registration_matches(reg, RegistrationFilter(geo=space))  # it has none


def temporal(timerel: str, at: str, end: str | None = None, prop: str | None = None) -> Any:
    return parse_temporal_query(timerel, at, end, prop, None, required=True)


def test_registration_matches_time_intervals_only_with_a_temporal_query() -> None:
    latest = stored(info(VEHICLE))
    history = stored(
        info(VEHICLE),
        observationInterval={"startAt": "2026-01-01T00:00:00Z", "endAt": "2026-02-01T00:00:00Z"},
    )
    assert registration_matches(latest, RegistrationFilter())
    assert not registration_matches(history, RegistrationFilter())
    assert not registration_matches(
        latest, RegistrationFilter(temporal=temporal("after", "2020-01-01T00:00:00Z"))
    )
    cases = [
        (temporal("before", "2026-01-15T00:00:00Z"), True),
        (temporal("before", "2026-01-01T00:00:00Z"), False),  # before is exclusive
        (temporal("after", "2026-01-31T00:00:00Z"), True),
        (temporal("after", "2026-02-01T00:00:00Z"), False),
        (temporal("between", "2025-12-01T00:00:00Z", "2026-01-02T00:00:00Z"), True),
        (temporal("before", "2026-01-15T00:00:00Z", prop="modifiedAt"), False),  # no mgmt one
    ]
    for query, expected in cases:
        assert registration_matches(history, RegistrationFilter(temporal=query)) is expected, query


# --- proxied_conflict (clause 4.3.6.3) --------------------------------------------------


def proxied(mode: str, reg_id: str, entity: dict[str, Any], props: list[str] | None) -> Any:
    return stored(info(entity, props=props), mode=mode, id=reg_id)


EXCLUSIVE = proxied("exclusive", "urn:x:ex", {**VEHICLE, "id": A1}, ["speed"])


@pytest.mark.parametrize(
    ("other", "conflicts"),
    [
        (proxied("exclusive", "urn:x:2", {**VEHICLE, "id": A1}, ["speed", "fuel"]), True),
        (proxied("redirect", "urn:x:2", {**VEHICLE, "id": A1}, ["speed"]), True),
        (proxied("redirect", "urn:x:2", VEHICLE, None), True),  # a group holding A1, all attrs
        (proxied("redirect", "urn:x:2", {**VEHICLE, "idPattern": "Vehicle:A"}, ["speed"]), True),
        (proxied("redirect", "urn:x:2", {**VEHICLE, "idPattern": "Vehicle:B"}, ["speed"]), False),
        (proxied("exclusive", "urn:x:2", {**VEHICLE, "id": A1}, ["fuel"]), False),
        (proxied("exclusive", "urn:x:2", {**VEHICLE, "id": "urn:x:B2"}, ["speed"]), False),
        (proxied("redirect", "urn:x:2", {"type": EX + "Bus"}, ["speed"]), False),
        (proxied("inclusive", "urn:x:2", {**VEHICLE, "id": A1}, ["speed"]), False),
        (proxied("auxiliary", "urn:x:2", {**VEHICLE, "id": A1}, ["speed"]), False),
    ],
)
def test_proxied_conflict_keeps_an_exclusive_registration_alone(
    other: dict[str, Any], conflicts: bool
) -> None:
    """Either order: the exclusive one existing, or the other one existing first."""
    assert (proxied_conflict(other, [EXCLUSIVE]) is EXCLUSIVE) is (
        conflicts and other["mode"] in {"exclusive", "redirect"}
    )
    assert (proxied_conflict(EXCLUSIVE, [other]) is other) is conflicts


def test_proxied_conflict_lets_redirect_registrations_overlap() -> None:
    first = proxied("redirect", "urn:x:1", {**VEHICLE, "id": A1}, ["speed"])
    second = proxied("redirect", "urn:x:2", {**VEHICLE, "id": A1}, ["speed"])
    assert proxied_conflict(second, [first]) is None
    assert proxied_conflict(EXCLUSIVE, [EXCLUSIVE]) is None  # itself, on update


# --- registration subscriptions (clause 5.11) -------------------------------------------


def csub(**members: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "urn:ngsi-ld:Subscription:csr",
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}},
    }
    base.update(members)
    return {name: value for name, value in base.items() if value is not None}


def test_parse_csource_subscription_keeps_temporal_q_and_shared_members() -> None:
    sub = parse_csource_subscription(
        csub(
            watchedAttributes=["speed"],
            csf="tier>1",
            temporalQ={"timerel": "after", "timeAt": "2026-01-01T09:00:00+09:00"},
        ),
        TM,
        CONTEXT,
        now=NOW,
    )
    assert sub["entities"] == [{"type": EX + "Vehicle"}]
    assert sub["watchedAttributes"] == [EX + "speed"]
    assert sub["temporalQ"] == {"timerel": "after", "timeAt": "2026-01-01T00:00:00Z"}
    assert sub["@context"] == CONTEXT


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"notificationTrigger": ["entityCreated"]}, "notificationTrigger concerns entity"),
        (
            {"notification": {"showChanges": True, "endpoint": {"uri": "http://a.example"}}},
            "showChanges concerns entity changes",
        ),
        ({"notification": {"endpoint": {"uri": "mqtt://broker/t"}}}, "http or https URI"),
        (
            {
                "notification": {
                    "endpoint": {"uri": "http://a.example", "accept": "application/geo+json"}
                }
            },
            "accept of a registration subscription",
        ),
        ({"temporalQ": {"timeAt": "2026-01-01T00:00:00Z"}}, "temporalQ: A temporal query needs"),
        ({"temporalQ": {"timerel": "after", "at": "x"}}, "temporalQ has the unknown member"),
        ({"temporalQ": "after"}, "temporalQ must be a TemporalQuery"),
        ({"csf": "tier>"}, "csf"),
        ({"entities": None}, "needs entities, watchedAttributes or both"),
        ({"type": "CsourceSubscription"}, "must be 'Subscription'"),
    ],
)
def test_parse_csource_subscription_refuses_what_registrations_cannot_use(
    members: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequestData) as info:
        parse_csource_subscription(csub(**members), TM, CONTEXT, now=NOW)
    assert message in info.value.detail, info.value.detail


def test_parse_csource_subscription_does_not_support_periodic_ones() -> None:
    with pytest.raises(OperationNotSupported, match="timeInterval"):
        parse_csource_subscription(csub(timeInterval=60), TM, CONTEXT, now=NOW)


def test_merge_csource_fragment_changes_temporal_q_alone_or_with_shared_members() -> None:
    sub = parse_csource_subscription(csub(), TM, CONTEXT, now=NOW)
    when = {"timerel": "before", "timeAt": "2026-01-01T00:00:00Z"}
    merged = merge_csource_fragment(sub, {"temporalQ": when}, TM, now=NOW)
    assert merged["temporalQ"] == when
    merged = merge_csource_fragment(merged, {"watchedAttributes": ["speed"]}, TM, now=NOW)
    assert merged["temporalQ"] == when
    assert merged["watchedAttributes"] == [EX + "speed"]
    removed = merge_csource_fragment(merged, {"temporalQ": None}, TM, now=NOW)
    assert "temporalQ" not in removed
    with pytest.raises(BadRequestData, match="changes nothing"):
        merge_csource_fragment(sub, {"id": sub["id"]}, TM, now=NOW)
    with pytest.raises(OperationNotSupported):
        merge_csource_fragment(sub, {"timeInterval": 10}, TM, now=NOW)


def test_render_csource_subscription_has_no_notification_trigger() -> None:
    sub = parse_csource_subscription(csub(), TM, CONTEXT, now=NOW)
    out = render_csource_subscription(
        sub, DeliveryStatus(), TM, now=NOW, sys_attrs=False, created_at="c", modified_at="m"
    )
    assert "notificationTrigger" not in out
    assert out["entities"] == [{"type": "Vehicle"}]
    assert out["status"] == "active"


def compiled(**members: Any) -> Any:
    return compile_csource_subscription(
        parse_csource_subscription(csub(**members), TM, CONTEXT, now=NOW), TM
    )


def test_trigger_reason_follows_the_registration_in_and_out_of_the_subscription() -> None:
    sub = compiled()
    vehicle = stored(info(VEHICLE))
    bus = stored(info({"type": EX + "Bus"}))
    assert trigger_reason(sub, None, vehicle) == NEWLY_MATCHING
    assert trigger_reason(sub, bus, vehicle) == NEWLY_MATCHING
    assert trigger_reason(sub, vehicle, vehicle) == UPDATED
    assert trigger_reason(sub, vehicle, bus) == NO_LONGER_MATCHING
    assert trigger_reason(sub, vehicle, None) == NO_LONGER_MATCHING
    assert trigger_reason(sub, bus, None) is None
    assert trigger_reason(sub, None, bus) is None


def test_trigger_reason_without_temporal_q_ignores_registrations_with_intervals() -> None:
    history = stored(info(VEHICLE), observationInterval={"startAt": "2026-01-01T00:00:00Z"})
    assert trigger_reason(compiled(), None, history) is None
    later = compiled(temporalQ={"timerel": "after", "timeAt": "2026-06-01T00:00:00Z"})
    assert trigger_reason(later, None, history) == NEWLY_MATCHING


def test_compiled_csource_subscription_is_live_while_active_and_not_expired() -> None:
    assert compiled().live(NOW)
    assert not compiled(isActive=False).live(NOW)
    soon = compiled(expiresAt="2026-12-01T00:00:00Z")
    assert soon.live(NOW)
    assert not soon.live(datetime(2026, 12, 1, tzinfo=UTC))


def test_relevant_part_keeps_the_matching_registration_info() -> None:
    vehicle, bus = info(VEHICLE), info({"type": EX + "Bus"})
    reg = stored(vehicle, bus)
    assert relevant_part(reg, compiled().filter)["information"] == [vehicle]
    assert relevant_part(stored(bus), compiled().filter)["information"] == [bus]


def test_csource_notification_renders_registrations_in_the_subscription_terms() -> None:
    sub = parse_csource_subscription(
        csub(notification={"sysAttrs": True, "endpoint": {"uri": "http://a.example"}}),
        TM,
        CONTEXT,
        now=NOW,
    )
    reg = stored(info(VEHICLE, props=["speed"]), **{EX + "tier": 2})
    payload = {
        "triggerReason": UPDATED,
        "registrations": [{"doc": reg, "createdAt": "c", "modifiedAt": "m"}],
    }
    body = csource_notification(sub, payload, TM, notification_id="urn:n:1", notified_at="t")
    assert body["type"] == "ContextSourceNotification"
    assert (body["id"], body["subscriptionId"], body["notifiedAt"]) == ("urn:n:1", sub["id"], "t")
    assert body["triggerReason"] == UPDATED
    [data] = body["data"]
    assert data["information"] == [{"entities": [{"type": "Vehicle"}], "propertyNames": ["speed"]}]
    assert data["tier"] == 2
    assert (data["createdAt"], data["modifiedAt"]) == ("c", "m")


# --- the hub's uptime (clause 5.2.40) ---------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "PT0S"),
        (0.25, "PT0.25S"),
        (59, "PT59S"),
        (60, "PT1M"),
        (3_600, "PT1H"),
        (86_400, "P1D"),
        (93_784.5, "P1DT2H3M4.5S"),
    ],
)
def test_iso_duration_writes_iso_8601_durations(seconds: float, text: str) -> None:
    assert iso_duration(seconds) == text
