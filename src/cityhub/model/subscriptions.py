"""Subscriptions (clause 5.2.12) as the hub stores them: validated, names expanded to IRIs.

``parse_subscription`` checks a Create Subscription body (clause 5.8.1) member by member and
returns the stored form; ``merge_fragment`` applies an Update Subscription fragment (clause
5.8.2) to a stored subscription and checks the result as a whole, so an update can never
leave a subscription that a create would refuse. ``render_subscription`` gives the stored
form back in a requester's terms (clause 5.8.3), with the status members the hub keeps.

Stored form: the members of clause 5.2.12 with entity types (type expressions), watched and
notified attribute names and ``geoQ.geoproperty`` expanded to IRIs; ``q`` and ``scopeQ``
kept as given (checked here, resolved through ``@context`` when matched); ``@context`` is
the context of the request that created the subscription, used to read ``q`` and as the
default context of notifications.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.model.values import check_name, format_datetime, parse_datetime, require_uri
from cityhub.query.ast import TypeExpr, TypeName
from cityhub.query.geo import geo_query_from_json
from cityhub.query.q import parse_q, regex_problem
from cityhub.query.resolve import resolve_geo, resolve_q, resolve_types
from cityhub.query.scope import parse_scope_query
from cityhub.query.types import format_type_expression, parse_type_expression

Subscription = dict[str, Any]

TRIGGERS = (
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
)
DEFAULT_TRIGGERS = ("attributeCreated", "attributeUpdated")
FORMATS = ("normalized", "concise", "keyValues", "simplified")
ACCEPTS = ("application/json", "application/ld+json", "application/geo+json")
NOTIFY_SCHEMES = ("http", "https", "mqtt", "mqtts")
SSE_ENDPOINT = "urn:cityhub:sse"  # the hub's own live feed (notifications/feed_delivery.py)

# Members a client may send; the rest of clause 5.2.12 is read-only (status, createdAt, …).
_MEMBERS = frozenset(
    {
        "id",
        "type",
        "subscriptionName",
        "description",
        "entities",
        "watchedAttributes",
        "notificationTrigger",
        "timeInterval",
        "q",
        "geoQ",
        "scopeQ",
        "lang",
        "csf",
        "isActive",
        "notification",
        "expiresAt",
        "throttling",
        "jsonldContext",
        "@context",
    }
)
_READ_ONLY = frozenset({"status", "createdAt", "modifiedAt", "deletedAt"})
_NOTIFICATION_MEMBERS = frozenset({"attributes", "format", "sysAttrs", "showChanges", "endpoint"})
_NOTIFICATION_STATUS = frozenset(
    {"status", "timesSent", "timesFailed", "lastNotification", "lastFailure", "lastSuccess"}
)
_ENDPOINT_MEMBERS = frozenset(
    {"uri", "accept", "timeout", "cooldown", "receiverInfo", "notifierInfo"}
)


@dataclass
class DeliveryStatus:
    """What the hub records about a subscription's deliveries (clause 5.2.14)."""

    times_sent: int = 0
    times_failed: int = 0
    last_notification: str | None = None
    last_success: str | None = None
    last_failure: str | None = None
    status: str | None = None  # "ok" | "failed" once a notification has been attempted


def new_subscription_id() -> str:
    return f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"


def parse_subscription(body: Any, tm: TermMap, context: Any, *, now: datetime) -> Subscription:
    """A Create Subscription body (clause 5.8.1) as the stored form; an id is generated when
    the body has none. Raises BadRequestData naming the member and the problem."""
    if not isinstance(body, dict):
        raise BadRequestData("A subscription must be a JSON object")
    if "type" not in body:
        raise BadRequestData("The subscription has no type: it must be 'Subscription'")
    if "notification" not in body:
        raise BadRequestData("The subscription has no notification member")
    sub: Subscription = {
        "id": require_uri(body["id"], "Subscription id") if "id" in body else None,
        "type": "Subscription",
    }
    if sub["id"] is None:
        sub["id"] = new_subscription_id()
    _apply_members(sub, body, tm)
    sub["@context"] = context
    check_subscription(sub, now=now, new=True)
    return sub


