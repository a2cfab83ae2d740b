"""The door of a hub that shares with partners (federation/sharing.py): every NGSI-LD request
is checked for its key before any handler runs, and a partner may only use the read
operations that apply the sharing policy (Query Entities, Retrieve Entity, discovery, and
Query and Retrieve Temporal Evolution, clauses 5.7.3 and 5.7.4); anything else is refused
(403), so no other path can reveal what is not shared."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from cityhub.api.federated import caller
from cityhub.api.problems import problem_response
from cityhub.errors import NgsiLdError
from cityhub.federation.sharing import NotShared

PREFIX = "/ngsi-ld/v1/"
# (method, first path segment — two under temporal/) a partner may use; each applies the
# policy itself.
PARTNER_READS = frozenset(
    {
        ("GET", "entities"),
        ("POST", "entityOperations/query"),
        ("GET", "temporal/entities"),
        ("POST", "temporal/entityOperations/query"),
        ("GET", "info"),
        ("GET", "types"),
        ("GET", "attributes"),
        ("GET", "jsonldContexts"),
    }
)


def partner_may(method: str, path: str) -> bool:
    rest = path[len(PREFIX) :]
    segments = rest.split("/")
    head = segments[0]
    if head == "temporal":
        # GET under temporal/entities is Query or Retrieve: no other GET route lies there.
        head = "/".join(segments[:2])
        if segments[1:2] == ["entityOperations"]:
            head = rest.rstrip("/")
    elif head == "entityOperations":
        head = rest.rstrip("/")
    return (method, head) in PARTNER_READS


def check(scope: Scope) -> Response | None:
    """A ProblemDetails response refusing the request, or None to let it through."""
    path = scope.get("path", "")
    if not path.startswith(PREFIX):
        return None
    request = Request(scope)
    try:
        partner = caller(request)
        if partner is not None and not partner_may(scope["method"], path):
            raise NotShared(f"{partner.name} may only read the entities shared with it")
    except NgsiLdError as error:
        return problem_response(error)
    return None
