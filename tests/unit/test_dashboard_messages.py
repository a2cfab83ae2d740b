"""The dashboard's message catalogs (messages/{en,ja,ko,zh-Hans}.json): the same keys in every
language, no empty text, the same {placeholders} as the English text, plural forms that
Intl.PluralRules knows, and every key the page's code asks for literally."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

DASHBOARD = Path(__file__).resolve().parents[2] / "src" / "cityhub" / "dashboard"
LANGUAGES = ("en", "ja", "ko", "zh-Hans")
PLURAL_FORMS = {"zero", "one", "two", "few", "many", "other"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load(lang: str) -> dict[str, Any]:
    catalog: dict[str, Any] = json.loads(
        (DASHBOARD / "messages" / f"{lang}.json").read_text(encoding="utf-8")
    )
    return catalog


def texts(message: Any) -> list[str]:
    return list(message.values()) if isinstance(message, dict) else [message]


def placeholders(message: Any) -> set[str]:
    return {name for text in texts(message) for name in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_dashboard_messages_have_the_same_keys_in_every_language(lang: str) -> None:
    english, other = set(load("en")), set(load(lang))
    assert other - english == set(), f"{lang} has keys English lacks"
    assert english - other == set(), f"{lang} lacks keys"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_dashboard_messages_have_no_empty_text(lang: str) -> None:
    for key, message in load(lang).items():
        assert isinstance(message, str | dict), key
        if isinstance(message, dict):
            assert "other" in message and set(message) <= PLURAL_FORMS, key
        for text in texts(message):
            assert isinstance(text, str) and text.strip(), f"{lang}: {key} is empty"


@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_dashboard_messages_use_the_same_placeholders_as_english(lang: str) -> None:
    english = load("en")
    for key, message in load(lang).items():
        assert placeholders(message) == placeholders(english[key]), f"{lang}: {key}"


def test_dashboard_messages_hold_every_key_the_page_asks_for() -> None:
    static = DASHBOARD / "web" / "static"
    asked: set[str] = set()
    for path in [*static.glob("*.js"), static / "index.html"]:
        source = path.read_text(encoding="utf-8")
        asked |= set(re.findall(r"\bt\('([\w.]+)'", source))
        asked |= set(re.findall(r'data-i18n(?:-label|-placeholder)?="([\w.]+)"', source))
    assert len(asked) > 50
    assert asked - set(load("en")) == set()