def merge_fragment(
    stored: Subscription, fragment: Any, tm: TermMap, *, now: datetime
) -> Subscription:
    """Update Subscription (clause 5.8.2): each member of the fragment replaces the stored
    one as a whole (``notification`` too; ``null`` removes an optional member), then the
    result is checked like a new subscription. The fragment may repeat the subscription's id
    and type but not change them; names in it expand with the update request's @context."""
    if not isinstance(fragment, dict):
        raise BadRequestData("A subscription fragment must be a JSON object")
    if not any(name for name in fragment if name not in {"id", "type", "@context"}):
        raise BadRequestData("The subscription fragment changes nothing")
    if "id" in fragment and fragment["id"] != stored["id"]:
        raise BadRequestData("The subscription fragment may not change the subscription id")
    merged = dict(stored)
    for name in [n for n, v in fragment.items() if v is None]:
        if name in {"id", "type", "notification"}:
            raise BadRequestData(f"The subscription member {name} cannot be removed")
        merged.pop(name, None)
    _apply_members(merged, {n: v for n, v in fragment.items() if v is not None}, tm)
    check_subscription(merged, now=now, new=False)
    return merged


def _apply_members(sub: Subscription, body: dict[str, Any], tm: TermMap) -> None:
    """Check and store each member of ``body`` (a create body or an update fragment)."""
    for name, value in body.items():
        if name in _READ_ONLY or name in _NOTIFICATION_STATUS:
            continue  # read-only members of a retrieved subscription sent back are ignored
        if name not in _MEMBERS:
            raise BadRequestData(f"The subscription member {name!r} is not known")
        if name in {"id", "@context"}:
            continue
        handler = _MEMBER_PARSERS.get(name)
        sub[name] = handler(value, tm) if handler else value


def _type(value: Any, tm: TermMap) -> str:
    if value != "Subscription":
        raise BadRequestData(f"The subscription type must be 'Subscription', got {value!r}")
    return "Subscription"


def _text(name: str) -> Any:
    def parse(value: Any, tm: TermMap) -> str:
        if not isinstance(value, str):
            raise BadRequestData(f"{name} must be a string, got {value!r}")
        return value

    return parse


def _entities(value: Any, tm: TermMap) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise BadRequestData("entities must be a non-empty array of EntitySelectors")
    selectors = []
    for index, item in enumerate(value):
        where = f"entities[{index}]"
        if not isinstance(item, dict):
            raise BadRequestData(f"{where} must be an EntitySelector object")
        unknown = sorted(set(item) - {"id", "idPattern", "type"})
        if unknown:
            raise BadRequestData(f"{where} has the unknown member {unknown[0]!r}")
        if "type" not in item:
            raise BadRequestData(f"{where} has no type")
        if not isinstance(item["type"], str):
            raise BadRequestData(f"{where}.type must be a string, got {item['type']!r}")
        expr = resolve_types(parse_type_expression(item["type"], f"{where}.type"), tm)
        selector = {"type": format_type_expression(expr)}
        if "id" in item:
            selector["id"] = require_uri(item["id"], f"{where}.id")
        if "idPattern" in item:
            pattern = item["idPattern"]
            problem = "it is not a string" if not isinstance(pattern, str) else None
            problem = problem or ("it is empty" if not pattern else regex_problem(pattern))
            if problem:
                raise BadRequestData(f"{where}.idPattern is not a valid pattern: {problem}")
            selector["idPattern"] = pattern
        selectors.append(selector)
    return selectors


def _names(member: str) -> Any:
    def parse(value: Any, tm: TermMap) -> list[str]:
        if not isinstance(value, list) or not value:
            raise BadRequestData(f"{member} must be a non-empty array of attribute names")
        return list(dict.fromkeys(tm.expand(check_name(name)) for name in value))

    return parse


def _triggers(value: Any, tm: TermMap) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequestData("notificationTrigger must be a non-empty array")
    for trigger in value:
        if trigger not in TRIGGERS:
            raise BadRequestData(
                f"notificationTrigger {trigger!r} is not one of {', '.join(TRIGGERS)}"
            )
    return list(dict.fromkeys(value))


def _positive(member: str, unit: str = "seconds") -> Any:
    """A parser for a positive, finite number (throttling, timeInterval, endpoint timeouts)."""

    def parse(value: Any, tm: TermMap) -> float | int:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise BadRequestData(f"{member} must be a positive number of {unit}, got {value!r}")
        return value

    return parse


def _q(value: Any, tm: TermMap) -> str:
    if not isinstance(value, str):
        raise BadRequestData(f"q must be a string, got {value!r}")
    resolve_q(parse_q(value), tm)  # names must resolve now, not at the first notification
    return value


def _geo_q(value: Any, tm: TermMap) -> dict[str, Any]:
    geo = resolve_geo(geo_query_from_json(value), tm, "geoQ.geoproperty")
    stored = {name: value[name] for name in ("georel", "geometry", "coordinates")}
    stored["geoproperty"] = geo.geoproperty
    return stored


def _scope_q(value: Any, tm: TermMap) -> str:
    if not isinstance(value, str):
        raise BadRequestData(f"scopeQ must be a string, got {value!r}")
    parse_scope_query(value)
    return value


