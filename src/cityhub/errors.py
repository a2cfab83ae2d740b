"""NGSI-LD errors (clause 5.5.2) raised anywhere, rendered once as ProblemDetails (RFC 7807).

Each class carries the spec's type URI, HTTP status and title, so handlers never build error
responses themselves: they raise, and ``api.problems`` renders.
"""

from __future__ import annotations

from typing import Any, ClassVar

ERRORS_BASE = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiLdError(Exception):
    """Base of every error the API reports; ``detail`` names the problem in a sentence."""

    type_name: ClassVar[str] = "InternalError"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return ERRORS_BASE + self.type_name

    def to_problem(self) -> dict[str, Any]:
        """ProblemDetails body (clause 5.5.3): type, title, status, detail and extra members."""
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class InvalidRequest(NgsiLdError):
    """The request is syntactically wrong: malformed JSON, bad parameters (400)."""

    type_name = "InvalidRequest"
    status = 400
    title = "Invalid request"


class BadRequestData(NgsiLdError):
    """The request is well formed but its content is not valid NGSI-LD (400)."""

    type_name = "BadRequestData"
    status = 400
    title = "Bad request data"


class AlreadyExists(NgsiLdError):
    """The resource to create exists already (409)."""

    type_name = "AlreadyExists"
    status = 409
    title = "Already exists"


class OperationNotSupported(NgsiLdError):
    """The operation is valid NGSI-LD but not supported here (422)."""

    type_name = "OperationNotSupported"
    status = 422
    title = "Operation not supported"


class ResourceNotFound(NgsiLdError):
    """The target entity, attribute or resource does not exist (404)."""

    type_name = "ResourceNotFound"
    status = 404
    title = "Resource not found"


class InternalError(NgsiLdError):
    """An unexpected failure; the request wrote nothing (500)."""

    type_name = "InternalError"
    status = 500
    title = "Internal error"


class TooComplexQuery(NgsiLdError):
    """The query is too complex to be served (403)."""

    type_name = "TooComplexQuery"
    status = 403
    title = "Too complex query"


class TooManyResults(NgsiLdError):
    """The result set exceeds the configured maximum (403)."""

    type_name = "TooManyResults"
    status = 403
    title = "Too many results"


class LdContextNotAvailable(NgsiLdError):
    """A remote JSON-LD @context could not be retrieved (504, Table 6.3.2-1)."""

    type_name = "LdContextNotAvailable"
    status = 504
    title = "JSON-LD context not available"


class NonexistentTenant(NgsiLdError):
    """A non-creating operation addressed a tenant that does not exist (404, clause 5.5.10)."""

    type_name = "NonexistentTenant"
    status = 404
    title = "Nonexistent tenant"


class NoMultiTenantSupport(NgsiLdError):
    """Multi-tenancy is switched off in the settings (501)."""

    type_name = "NoMultiTenantSupport"
    status = 501
    title = "No multi-tenant support"


class NotAcceptable(NgsiLdError):
    """No representation matches the Accept header (406, clause 6.3.4).

    Clause 6.3.4 makes every failed HTTP precondition an InvalidRequest and only changes the
    status for 406/411/415, so these HTTP-level errors keep that spec type URI.
    """

    type_name = "InvalidRequest"
    status = 406
    title = "Not acceptable"


class UnsupportedMediaType(NgsiLdError):
    """The request body's Content-Type is not JSON or JSON-LD (415, clause 6.3.4)."""

    type_name = "InvalidRequest"
    status = 415
    title = "Unsupported media type"


class LengthRequired(NgsiLdError):
    """A request body without a Content-Length header (411, clause 6.3.4)."""

    type_name = "InvalidRequest"
    status = 411
    title = "Length required"


class PayloadTooLarge(NgsiLdError):
    """The request body exceeds the configured size limit (413, clause 6.3.2)."""

    type_name = "InvalidRequest"
    status = 413
    title = "Payload too large"


class MethodNotAllowed(NgsiLdError):
    """The resource exists but does not support this HTTP method (405, clause 6.3.2)."""

    type_name = "InvalidRequest"
    status = 405
    title = "Method not allowed"


class Conflict(NgsiLdError):
    """The operation conflicts with the current state of the system (409, Table 5.5.2-1)."""

    type_name = "Conflict"
    status = 409
    title = "Conflict"


ALL_ERRORS: tuple[type[NgsiLdError], ...] = (
    InvalidRequest,
    BadRequestData,
    AlreadyExists,
    OperationNotSupported,
    ResourceNotFound,
    InternalError,
    TooComplexQuery,
    TooManyResults,
    LdContextNotAvailable,
    NonexistentTenant,
    NoMultiTenantSupport,
    NotAcceptable,
    UnsupportedMediaType,
    LengthRequired,
    PayloadTooLarge,
    MethodNotAllowed,
    Conflict,
)
