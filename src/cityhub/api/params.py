"""Query parameters shared by the entity APIs: options, format, attrs, pick, omit, lang,
geometryProperty (clauses 6.3.7, 6.3.8, 4.15, 4.21)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.model.representation import CONCISE, NORMALIZED, SIMPLIFIED, RenderOptions, parse_lang
from cityhub.model.values import check_name

_FORMS = {
    "normalized": NORMALIZED,
    "concise": CONCISE,
    "keyValues": SIMPLIFIED,
    "simplified": SIMPLIFIED,
}
_RETRIEVE_OPTIONS = {*_FORMS, "sysAttrs"}


def list_param(request: Request, name: str) -> list[str] | None:
    """A comma-separated parameter (repeated occurrences joined); None when absent."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    items = [item.strip() for value in values for item in value.split(",")]
    if any(not item for item in items):
        raise BadRequestData(f"Parameter {name} has an empty item")
    return items


def options(request: Request, allowed: set[str]) -> set[str]:
    chosen = set(list_param(request, "options") or [])
    unknown = chosen - allowed
    if unknown:
        raise BadRequestData(f"Unknown options value {sorted(unknown)[0]!r}")
    return chosen


def integer_param(request: Request, name: str, default: int) -> int:
    """A non-negative integer parameter (limit, offset); BadRequestData otherwise."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise BadRequestData(f"{name} must be a non-negative integer, got {raw!r}")
    return int(raw)


def page_links(request: Request, limit: int, offset: int, more: bool, media: str) -> str:
    """``Link`` header values for the previous and next pages of a paginated answer (clause
    5.5.9): the request's own URL with another offset, typed with the response's media type."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]

    def link(at: int, rel: str) -> str:
        query = urlencode([*items, ("offset", str(at))])
        return f'<{request.url.path}?{query}>; rel="{rel}"; type="{media}"'

    links = []
    if offset > 0 and limit > 0:
        links.append(link(max(0, offset - limit), "prev"))
    if more and limit > 0:
        links.append(link(offset + limit, "next"))
    return ", ".join(links)


def attribute_deletion(request: Request) -> tuple[str | None, bool]:
    """(datasetId, deleteAll) of a Delete Attribute request (clauses 5.6.5, 5.6.13); they
    exclude each other."""
    delete_all = flag(request, "deleteAll")
    dataset_id = request.query_params.get("datasetId")
    if delete_all and dataset_id is not None:
        raise BadRequestData("deleteAll and datasetId cannot be used together")
    return dataset_id, delete_all


def flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw in {"true", "false"}:
        return raw == "true"
    raise BadRequestData(f"Parameter {name} must be true or false, got {raw!r}")


def _projected(names: set[str], tm: TermMap) -> set[str]:
    """pick/omit members (clause 4.21): attribute IRIs, and "scope" kept as the member name
    (id and type are handled by the caller)."""
    members = {name for name in names if name == "scope"}
    members |= {tm.expand(check_name(a)) for a in names - {"id", "type", "scope"}}
    return members


DEFAULT_RENDER = RenderOptions()


def render_options(request: Request, tm: TermMap) -> RenderOptions:
    """RenderOptions from options/format/attrs/pick/omit/lang (clause 6.3.7)."""
    if not request.scope.get("query_string"):
        return DEFAULT_RENDER
    chosen = options(request, _RETRIEVE_OPTIONS)
    forms = {_FORMS[o] for o in chosen if o in _FORMS}
    fmt = request.query_params.get("format")
    if fmt is not None:
        if fmt not in _FORMS:
            raise BadRequestData(
                f"format must be normalized, concise, keyValues or simplified, got {fmt!r}"
            )
        forms = {_FORMS[fmt]}
    if len(forms) > 1:
        raise BadRequestData("Only one of normalized, concise and keyValues can be asked")
    form = forms.pop() if forms else NORMALIZED

    attrs = list_param(request, "attrs")
    pick = list_param(request, "pick")
    omit = list_param(request, "omit")
    if pick is not None and omit is not None:
        raise BadRequestData("pick and omit cannot be used together")
    keep: set[str] | None = None
    keep_id = keep_type = True
    if attrs is not None:
        keep = {tm.expand(check_name(a)) for a in attrs}
    if pick is not None:
        picked = set(pick)
        keep_id, keep_type = "id" in picked, "type" in picked
        names = _projected(picked, tm)
        keep = names if keep is None else keep & names | (names & {"scope"})
    dropped: set[str] = set()
    if omit is not None:
        omitted = set(omit)
        keep_id, keep_type = "id" not in omitted, "type" not in omitted
        dropped = _projected(omitted, tm)
    lang_raw = request.query_params.get("lang")
    lang = parse_lang(lang_raw) if lang_raw else None
    if lang_raw is not None and not lang:
        raise BadRequestData("lang must name at least one language")
    return RenderOptions(
        form=form,
        sys_attrs="sysAttrs" in chosen,
        lang=lang,
        keep=frozenset(keep) if keep is not None else None,
        omit=frozenset(dropped),
        keep_id=keep_id,
        keep_type=keep_type,
    )