def _boolean(member: str) -> Any:
    def parse(value: Any, tm: TermMap) -> bool:
        if not isinstance(value, bool):
            raise BadRequestData(f"{member} must be true or false, got {value!r}")
        return value

    return parse


def _instant(member: str) -> Any:
    def parse(value: Any, tm: TermMap) -> str:
        return format_datetime(parse_datetime(value, member))

    return parse


def _uri(member: str) -> Any:
    def parse(value: Any, tm: TermMap) -> str:
        return require_uri(value, member)

    return parse


def _notification(value: Any, tm: TermMap) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("notification must be a NotificationParams object")
    given = {n: v for n, v in value.items() if n not in _NOTIFICATION_STATUS}
    unknown = sorted(set(given) - _NOTIFICATION_MEMBERS)
    if unknown:
        raise BadRequestData(f"notification has the unknown member {unknown[0]!r}")
    if "endpoint" not in given:
        raise BadRequestData("notification has no endpoint")
    params: dict[str, Any] = {}
    for member in ("attributes", "pick", "omit"):
        if member in given:
            params[member] = _names(f"notification.{member}")(given[member], tm)
    for member in ("pick", "omit"):
        if member in params and "attributes" in params:
            raise BadRequestData(f"notification.{member} cannot be given with attributes")
    both = set(params.get("pick", ())) & set(params.get("omit", ()))
    if both:
        raise BadRequestData(
            f"notification.pick and notification.omit both name {tm.compact(sorted(both)[0])}"
        )
    if "format" in given:
        if given["format"] not in FORMATS:
            raise BadRequestData(
                f"notification.format must be normalized, concise or keyValues,"
                f" got {given['format']!r}"
            )
        params["format"] = given["format"]
    for flag in ("sysAttrs", "showChanges"):
        if flag in given:
            params[flag] = _boolean(f"notification.{flag}")(given[flag], tm)
    if params.get("showChanges") and params.get("format") in {"keyValues", "simplified"}:
        raise BadRequestData("notification.showChanges cannot be true with the keyValues format")
    params["endpoint"] = _endpoint(given["endpoint"])
    return params


