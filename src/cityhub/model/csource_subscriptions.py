"""Context Source Registration Subscriptions (clause 5.11) and the notifications they send
(CsourceNotification, clause 5.3.2).

A registration subscription is the Subscription data type (clause 5.2.12) aimed at
registrations, so every member both kinds share is parsed by model/subscriptions.py and the
two never disagree on one. What differs:

* ``temporalQ`` (clause 5.2.21) exists only here: with it, registrations of sources that
  provide temporal information are matched on their time intervals; without it only
  registrations without intervals are (see model/registration_match.py).
* ``notificationTrigger`` and ``notification.showChanges`` describe entity changes and are
  refused; the endpoint must be http or https with a JSON or JSON-LD ``accept`` (the HTTP
  binding; the hub's MQTT and live-feed transports carry entity notifications only).
* A periodic subscription (``timeInterval``) is OperationNotSupported: this hub notifies when
  registrations change, and on creating or updating the subscription.

Stored form: model/subscriptions.py's, plus ``temporalQ`` as given but checked and with its
instants normalized.

A notification (clause 5.3.2) tells one subscription that registrations newly match it
(``newlyMatching``: first notification, a new or changed registration that did not match
before), still match after a change (``updated``) or no longer match (``noLongerMatching``:
changed or deleted). Its ``data`` holds the registrations in the subscription's terms, each
reduced to the RegistrationInfo elements that match the subscription (the whole registration
when it no longer matches).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cityhub.errors import BadRequestData, OperationNotSupported
from cityhub.jsonld.termmap import TermMap
from cityhub.model.registration_match import RegistrationFilter, registration_matches
from cityhub.model.registrations import Registration, RegistrationStatus, render_registration
from cityhub.model.subscriptions import (
    DeliveryStatus,
    Subscription,
    entity_type_selection,
    merge_fragment,
    parse_subscription,
    render_subscription,
)
from cityhub.model.values import format_datetime, parse_datetime
from cityhub.query.ast import EntitySelector
from cityhub.query.geo import geo_query_from_json
from cityhub.query.q import parse_q
from cityhub.query.resolve import resolve_q
from cityhub.query.scope import parse_scope_query
from cityhub.query.temporal import parse_temporal_query

NEWLY_MATCHING = "newlyMatching"
UPDATED = "updated"
NO_LONGER_MATCHING = "noLongerMatching"
NOTIFICATION_TYPE = "ContextSourceNotification"

_OWN = frozenset({"temporalQ"})
_ENTITY_ONLY = ("notificationTrigger",)
_ACCEPTS = ("application/json", "application/ld+json")
_TEMPORAL_MEMBERS = frozenset({"timerel", "timeAt", "endTimeAt", "timeproperty"})
_NAMESPACE = uuid.UUID("4a3b1c2d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")


def parse_csource_subscription(
    body: Any, tm: TermMap, context: Any, *, now: datetime
) -> Subscription:
    """A Create Context Source Registration Subscription body (clause 5.11.2) as the stored
    form. Raises BadRequestData naming the member, OperationNotSupported for timeInterval."""
    if not isinstance(body, dict):
        raise BadRequestData("A subscription must be a JSON object")
    shared = {name: value for name, value in body.items() if name not in _OWN}
    _check_own(shared)
    sub = parse_subscription(shared, tm, context, now=now)
    _check_notification(sub)
    _check_csf(sub, tm)
    if "temporalQ" in body:
        sub["temporalQ"] = _temporal_q(body["temporalQ"])
    return sub


def merge_csource_fragment(
    stored: Subscription, fragment: Any, tm: TermMap, *, now: datetime
) -> Subscription:
    """Update Context Source Registration Subscription (clause 5.11.3): as Update
    Subscription (clause 5.8.2), ``temporalQ`` included."""
    if not isinstance(fragment, dict):
        raise BadRequestData("A subscription fragment must be a JSON object")
    shared = {name: value for name, value in fragment.items() if name not in _OWN}
    _check_own(shared)
    base = {name: value for name, value in stored.items() if name not in _OWN}
    if any(name not in {"id", "type", "@context"} for name in shared):
        merged = merge_fragment(base, shared, tm, now=now)
    elif any(name in _OWN for name in fragment):
        merged = base
    else:
        raise BadRequestData("The subscription fragment changes nothing")
    _check_notification(merged)
    if "csf" in fragment:
        _check_csf(merged, tm)
    temporal = fragment["temporalQ"] if "temporalQ" in fragment else stored.get("temporalQ")
    if temporal is not None:
        merged["temporalQ"] = _temporal_q(temporal) if "temporalQ" in fragment else temporal
    return merged


def _check_own(body: dict[str, Any]) -> None:
    for name in _ENTITY_ONLY:
        if name in body:
            raise BadRequestData(
                f"{name} concerns entity changes; a registration subscription cannot have it"
            )
    if "timeInterval" in body and body["timeInterval"] is not None:
        raise OperationNotSupported(
            "Periodic registration subscriptions (timeInterval) are not supported: this hub"
            " notifies when registrations change"
        )


def _check_notification(sub: Subscription) -> None:
    params = sub["notification"]
    if params.get("showChanges"):
        raise BadRequestData("notification.showChanges concerns entity changes")
    endpoint = params["endpoint"]
    if endpoint["uri"].split(":", 1)[0].lower() not in {"http", "https"}:
        raise BadRequestData(
            "notification.endpoint.uri of a registration subscription must be an http or"
            f" https URI, got {endpoint['uri']!r}"
        )
    if endpoint.get("accept", _ACCEPTS[0]) not in _ACCEPTS:
        raise BadRequestData(
            "notification.endpoint.accept of a registration subscription must be"
            f" {' or '.join(_ACCEPTS)}, got {endpoint['accept']!r}"
        )


def _check_csf(sub: Subscription, tm: TermMap) -> None:
    """csf is a query over registration members (clause 4.9 syntax): checked now, not at the
    first registration change."""
    if "csf" in sub:
        resolve_q(parse_q(sub["csf"], "csf"), tm, "csf")


def _temporal_q(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise BadRequestData("temporalQ must be a TemporalQuery object")
    unknown = sorted(set(value) - _TEMPORAL_MEMBERS)
    if unknown:
        raise BadRequestData(f"temporalQ has the unknown member {unknown[0]!r}")
    for name, text in value.items():
        if not isinstance(text, str):
            raise BadRequestData(f"temporalQ.{name} must be a string, got {text!r}")
    try:
        parse_temporal_query(
            value.get("timerel"),
            value.get("timeAt"),
            value.get("endTimeAt"),
            value.get("timeproperty"),
            None,
            required=True,
        )
    except BadRequestData as exc:
        raise BadRequestData(f"temporalQ: {exc.detail}") from None
    out = dict(value)
    for name in ("timeAt", "endTimeAt"):
        if name in out:
            out[name] = format_datetime(parse_datetime(out[name], f"temporalQ.{name}"))
    return out


def render_csource_subscription(
    sub: Subscription,
    delivery: DeliveryStatus,
    tm: TermMap,
    *,
    now: datetime,
    sys_attrs: bool,
    created_at: str,
    modified_at: str,
) -> dict[str, Any]:
    """A stored registration subscription in the requester's terms (clause 5.11.4)."""
    out = render_subscription(
        sub,
        delivery,
        tm,
        now=now,
        sys_attrs=sys_attrs,
        created_at=created_at,
        modified_at=modified_at,
    )
    out.pop("notificationTrigger", None)  # the entity subscriptions' default, not ours
    return out


