"""Which changes a subscription is told about (notifications/matcher.py, clause 5.2.12
notificationTrigger and watchedAttributes, filters on the changed entity)."""

from __future__ import annotations

from typing import Any

import pytest

from cityhub.events import CREATED, DELETED, UPDATED, ChangeEvent
from cityhub.jsonld.termmap import TermMap
from cityhub.notifications.matcher import attribute_changes, compile_subscription, trigger_of

EX = "https://example.org/"
PARKING = EX + "Parking"
SPOTS = EX + "spots"
NAME = EX + "name"


def prop(value: Any) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value}]


def entity(**attrs: Any) -> dict[str, Any]:
    doc = {"id": "urn:ngsi-ld:Parking:1", "type": [PARKING], "createdAt": "t", "modifiedAt": "t"}
    doc.update({EX + name: value for name, value in attrs.items()})
    return doc


def sub(**members: Any) -> Any:
    doc = {
        "id": "urn:ngsi-ld:Subscription:1",
        "type": "Subscription",
        "entities": [{"type": PARKING}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9"}},
    }
    doc.update(members)
    return compile_subscription("", doc, TermMap({}, {}, EX))


def event(kind: str, before: Any, after: Any) -> ChangeEvent:
    return ChangeEvent("", kind, "urn:ngsi-ld:Parking:1", before, after)


def test_matcher_attribute_changes_tell_created_updated_and_deleted_apart() -> None:
    before = entity(spots=prop(1), name=prop("a"))
    after = entity(spots=prop(2), status=prop("open"))
    assert attribute_changes(before, after) == ({EX + "status"}, {SPOTS}, {NAME})


@pytest.mark.parametrize(
    ("members", "change", "expected"),
    [
        ({}, event(CREATED, None, entity(spots=prop(1))), "attributeCreated"),
        ({}, event(CREATED, None, entity()), None),  # no attribute created
        ({}, event(UPDATED, entity(spots=prop(1)), entity(spots=prop(2))), "attributeUpdated"),
        ({}, event(UPDATED, entity(spots=prop(1)), entity()), None),  # deletion not default
        ({}, event(DELETED, entity(spots=prop(1)), None), None),
        (
            {"notificationTrigger": ["entityUpdated"]},
            event(UPDATED, entity(spots=prop(1)), entity()),
            "attributeDeleted",
        ),
        (
            {"notificationTrigger": ["entityDeleted"]},
            event(DELETED, entity(spots=prop(1)), None),
            "entityDeleted",
        ),
        (
            {"notificationTrigger": ["entityCreated"]},
            event(CREATED, None, entity()),
            "entityCreated",
        ),
        (
            {"notificationTrigger": ["entityCreated"]},
            event(UPDATED, entity(spots=prop(1)), entity(spots=prop(2))),
            None,
        ),
        (
            {"watchedAttributes": [SPOTS]},
            event(
                UPDATED,
                entity(spots=prop(1), name=prop("a")),
                entity(spots=prop(1), name=prop("b")),
            ),
            None,
        ),
        (
            {"watchedAttributes": [SPOTS]},
            event(UPDATED, entity(spots=prop(1)), entity(spots=prop(3))),
            "attributeUpdated",
        ),
        ({"q": f"{SPOTS}>2"}, event(UPDATED, entity(spots=prop(1)), entity(spots=prop(2))), None),
        (
            {"q": f"{SPOTS}>2"},
            event(UPDATED, entity(spots=prop(1)), entity(spots=prop(3))),
            "attributeUpdated",
        ),
        (
            {"entities": [{"type": EX + "Sensor"}]},
            event(CREATED, None, entity(spots=prop(1))),
            None,
        ),
        (
            {"entities": [{"type": PARKING, "idPattern": ":2$"}]},
            event(CREATED, None, entity(spots=prop(1))),
            None,
        ),
        ({"timeInterval": 10}, event(CREATED, None, entity(spots=prop(1))), None),
    ],
)
def test_matcher_trigger_of_follows_triggers_watched_attributes_and_filters(
    members: dict[str, Any], change: ChangeEvent, expected: str | None
) -> None:
    assert trigger_of(sub(**members), change) == expected


def test_subscription_index_offers_every_subscription_that_can_match_a_change() -> None:
    from cityhub.notifications.planner import SubscriptionIndex

    endpoint = {"endpoint": {"uri": "http://127.0.0.1:9"}}
    selections: dict[str, dict[str, Any]] = {
        "by-type": {"entities": [{"type": PARKING}]},
        "by-id": {"entities": [{"type": PARKING, "id": "urn:ngsi-ld:Parking:1"}]},
        "other-id": {"entities": [{"type": PARKING, "id": "urn:ngsi-ld:Parking:2"}]},
        "any-of": {"entities": [{"type": f"{EX}Sensor,{PARKING}"}]},
        "all-of": {"entities": [{"type": f"{PARKING};{EX}Lot"}]},
        "watched-only": {"watchedAttributes": [SPOTS]},
        "other-type": {"entities": [{"type": EX + "Sensor"}]},
    }
    index = SubscriptionIndex(
        [
            compile_subscription(
                "",
                {"id": name, "type": "Subscription", "notification": endpoint, **members},
                TermMap({}, {}, EX),
            )
            for name, members in selections.items()
        ]
    )
    change = event(CREATED, None, entity(spots=prop(1)))
    offered = {candidate.id for candidate in index.candidates(change)}
    assert {"by-type", "by-id", "any-of", "all-of", "watched-only"} <= offered
    assert not {"other-id", "other-type"} & offered