def _endpoint(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("notification.endpoint must be an Endpoint object")
    unknown = sorted(set(value) - _ENDPOINT_MEMBERS)
    if unknown:
        raise BadRequestData(f"notification.endpoint has the unknown member {unknown[0]!r}")
    if "uri" not in value:
        raise BadRequestData("notification.endpoint has no uri")
    uri = require_uri(value["uri"], "notification.endpoint.uri")
    scheme = uri.split(":", 1)[0].lower()
    if scheme not in NOTIFY_SCHEMES and uri != SSE_ENDPOINT:
        raise BadRequestData(
            "notification.endpoint.uri must be an http, https, mqtt or mqtts URI, or"
            f" {SSE_ENDPOINT} for the hub's live feed, got {uri!r}"
        )
    endpoint: dict[str, Any] = {"uri": uri}
    if "accept" in value:
        if value["accept"] not in ACCEPTS:
            raise BadRequestData(
                f"notification.endpoint.accept must be one of {', '.join(ACCEPTS)},"
                f" got {value['accept']!r}"
            )
        endpoint["accept"] = value["accept"]
    for member in ("timeout", "cooldown"):
        if member in value:
            check = _positive(f"notification.endpoint.{member}", "milliseconds")
            endpoint[member] = check(value[member], None)
    for member in ("receiverInfo", "notifierInfo"):
        if member in value:
            endpoint[member] = _key_values(value[member], f"notification.endpoint.{member}")
    for pair in endpoint.get("notifierInfo", []):
        allowed = _NOTIFIER_INFO.get(pair["key"])
        if allowed is not None and pair["value"] not in allowed:
            raise BadRequestData(
                f"notification.endpoint.notifierInfo {pair['key']} must be one of"
                f" {', '.join(allowed)}, got {pair['value']!r}"
            )
    return endpoint


# MQTT binding settings (clause 7.2): the values a notifier knows for each key.
_NOTIFIER_INFO = {"MQTT-Version": ("mqtt3.1.1", "mqtt5.0"), "MQTT-QoS": ("0", "1", "2")}


def _key_values(value: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise BadRequestData(f"{where} must be an array of key/value pairs")
    pairs = []
    for index, pair in enumerate(value):
        if (
            not isinstance(pair, dict)
            or set(pair) != {"key", "value"}
            or not isinstance(pair["key"], str)
            or not pair["key"]
            or not isinstance(pair["value"], str)
        ):
            raise BadRequestData(
                f"{where}[{index}] must be an object with a string key and a string value"
            )
        pairs.append({"key": pair["key"], "value": pair["value"]})
    return pairs


def _lang(value: Any, tm: TermMap) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequestData(f"lang must be a non-empty string, got {value!r}")
    return value


_MEMBER_PARSERS: dict[str, Any] = {
    "type": _type,
    "subscriptionName": _text("subscriptionName"),
    "description": _text("description"),
    "entities": _entities,
    "watchedAttributes": _names("watchedAttributes"),
    "notificationTrigger": _triggers,
    "timeInterval": _positive("timeInterval"),
    "throttling": _positive("throttling"),
    "q": _q,
    "geoQ": _geo_q,
    "scopeQ": _scope_q,
    "lang": _lang,
    "csf": _text("csf"),
    "isActive": _boolean("isActive"),
    "notification": _notification,
    "expiresAt": _instant("expiresAt"),
    "jsonldContext": _uri("jsonldContext"),
}


def check_subscription(sub: Subscription, *, now: datetime, new: bool) -> None:
    """Restrictions between members (clause 5.2.12) on a whole subscription."""
    if "entities" not in sub and "watchedAttributes" not in sub:
        raise BadRequestData("A subscription needs entities, watchedAttributes or both")
    if "timeInterval" in sub:
        if "watchedAttributes" in sub:
            raise BadRequestData("timeInterval and watchedAttributes cannot both be given")
        if "throttling" in sub:
            raise BadRequestData("timeInterval and throttling cannot both be given")
        if "entities" not in sub:
            raise BadRequestData("A periodic subscription (timeInterval) needs entities")
    if "expiresAt" in sub and parse_datetime(sub["expiresAt"], "expiresAt") <= now:
        raise BadRequestData(f"expiresAt {sub['expiresAt']} is not in the future")
    if "notification" not in sub:
        raise BadRequestData("The subscription has no notification member")


def subscription_status(sub: Subscription, *, now: datetime) -> str:
    """``active``, ``paused`` (isActive false) or ``expired`` (expiresAt passed)."""
    if "expiresAt" in sub and parse_datetime(sub["expiresAt"], "expiresAt") <= now:
        return "expired"
    return "active" if sub.get("isActive", True) else "paused"


def entity_type_selection(selector: dict[str, str]) -> TypeExpr:
    """The stored (expanded) type expression of an EntitySelector."""
    return parse_type_expression(selector["type"], "entities.type")


def _compact_types(text: str, tm: TermMap) -> str:
    expr = parse_type_expression(text, "entities.type")
    return format_type_expression(_map_names(expr, tm))


def _map_names(expr: TypeExpr, tm: TermMap) -> TypeExpr:
    if isinstance(expr, TypeName):
        return TypeName(tm.compact(expr.name))
    return type(expr)(tuple(_map_names(item, tm) for item in expr.items))


def render_subscription(
    sub: Subscription,
    delivery: DeliveryStatus,
    tm: TermMap,
    *,
    now: datetime,
    sys_attrs: bool,
    created_at: str,
    modified_at: str,
) -> dict[str, Any]:
    """A stored subscription in the requester's terms (clause 5.8.3), with ``status`` and the
    notification status members (clause 5.2.14) once a notification was attempted;
    createdAt/modifiedAt with sysAttrs. Defaults the client did not give are left out, except
    ``notificationTrigger``, whose default decides what the subscription is told about."""
    out: dict[str, Any] = {}
    for name, value in sub.items():
        if name == "@context":
            continue
        if name == "entities":
            value = [{**s, "type": _compact_types(s["type"], tm)} for s in value]
        elif name == "watchedAttributes":
            value = [tm.compact(iri) for iri in value]
        elif name == "geoQ":
            value = {**value, "geoproperty": tm.compact(value["geoproperty"])}
        elif name == "notification":
            value = _render_notification(value, delivery, tm)
        out[name] = value
    out.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
    out["status"] = subscription_status(sub, now=now)
    if sys_attrs:
        out["createdAt"] = created_at
        out["modifiedAt"] = modified_at
    return out


def _render_notification(
    params: dict[str, Any], delivery: DeliveryStatus, tm: TermMap
) -> dict[str, Any]:
    out = dict(params)
    for member in ("attributes", "pick", "omit"):
        if member in out:
            out[member] = [tm.compact(iri) for iri in out[member]]
    if delivery.status is not None:
        out["status"] = delivery.status
    if delivery.times_sent:
        out["timesSent"] = delivery.times_sent
    if delivery.times_failed:
        out["timesFailed"] = delivery.times_failed
    for member, moment in (
        ("lastNotification", delivery.last_notification),
        ("lastSuccess", delivery.last_success),
        ("lastFailure", delivery.last_failure),
    ):
        if moment is not None:
            out[member] = moment
    return out