# --- matching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledCsourceSubscription:
    """A registration subscription ready to be matched against registrations."""

    id: str
    doc: Subscription
    filter: RegistrationFilter
    active: bool
    expires_at: datetime | None

    def live(self, now: datetime) -> bool:
        """Active and not expired: only then does it notify."""
        return self.active and (self.expires_at is None or now < self.expires_at)


def compile_csource_subscription(doc: Subscription, tm: TermMap) -> CompiledCsourceSubscription:
    """``tm`` is the TermMap of the subscription's ``@context`` (q and csf name members)."""
    selectors = None
    if "entities" in doc:
        selectors = tuple(
            EntitySelector(
                types=entity_type_selection(item),
                ids=(item["id"],) if "id" in item else None,
                id_pattern=item.get("idPattern") if "id" not in item else None,
            )
            for item in doc["entities"]
        )
    properties = tuple(
        resolve_q(parse_q(doc[member], member), tm, member)
        for member in ("q", "csf")
        if member in doc
    )
    temporal = None
    if "temporalQ" in doc:
        given = doc["temporalQ"]
        temporal = parse_temporal_query(
            given.get("timerel"),
            given.get("timeAt"),
            given.get("endTimeAt"),
            given.get("timeproperty"),
            None,
            required=True,
        )
    watched = doc.get("watchedAttributes")
    flt = RegistrationFilter(
        selectors=selectors,
        attrs=frozenset(watched) if watched else None,
        properties=properties,
        scope=parse_scope_query(doc["scopeQ"]) if "scopeQ" in doc else None,
        geo=geo_query_from_json(doc["geoQ"]) if "geoQ" in doc else None,
        temporal=temporal,
    )
    return CompiledCsourceSubscription(
        id=doc["id"],
        doc=doc,
        filter=flt,
        active=doc.get("isActive", True),
        expires_at=parse_datetime(doc["expiresAt"], "expiresAt") if "expiresAt" in doc else None,
    )


