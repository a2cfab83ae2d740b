"""Choosing the dashboard's language and the text of multilingual data (issue 7)."""

from __future__ import annotations

import pytest

from cityhub.dashboard.i18n import data_preference, negotiate, pick_text, supported


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ja", "ja"),
        ("ja-JP", "ja"),
        ("KO-kr", "ko"),
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("zh-TW", "zh-Hans"),
        ("en-GB", "en"),
        ("fr", None),
        ("", None),
    ],
)
def test_supported_maps_a_browser_tag_to_a_dashboard_language(
    tag: str, expected: str | None
) -> None:
    assert supported(tag) == expected


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        (None, None, "ko-KR,ko;q=0.9,en;q=0.8", "ko"),
        (None, None, "fr-FR,fr;q=0.9,ja;q=0.5,en;q=0.3", "ja"),
        (None, None, "en;q=0.2,zh-CN;q=0.9", "zh-Hans"),
        (None, None, "fr, de", "en"),
        (None, None, None, "en"),
        (None, None, "ja;q=0, ko", "ko"),
        (None, "ja", "ko", "ja"),
        ("zh-Hans", "ja", "ko", "zh-Hans"),
        ("xx", "ja", "ko", "ja"),
    ],
)
def test_negotiate_prefers_the_query_then_the_cookie_then_accept_language(
    query: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert negotiate(query, cookie, accept) == expected


def test_pick_text_falls_back_to_english_then_the_citys_language() -> None:
    names = {"ko": "광화문", "en": "Gwanghwamun"}
    assert pick_text(names, data_preference("ko", "seoul")) == "광화문"
    assert pick_text(names, data_preference("ja", "seoul")) == "Gwanghwamun"
    assert pick_text({"ko": "광화문"}, data_preference("ja", "seoul")) == "광화문"
    assert pick_text({"zh": "北京站"}, data_preference("zh-Hans", "beijing")) == "北京站"
    assert pick_text({"ZH-hans": "东四"}, data_preference("zh-Hans")) == "东四"
    assert pick_text({"es": "Alerta"}, data_preference("en")) == "Alerta"
    assert pick_text({}, data_preference("en")) is None
