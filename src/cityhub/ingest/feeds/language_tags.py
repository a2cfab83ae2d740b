"""Language tags of feed texts, normalised so one query works across feeds.

Feeds tag their translations with regional BCP 47 tags (CAP ``en-US``/``es-US``, GTFS-Realtime
``en``, ``ja-Hrkt``); the Korean and Japanese feeds use bare ``ko``/``ja``/``en``. Dropping the
region makes ``description[en]`` (q) and ``lang=en`` find the same text in every feed; a
script subtag (``zh-Hant``, ``ja-Hrkt``) names a different text and is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cityhub.ingest.feeds.records import RecordError

_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


def language_tag(raw: str) -> str:
    """A BCP 47 tag without its region subtag (``en-US`` → ``en``, ``zh-Hant-TW`` →
    ``zh-Hant``, ``es-419`` → ``es``), primary language in lower case."""
    tag = raw.strip().replace("_", "-")
    if not _LANGUAGE.fullmatch(tag):
        raise RecordError(f"language {raw!r} is not a BCP 47 tag")
    primary, *rest = tag.split("-")
    kept = [s for s in rest if not (len(s) == 2 and s.isalpha()) and not s.isdigit()]
    return "-".join([primary.lower(), *kept])


def language_texts(pairs: Iterable[tuple[str, str | None]]) -> dict[str, str | None]:
    """Texts by normalised tag from (tag as given, text) pairs, for ``ngsi.language``. The
    first text of a tag wins; a later regional variant of a language already present keeps
    its full tag (``en-US`` then ``en-GB`` → ``en``, ``en-GB``)."""
    texts: dict[str, str | None] = {}
    given: set[str] = set()  # the tags as written that already have their text
    for raw, value in pairs:
        full = raw.strip().replace("_", "-")
        if not value or full.lower() in given:
            continue
        tag = language_tag(raw)
        if tag in texts:
            tag = full
            if tag in texts:
                continue
        texts[tag] = value
        given.add(full.lower())
    return texts
