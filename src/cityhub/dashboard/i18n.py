"""Languages of the dashboard: choosing one for a request and reading its message catalog.

Catalogs are flat JSON files in ``messages/`` (one per language, the same keys in each); the
page gets its catalog inline so the first paint is already in the right language. The data
itself (entity names) is multilingual through LanguageProperty values; ``data_preference``
says which of their tags to try for a dashboard language.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson

LANGUAGES: dict[str, str] = {"en": "English", "ja": "日本語", "ko": "한국어", "zh-Hans": "简体中文"}
DEFAULT = "en"
COOKIE = "cityhub_lang"

# LanguageProperty tags to try, in order, for each dashboard language (then any other).
_DATA_TAGS: dict[str, tuple[str, ...]] = {
    "en": ("en",),
    "ja": ("ja", "ja-JP"),
    "ko": ("ko", "ko-KR"),
    "zh-Hans": ("zh-Hans", "zh", "zh-CN", "zh-SG", "zh-Hant", "zh-TW", "zh-HK"),
}
# The languages a city's own data is mostly written in, tried after English.
CITY_LANGUAGES: dict[str, tuple[str, ...]] = {
    "seoul": ("ko",),
    "tokyo": ("ja",),
    "beijing": ("zh", "zh-Hans"),
}


def supported(tag: str | None) -> str | None:
    """The dashboard language a BCP 47 tag asks for, if any (zh, zh-CN, zh-Hans-CN → zh-Hans;
    ja-JP → ja)."""
    if not tag:
        return None
    lowered = tag.strip().lower()
    if lowered in {t.lower() for t in LANGUAGES}:
        return next(t for t in LANGUAGES if t.lower() == lowered)
    primary = lowered.split("-")[0]
    if primary == "zh":
        return "zh-Hans"  # the dashboard offers Simplified Chinese only
    return primary if primary in LANGUAGES else None


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language for a page: ?lang=, else the cookie of an earlier choice, else the
    browser's Accept-Language (RFC 9110 §12.5.4, by quality), else English."""
    for explicit in (query, cookie):
        chosen = supported(explicit)
        if chosen:
            return chosen
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and tag:
            ranked.append((-quality, index, tag))
    for _, _, tag in sorted(ranked):
        chosen = supported(tag)
        if chosen:
            return chosen
    return DEFAULT


@cache
def catalog(language: str) -> dict[str, Any]:
    """The message catalog of a dashboard language."""
    raw = resources.files("cityhub.dashboard").joinpath(f"messages/{language}.json")
    loaded: dict[str, Any] = orjson.loads(raw.read_bytes())
    return loaded


def data_preference(language: str, tenant: str = "") -> tuple[str, ...]:
    """LanguageProperty tags to try for a dashboard language: its own, English, the city's."""
    order = [*_DATA_TAGS.get(language, (language,)), "en", *CITY_LANGUAGES.get(tenant, ())]
    return tuple(dict.fromkeys(order))


def pick_text(language_map: dict[str, Any], preference: tuple[str, ...]) -> str | None:
    """The text of a LanguageProperty's languageMap in the first preferred tag present
    (case-insensitive), else any."""
    if not language_map:
        return None
    lowered = {str(tag).lower(): text for tag, text in language_map.items()}
    for tag in preference:
        text = lowered.get(tag.lower())
        if isinstance(text, str) and text:
            return text
    for text in language_map.values():
        if isinstance(text, str) and text:
            return text
    return None
