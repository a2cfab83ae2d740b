"""Smart Data Models @contexts shipped with the hub (``bundled/README.md``).

Feeds and the demo write city data with these contexts; a hub without Internet access (a
city's closed network, a laptop, CI) must still understand it. Both published spellings of
each context URL resolve to the same bundled document.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import orjson

_MODELS = ("Alert", "Environment", "Parking", "PointOfInterest", "Transportation", "Weather")
_URL = re.compile(
    r"^https://(?:raw\.githubusercontent\.com/smart-data-models/dataModel\.(\w+)/master"
    r"|smart-data-models\.github\.io/dataModel\.(\w+))/context\.jsonld$"
)


def bundled_model(url: str) -> str | None:
    """The Smart Data Models repository a bundled context URL names, else None."""
    match = _URL.match(url)
    if match is None:
        return None
    model = match.group(1) or match.group(2)
    return model if model in _MODELS else None


@cache
def bundled_document(model: str) -> dict[str, Any]:
    raw = resources.files("cityhub.jsonld").joinpath(f"bundled/dataModel.{model}.context.jsonld")
    doc: dict[str, Any] = orjson.loads(raw.read_bytes())
    return doc