def trigger_reason(
    sub: CompiledCsourceSubscription, before: Registration | None, after: Registration | None
) -> str | None:
    """What a registration change means to ``sub`` (None: nothing to tell it)."""
    was = before is not None and registration_matches(before, sub.filter)
    now = after is not None and registration_matches(after, sub.filter)
    if now:
        return UPDATED if was else NEWLY_MATCHING
    return NO_LONGER_MATCHING if was else None


def relevant_part(reg: Registration, flt: RegistrationFilter) -> Registration:
    """``reg`` with only the RegistrationInfo elements that match ``flt`` (all of them when
    none does on its own, e.g. a registration that no longer matches)."""
    kept = [
        info
        for info in reg["information"]
        if registration_matches({**reg, "information": [info]}, flt)
    ]
    return {**reg, "information": kept} if kept else reg


# --- notifications (clause 5.3.2) --------------------------------------------------------


def notification_id(tenant: str, row_id: int) -> str:
    """Derived from the queued row, so a retried notification keeps its id."""
    return f"urn:ngsi-ld:Notification:{uuid.uuid5(_NAMESPACE, f'csource|{tenant}|{row_id}')}"


def csource_notification(
    sub: Subscription,
    payload: dict[str, Any],
    tm: TermMap,
    *,
    notification_id: str,
    notified_at: str,
) -> dict[str, Any]:
    """The CsourceNotification body for a queued ``payload`` (``triggerReason`` and
    ``registrations``: stored registrations with their createdAt and modifiedAt)."""
    sys_attrs = bool(sub["notification"].get("sysAttrs"))
    data = [
        render_registration(
            item["doc"],
            RegistrationStatus(),
            tm,
            sys_attrs=sys_attrs,
            created_at=item["createdAt"],
            modified_at=item["modifiedAt"],
        )
        for item in payload["registrations"]
    ]
    return {
        "id": notification_id,
        "type": NOTIFICATION_TYPE,
        "subscriptionId": sub["id"],
        "notifiedAt": notified_at,
        "data": data,
        "triggerReason": payload["triggerReason"],
    }
