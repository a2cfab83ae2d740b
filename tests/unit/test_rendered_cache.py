"""The bounded cache of rendered entity responses (api/rendered.py)."""

from __future__ import annotations

from cityhub.api.rendered import Rendered, RenderedCache, cache_of
from cityhub.jsonld.termmap import TermMap


def _termmap() -> TermMap:
    return TermMap({}, {}, "https://example.org/")


def _entry(tm: TermMap, body: bytes = b"{}") -> Rendered:
    return Rendered(tm, None, b"{}", body, ())


def _key(n: int) -> tuple[str, str, str, None, bytes]:
    return ("", f"urn:ngsi-ld:T:{n}", "application/json", None, b"")


def test_rendered_cache_drops_the_least_recently_used_entry() -> None:
    tm = _termmap()
    cache = RenderedCache(size=2)
    cache.put(_key(1), _entry(tm))
    cache.put(_key(2), _entry(tm))
    assert cache.get(_key(1), tm) is not None  # 1 is now the most recent
    cache.put(_key(3), _entry(tm))
    assert len(cache) == 2
    assert cache.get(_key(2), tm) is None
    assert cache.get(_key(1), tm) is not None
    assert cache.get(_key(3), tm) is not None


def test_rendered_cache_answers_only_for_the_same_termmap() -> None:
    tm, other = _termmap(), _termmap()
    cache = RenderedCache()
    cache.put(_key(1), _entry(tm, b"a"))
    assert cache.get(_key(1), other) is None
    found = cache.get(_key(1), tm)
    assert found is not None and found.body == b"a"
    cache.discard(_key(1))
    assert cache.get(_key(1), tm) is None


def test_rendered_cache_holds_at_most_its_byte_budget() -> None:
    tm = _termmap()
    cache = RenderedCache(size=100, max_bytes=10, entry_bytes=6)
    cache.put(_key(1), _entry(tm, b"abc"))  # 2 + 3 bytes
    cache.put(_key(2), _entry(tm, b"abc"))
    assert (len(cache), cache.bytes) == (2, 10)
    cache.put(_key(3), _entry(tm, b"a"))
    assert cache.get(_key(1), tm) is None and cache.bytes == 8
    cache.put(_key(4), _entry(tm, b"abcde"))  # larger than an entry may be
    assert cache.get(_key(4), tm) is None and cache.bytes == 8
    cache.put(_key(3), _entry(tm, b"abc"))  # replacing counts the new size only
    cache.discard(_key(2))
    assert (len(cache), cache.bytes) == (1, 5)


def test_cache_of_gives_each_owner_its_own_cache() -> None:
    class Owner:
        pass

    a, b = Owner(), Owner()
    assert cache_of(a) is cache_of(a)
    assert cache_of(a) is not cache_of(b)
