"""The NGSI-LD core @context (clause 5.5.7), bundled so the hub never needs the network for it."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import orjson

CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"

# Every published core context URL (unversioned and v1.x) resolves to the bundled document:
# their term definitions agree for everything the API uses, and a hub must not depend on
# reaching uri.etsi.org to understand its own vocabulary.
_CORE_URL_PATTERN = re.compile(
    r"^https?://uri\.etsi\.org/ngsi-ld/(v1/)?ngsi-ld-core-context(-v1\.\d+)?\.jsonld$"
)


def is_core_context_url(url: str) -> bool:
    return bool(_CORE_URL_PATTERN.match(url))


@cache
def core_context_document() -> dict[str, Any]:
    """The bundled core @context document (``{"@context": {...}}``)."""
    raw = resources.files("cityhub.jsonld").joinpath("ngsi-ld-core-context-v1.8.jsonld")
    doc: dict[str, Any] = orjson.loads(raw.read_bytes())
    return doc


@cache
def core_context_bytes() -> bytes:
    return orjson.dumps(core_context_document())
