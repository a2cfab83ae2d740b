"""Entity writes on exclusive and redirect context sources (clauses 4.3.6.2, 4.3.6.3 and the
provision operations 5.6.1–5.6.6, 5.6.17–5.6.19).

A registration in mode ``exclusive`` says that a context source alone holds some attributes
of one entity; one in mode ``redirect`` that a source holds the entities (or attributes) it
names and the hub holds none of them. Writes therefore split before anything is stored:

1. Attributes an exclusive registration names for the entity go to its source, with just
   those attributes, and are removed from what the hub applies itself (the hub never stores
   them). An exclusive registration that does not serve the operation refuses its
   attributes (OperationNotSupported) — they are still not stored here.
2. Of the rest, what a redirect registration serving the operation covers goes to every
   such source (overlapping redirect registrations all get it). A redirect registration
   naming no attributes takes the whole operation: nothing is applied locally.
3. What is left is applied to the local store, as without registrations.

Inclusive and auxiliary registrations never take writes. Exclusive and redirect sources are
asked first and at once (the spec's drafts make exclusive operations precede any local
one: ETSI TS 104 175, 9.3.4), each within its own timeout (``Sources``), then the local part
runs, so a source that fails never undoes or blocks the local part. ``local=true`` and a
``Via`` naming this hub (a registration loop) write locally alone, as reads do.

Which registrations match (``plan_write``): in force, an EntityInfo fitting the entity id
and type — the type from the body, the ``type`` parameter, or the entity as stored here; an
entity not stored here may be of any type (a redirected entity lives at its source only) —
and, for attribute writes, the attribute names.

The client sees success (201/204) when every part succeeded, else 207 with an UpdateResult
(attribute operations, clause 5.2.18, ``registrationId`` in each NotUpdatedDetails of a
source) or a BatchOperationResult (entity operations, clause 5.2.16, one BatchEntityError
per failed part). When no part succeeded and every part failed with the same NGSI-LD error
(the entity exists nowhere: 404; it exists already: 409; unsupported: 422) that error is the
answer, as the operation clauses ask "an error in case the complete operation failed"; an
unreachable or failing source always gives 207, never a 5xx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cityhub.errors import (
    ALL_ERRORS,
    ERRORS_BASE,
    AlreadyExists,
    BadRequestData,
    InternalError,
    NgsiLdError,
    NonexistentTenant,
    OperationNotSupported,
    ResourceNotFound,
)
from cityhub.federation.matching import covers, in_force, serves
from cityhub.federation.remote import SourceAnswer, SourceFailure
from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import IGNORED_MEMBERS, STRICT, ParseOptions, parse_attribute
from cityhub.model.changes import UpdateResult
from cityhub.model.entity import parse_entity, parse_fragment
from cityhub.model.registrations import attribute_names
from cityhub.model.values import check_name, require_uri

if TYPE_CHECKING:
    from cityhub.federation.distributed import Federation, Forward

Registration = dict[str, Any]
LocalWrite = Callable[[Any], Awaitable[UpdateResult | None]]
NULL_OK = ParseOptions(allow_null=True)
_ENTITY_MEMBERS = ("id", "type")  # sent with an exclusive part of Create / Replace Entity


@dataclass(frozen=True)
class WriteOperation:
    """One provision operation: its name in registrations (Table 4.20-1), how it is sent,
    and what a 207 answers with."""

    name: str
    method: str
    target: str  # entities | entity | attrs | attr: the path under /ngsi-ld/v1/
    body: str  # entity | fragment | attribute | none
    per_attribute: bool  # 207 body: UpdateResult (True) or BatchOperationResult (False)
    whole_entity: bool = False  # concerns every registration of the entity, whatever it holds
    options: ParseOptions = STRICT


CREATE_ENTITY = WriteOperation("createEntity", "POST", "entities", "entity", False)
UPDATE_ATTRS = WriteOperation("updateEntity", "PATCH", "attrs", "fragment", True, options=NULL_OK)
APPEND_ATTRS = WriteOperation("appendAttrs", "POST", "attrs", "fragment", True)
PARTIAL_UPDATE = WriteOperation("updateAttrs", "PATCH", "attr", "attribute", True, options=NULL_OK)
REPLACE_ATTR = WriteOperation("replaceAttrs", "PUT", "attr", "attribute", True)
DELETE_ATTR = WriteOperation("deleteAttrs", "DELETE", "attr", "none", True)
DELETE_ENTITY = WriteOperation("deleteEntity", "DELETE", "entity", "none", False, True)
MERGE_ENTITY = WriteOperation("mergeEntity", "PATCH", "entity", "fragment", False, options=NULL_OK)
REPLACE_ENTITY = WriteOperation("replaceEntity", "PUT", "entity", "entity", False, True)


@dataclass
class Write:
    """One write as received: ``entity_id`` from the path (None for Create Entity, whose id
    is in the body), ``attribute`` the attrId path segment, ``body`` as sent (with its
    @context, if any), ``params`` the query parameters."""

    tenant: str
    entity_id: str | None
    attribute: str | None
    body: Any
    media: str
    tm: TermMap
    params: Sequence[tuple[str, str]]
    forward: Callable[[], Forward]


@dataclass
class Part:
    """What one source is sent (``names``: the attributes it takes, as the client wrote)."""

    registration: Registration
    names: list[str]
    body: Any


@dataclass
class Plan:
    entity_id: str
    forward: Forward
    parts: list[Part]
    refused: list[Part]  # exclusive registrations that do not serve the operation
    local: bool  # whether anything is applied to the local store
    local_body: Any
    local_names: list[str]


async def forward_write(
    federation: Federation, op: WriteOperation, write: Write, local: LocalWrite
) -> WriteOutcome | None:
    """The outcome of ``write`` split over its sources and the local store (``local`` applies
    the local part's body); None when no exclusive or redirect registration concerns it —
    the caller then writes locally as usual. Raises the input's BadRequestData before
    anything is sent, and the common error when every part failed alike."""
    plan = await plan_write(federation, op, write)
    if plan is None:
        return None
    return await run_write(federation, op, write, plan, local)


async def may_forward(federation: Federation, tenant: str) -> bool:
    """Whether any exclusive or redirect registration is in force in the tenant (a write
    that needs work to find out, such as reading its @context, can skip it when not)."""
    now = datetime.now(UTC)
    return any(
        r.get("mode") in ("exclusive", "redirect") and in_force(r, now)
        for r in await federation.registrations(tenant)
    )


async def plan_write(federation: Federation, op: WriteOperation, write: Write) -> Plan | None:
    """Which part of ``write`` goes where (module docstring); None: all of it is local."""
    registrations = await federation.registrations(write.tenant)
    if not registrations:  # the common case: one cached lookup per write
        return None
    now = datetime.now(UTC)
    proxied = [
        r for r in registrations if r.get("mode") in ("exclusive", "redirect") and in_force(r, now)
    ]
    if not proxied:
        return None
    entity_id = write.entity_id
    if entity_id is None:  # Create Entity: the id is in the body; a bad body is local's to refuse
        body_id = write.body.get("id") if isinstance(write.body, dict) else None
        if not isinstance(body_id, str):
            return None
        entity_id = body_id
    require_uri(entity_id, "Entity id")
    ids = (entity_id,)
    proxied = [r for r in proxied if covers(r, None, ids, None)]
    if not proxied:
        return None
    forward = write.forward()
    if forward.local:
        return None
    names, types = _read_input(op, write, entity_id)
    if types is None:
        types = await _known_types(federation, write.tenant, entity_id)
    concerned = [(r, _registered(r, types, ids)) for r in proxied if covers(r, types, ids, None)]
    if not concerned:
        return None
    return _split(op, write, entity_id, forward, names, concerned)


def _read_input(
    op: WriteOperation, write: Write, entity_id: str
) -> tuple[dict[str, str], frozenset[str] | None]:
    """The attributes the write carries (IRI → name as written) and the entity types it
    names, checked as the local operation checks them (so nothing invalid is sent)."""
    tm, body = write.tm, write.body
    types: frozenset[str] | None = None
    names: dict[str, str] = {}
    if op.body in ("entity", "fragment"):
        if op.body == "entity":
            whole = {**body, "id": entity_id} if isinstance(body, dict) else body
            types = frozenset(parse_entity(whole, tm)["type"])
        fragment = parse_fragment(body, tm, op.options)
        if fragment.entity_id is not None and fragment.entity_id != entity_id:
            raise BadRequestData(f"Body id {fragment.entity_id} does not match {entity_id}")
        names = dict(fragment.names)
    elif write.attribute is not None:
        check_name(write.attribute)
        iri = tm.expand(write.attribute)
        if op.body == "attribute":
            value = body
            if isinstance(value, dict):
                value = {k: v for k, v in value.items() if k != "@context"}
            parse_attribute(write.attribute, iri, value, tm, op.options)
        names = {iri: write.attribute}
    if types is None:
        asked = [t.strip() for k, v in write.params if k == "type" for t in v.split(",")]
        if any(asked):
            types = frozenset(tm.expand(check_name(t, "Entity type")) for t in asked if t)
    return names, types


async def _known_types(
    federation: Federation, tenant: str, entity_id: str
) -> frozenset[str] | None:
    """The entity's types as stored here; None when it is not here (then any registered type
    may be the entity's: a redirected entity lives only at its source)."""
    try:
        entity = await federation.hub.entities.retrieve_entity(tenant, entity_id)
    except NgsiLdError:
        return None
    return frozenset(entity["type"])


def _registered(
    registration: Registration, types: frozenset[str] | None, ids: tuple[str, ...]
) -> frozenset[str] | None:
    """The attribute IRIs a registration holds for this entity; None: all of them."""
    found: set[str] = set()
    for info in registration.get("information") or []:
        if not covers({"information": [info]}, types, ids, None):
            continue
        names = attribute_names(info)
        if not names:
            return None
        found |= names
    return frozenset(found)


def _split(
    op: WriteOperation,
    write: Write,
    entity_id: str,
    forward: Forward,
    names: dict[str, str],
    concerned: list[tuple[Registration, frozenset[str] | None]],
) -> Plan | None:
    exclusive = [(r, held) for r, held in concerned if r.get("mode") == "exclusive"]
    redirect = [
        (r, held) for r, held in concerned if r.get("mode") == "redirect" and serves(r, op.name)
    ]
    taken: dict[str, list[str]] = {}  # registration id -> names (as written) it takes
    owned: set[str] = set()  # names an exclusive registration takes
    for iri, name in names.items():
        owners = [r for r, held in exclusive if held is not None and iri in held]
        if owners:
            owned.add(name)
        else:
            owners = [r for r, held in redirect if held is None or iri in held]
        for r in owners:
            taken.setdefault(str(r.get("id")), []).append(name)
    wholesale = {str(r.get("id")) for r, held in redirect if held is None}
    for r, _ in exclusive + redirect:
        if op.whole_entity or str(r.get("id")) in wholesale:
            taken.setdefault(str(r.get("id")), [])
    if not taken:
        return None
    registrations = {str(r.get("id")): r for r, _ in concerned}
    parts: list[Part] = []
    refused: list[Part] = []
    for reg_id, taken_names in taken.items():
        registration = registrations[reg_id]
        if reg_id in wholesale:
            body = _without(write.body, owned) if op.body in ("entity", "fragment") else write.body
        else:
            body = _part_body(op, write.body, taken_names)
        part = Part(registration, taken_names or _members(write.body, op), body)
        (parts if serves(registration, op.name) else refused).append(part)
    forwarded = {name for taken_names in taken.values() for name in taken_names}
    local_names = [name for name in names.values() if name not in forwarded]
    local = not wholesale and _local_needed(op, write.body, local_names)
    local_body = write.body
    if op.body in ("entity", "fragment"):
        local_body = _without(write.body, forwarded)
    return Plan(entity_id, forward, parts, refused, local, local_body, local_names)


def _without(body: Any, names: set[str]) -> Any:
    if not names or not isinstance(body, dict):
        return body
    return {k: v for k, v in body.items() if k not in names}


def _members(body: Any, op: WriteOperation) -> list[str]:
    """Names for a part without attributes (Delete Entity, a body of id and type only)."""
    if isinstance(body, dict):
        kept = [k for k in body if k not in IGNORED_MEMBERS and k != "id"]
        if kept:
            return kept
    return [] if not op.per_attribute else ["*"]


def _part_body(op: WriteOperation, body: Any, names: list[str]) -> Any:
    """What a source taking ``names`` is sent: those attributes (with id and type for
    Create and Replace Entity, and the @context), or the attribute / nothing."""
    if op.body == "none":
        return None
    if op.body == "attribute" or not isinstance(body, dict):
        return body
    kept = set(names) | {"@context"}
    if op.body == "entity":
        kept |= set(_ENTITY_MEMBERS)
    return {k: v for k, v in body.items() if k in kept}


def _local_needed(op: WriteOperation, body: Any, local_names: list[str]) -> bool:
    """Whether anything is left for the local store: Create, Replace and Delete Entity
    always (the entity itself is here, its exclusive attributes elsewhere); the others when
    an attribute, or an entity member such as type or scope, remains."""
    if op.body == "entity" or op.name == "deleteEntity":
        return True
    if local_names:
        return True
    return op.body == "fragment" and isinstance(body, dict) and ("type" in body or "scope" in body)


# --- batch operations -------------------------------------------------------------------


async def has_proxied(federation: Federation, tenant: str) -> bool:
    """Whether any exclusive or redirect registration of the tenant is in force (a batch
    looks at its items one by one only then)."""
    now = datetime.now(UTC)
    return any(
        r.get("mode") in ("exclusive", "redirect") and in_force(r, now)
        for r in await federation.registrations(tenant)
    )


@dataclass
class BatchItem:
    """One batch item as a single-entity write; ``instead``: the write to use when the
    entity exists already (Batch Entity Upsert: replace or update rather than create)."""

    write: Write
    op: WriteOperation
    local: LocalWrite
    instead: tuple[WriteOperation, LocalWrite] | None = None


@dataclass
class BatchForwarding:
    """What the forwarded items of a batch did; ``kept``: indexes of the items left to the
    local batch (no registration concerns them)."""

    kept: list[int] = field(default_factory=list)
    success: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


async def forward_batch(
    federation: Federation, items: Sequence[BatchItem | None]
) -> BatchForwarding:
    """Batch operations (clauses 5.6.7–5.6.10, 5.6.20) item by item: an item an exclusive or
    redirect registration concerns is written as its single-entity operation (Create Entity,
    Append Attributes, Merge Entity, Delete Entity; an upsert as Create, or Replace / Append
    when the entity exists) through ``forward_write``, all such items at once; the others
    (and None items: not forwardable) are left to the local batch. The registrations'
    single-entity operations are what is checked, since that is what sources are sent."""
    done = BatchForwarding()
    results = await asyncio.gather(*(_batch_item(federation, item) for item in items))
    for index, (item, result) in enumerate(zip(items, results, strict=True)):
        if item is None or result is None:
            done.kept.append(index)
            continue
        entity_id = item.write.entity_id or ""
        if isinstance(result, NgsiLdError):
            done.errors.append(_batch_error(entity_id, None, result.to_problem()))
            continue
        outcome, created = result
        if outcome.done:
            done.success.append(entity_id)
            if created:
                done.created.append(entity_id)
        done.errors += outcome.batch_errors()
    return done


async def _batch_item(
    federation: Federation, item: BatchItem | None
) -> tuple[WriteOutcome, bool] | NgsiLdError | None:
    if item is None:
        return None
    op, local = item.op, item.local
    try:
        if item.instead is not None:
            plan = await plan_write(federation, op, item.write)
            if plan is None:
                return None
            if await _exists(federation, item.write.tenant, plan.entity_id):
                op, local = item.instead
        try:
            outcome = await forward_write(federation, op, item.write, local)
        except AlreadyExists:
            if item.instead is None or op is not item.op:
                raise
            op, local = item.instead  # a redirected entity exists at its source only
            outcome = await forward_write(federation, op, item.write, local)
    except NgsiLdError as exc:
        return exc
    if outcome is None:
        return None
    return outcome, op.name == "createEntity"


async def _exists(federation: Federation, tenant: str, entity_id: str) -> bool:
    return await _known_types(federation, tenant, entity_id) is not None


# --- running a plan ---------------------------------------------------------------------


@dataclass
class Failure:
    """A part that was not done: its attributes, the source (None: the local store), why,
    and whether that reason could stand as the whole operation's error."""

    names: list[str]
    registration_id: str | None
    problem: dict[str, Any]
    error: NgsiLdError | None = None
    clean: bool = True


@dataclass
class WriteOutcome:
    """What a distributed write did (see the module docstring for the answer it gives)."""

    entity_id: str
    per_attribute: bool
    done: bool = False  # some part succeeded
    updated: list[str] = field(default_factory=list)
    not_updated: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failures and not self.not_updated and not self.errors

    def body(self) -> dict[str, Any]:
        """The 207 body: an UpdateResult or a BatchOperationResult."""
        if not self.per_attribute:
            return {"success": [self.entity_id] if self.done else [], "errors": self.batch_errors()}
        missing = list(self.not_updated)
        for failure in self.failures:
            for name in failure.names:
                item = {"attributeName": name, "reason": _reason(failure.problem)}
                if failure.registration_id is not None:
                    item["registrationId"] = failure.registration_id
                missing.append(item)
        return {"updated": list(dict.fromkeys(self.updated)), "notUpdated": missing}

    def batch_errors(self) -> list[dict[str, Any]]:
        """Every part not done as BatchEntityErrors (clause 5.2.17); an attribute not
        updated becomes a BadRequestData naming it, as the local batch update reports it."""
        errors = list(self.errors)
        for item in self.not_updated:
            problem = BadRequestData(f"{item['attributeName']}: {item['reason']}").to_problem()
            errors.append(_batch_error(self.entity_id, item.get("registrationId"), problem))
        for failure in self.failures:
            errors.append(_batch_error(self.entity_id, failure.registration_id, failure.problem))
        return errors

    def settle(self) -> None:
        """Raise the common error when nothing succeeded and every part failed alike."""
        if self.done or not self.failures or self.not_updated or self.errors:
            return
        if not all(f.clean for f in self.failures):
            return
        kinds = {(f.problem.get("type"), f.problem.get("status")) for f in self.failures}
        if len(kinds) != 1:
            return
        raised = [f.error for f in self.failures if f.error is not None]
        error = raised[0] if raised else _error_of(self.failures[0].problem)
        if error is not None:
            raise error


async def run_write(
    federation: Federation, op: WriteOperation, write: Write, plan: Plan, local: LocalWrite
) -> WriteOutcome:
    """Send every part at once, then apply the local part; record each source's outcome."""
    forward = plan.forward
    path = _path(op, plan.entity_id, write.attribute)
    params = [(k, v) for k, v in write.params if k != "local"]
    answers = await asyncio.gather(
        *(
            federation.sources.request(
                part.registration,
                op.method,
                path,
                via=forward.via,
                incoming=forward.headers,
                params=params + ([("local", "true")] if _localonly(part.registration) else []),
                body=part.body,
                content_type=write.media,
            )
            for part in plan.parts
        )
    )
    outcome = WriteOutcome(plan.entity_id, op.per_attribute)
    records: list[tuple[str, bool]] = []
    for part, answer in zip(plan.parts, answers, strict=True):
        records.append((str(part.registration.get("id")), _read_answer(outcome, part, answer)))
    federation.record(write.tenant, records)
    for part in plan.refused:
        reg_id = str(part.registration.get("id"))
        refusal = OperationNotSupported(
            f"Registration {reg_id} holds these attributes exclusively and does not serve {op.name}"
        )
        outcome.failures.append(Failure(part.names, reg_id, refusal.to_problem(), refusal))
    if plan.local:
        await _run_local(outcome, op, plan, local)
    outcome.settle()
    return outcome


async def _run_local(
    outcome: WriteOutcome, op: WriteOperation, plan: Plan, local: LocalWrite
) -> None:
    try:
        result = await local(plan.local_body)
    except NgsiLdError as exc:
        gone = isinstance(exc, ResourceNotFound | NonexistentTenant)
        if gone and op.name == "deleteEntity" and outcome.done:
            return  # the entity lived at its sources only, and is gone from there
        names = plan.local_names or _members(plan.local_body, op)
        outcome.failures.append(Failure(names, None, exc.to_problem(), exc))
        return
    outcome.done = True
    if result is None:
        outcome.updated += plan.local_names
        return
    outcome.updated += result.updated
    outcome.not_updated += [{"attributeName": n, "reason": r} for n, r in result.not_updated]


def _read_answer(outcome: WriteOutcome, part: Part, answer: SourceAnswer | SourceFailure) -> bool:
    """Add a source's answer to the outcome; whether the source worked (for its status)."""
    reg_id = str(part.registration.get("id"))
    if isinstance(answer, SourceFailure):
        failed = InternalError(
            f"Context source {answer.endpoint} ({reg_id}) failed: {answer.reason}"
        )
        outcome.failures.append(Failure(part.names, reg_id, failed.to_problem(), clean=False))
        return False
    status, body = answer.status, answer.body
    if status in (200, 201, 204):
        outcome.done = True
        outcome.updated += part.names
        return True
    if status == 207 and isinstance(body, dict):
        _partial(outcome, part, reg_id, body)
        return True
    clean = _is_problem(body) and 400 <= status < 500
    if _is_problem(body):
        problem: dict[str, Any] = body
    else:
        endpoint = str(part.registration.get("endpoint"))
        problem = InternalError(
            f"Context source {endpoint} ({reg_id}) answered HTTP {status}"
        ).to_problem()
    outcome.failures.append(Failure(part.names, reg_id, problem, clean=clean))
    return status in (404, 409)


def _partial(outcome: WriteOutcome, part: Part, reg_id: str, body: dict[str, Any]) -> None:
    """A source's own 207: its UpdateResult or BatchOperationResult, attributed to it."""
    updated = [n for n in body.get("updated") or [] if isinstance(n, str)]
    outcome.updated += updated
    for item in body.get("notUpdated") or []:
        if isinstance(item, dict) and isinstance(item.get("attributeName"), str):
            reason = str(item.get("reason", ""))
            outcome.not_updated.append(
                {
                    "attributeName": item["attributeName"],
                    "reason": reason,
                    "registrationId": str(item.get("registrationId") or reg_id),
                }
            )
    for item in body.get("errors") or []:
        if isinstance(item, dict) and _is_problem(item.get("error")):
            outcome.errors.append(
                {
                    "entityId": outcome.entity_id,
                    "registrationId": str(item.get("registrationId") or reg_id),
                    "error": item["error"],
                }
            )
    if updated or outcome.entity_id in (body.get("success") or []):
        outcome.done = True


def _batch_error(
    entity_id: str, registration_id: str | None, problem: dict[str, Any]
) -> dict[str, Any]:
    error: dict[str, Any] = {"entityId": entity_id}
    if registration_id is not None:
        error["registrationId"] = registration_id
    error["error"] = problem
    return error


def _is_problem(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("type"), str)


def _reason(problem: dict[str, Any]) -> str:
    return str(problem.get("detail") or problem.get("title") or problem.get("type"))


def _error_of(problem: dict[str, Any]) -> NgsiLdError | None:
    """The NGSI-LD error a source's ProblemDetails stands for (None: not a known one)."""
    type_uri, status = problem.get("type"), problem.get("status")
    for cls in ALL_ERRORS:
        if ERRORS_BASE + cls.type_name == type_uri and cls.status == status:
            return cls(_reason(problem))
    return None


def _path(op: WriteOperation, entity_id: str, attribute: str | None) -> str:
    if op.target == "entities":
        return "entities"
    path = f"entities/{quote(entity_id, safe=':')}"
    if op.target == "attrs":
        return path + "/attrs"
    if op.target == "attr":
        return f"{path}/attrs/{quote(attribute or '', safe=':')}"
    return path


def _localonly(registration: Registration) -> bool:
    management = registration.get("management")
    return isinstance(management, dict) and management.get("localOnly") is True
