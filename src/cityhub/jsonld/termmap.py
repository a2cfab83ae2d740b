"""Compiled term maps: the fast path for expanding and compacting names (clause 5.5.7).

A full JSON-LD processor takes milliseconds per entity; NGSI-LD only needs term↔IRI mapping
for attribute names, entity types and vocab values, so the active context computed once by
pyld is turned into two dictionaries and reused for every request that uses that @context.
"""

from __future__ import annotations

from typing import Any

from cityhub.errors import BadRequestData

_COMPACT_CACHE_LIMIT = 20_000


class TermMap:
    """Term → IRI expansion and IRI → term compaction for one active @context."""

    __slots__ = (
        "_compact_cache",
        "_defined",
        "_inverse",
        "_prefixes",
        "checked_names",
        "terms",
        "vocab",
    )

    def __init__(
        self,
        terms: dict[str, str],
        prefixes: dict[str, str],
        vocab: str | None,
        reserved: frozenset[str] = frozenset(),
    ):
        """``reserved`` holds the context's other terms (keyword aliases such as ``id``, terms
        mapped to null): compaction never produces them, as they would not read back."""
        self.terms = terms
        self.vocab = vocab
        self._defined = frozenset(terms) | reserved
        self._prefixes = sorted(prefixes.items(), key=lambda item: (len(item[0]), item[0]))
        self._compact_cache: dict[str, str] = {}
        # Names the model layer has already validated, with their IRIs (see remember_name):
        # the same few attribute names arrive on every request that uses this context.
        self.checked_names: dict[str, str] = {}
        inverse: dict[str, str] = {}
        for term, iri in sorted(terms.items(), key=lambda item: (len(item[0]), item[0])):
            inverse.setdefault(iri, term)
        self._inverse = inverse

    @classmethod
    def from_active_context(cls, active: dict[str, Any]) -> TermMap:
        """Compile pyld's processed active context into a TermMap."""
        terms: dict[str, str] = {}
        prefixes: dict[str, str] = {}
        mappings = active.get("mappings", {})
        for term, definition in mappings.items():
            if not definition or definition.get("reverse"):
                continue
            iri = definition.get("@id")
            if not isinstance(iri, str) or iri.startswith("@"):
                continue
            terms[term] = iri
            if definition.get("_prefix") and ":" not in term:
                prefixes[term] = iri
        vocab = active.get("@vocab")
        vocab_iri = vocab if isinstance(vocab, str) else None
        return cls(terms, prefixes, vocab_iri, frozenset(mappings))

    def expand(self, name: str) -> str:
        """Expand an attribute name, entity type or vocab value to its IRI.

        Defined terms first, then compact IRIs (``prefix:suffix``), absolute IRIs as they are,
        and otherwise the context's @vocab (the core context's default-context).
        """
        iri = self.terms.get(name)
        if iri is not None:
            return iri
        if ":" in name:
            prefix, suffix = name.split(":", 1)
            if not suffix.startswith("//"):
                mapped = self.terms.get(prefix)
                if mapped is not None:
                    return mapped + suffix
            return name
        if self.vocab is None:
            raise BadRequestData(f"Term {name!r} cannot be expanded: the @context has no @vocab")
        return self.vocab + name

    def remember_name(self, name: str, iri: str) -> None:
        """Record a validated attribute name or type and its expansion, within a bound."""
        if len(self.checked_names) < _COMPACT_CACHE_LIMIT:
            self.checked_names[name] = iri

    def compact(self, iri: str) -> str:
        """Compact an IRI to the shortest term, @vocab-relative name or compact IRI."""
        cached = self._compact_cache.get(iri)
        if cached is not None:
            return cached
        result = self._compact_uncached(iri)
        if len(self._compact_cache) < _COMPACT_CACHE_LIMIT:
            self._compact_cache[iri] = result
        return result

    def _compact_uncached(self, iri: str) -> str:
        term = self._inverse.get(iri)
        if term is not None:
            return term
        vocab = self.vocab
        if vocab and iri.startswith(vocab) and len(iri) > len(vocab):
            suffix = iri[len(vocab) :]
            if suffix not in self._defined and ":" not in suffix:
                return suffix
        # Like JSON-LD's IRI compaction: the shortest compact IRI, ties to the least in code
        # point order ("xyz:c" beats "z:b/c").
        best: tuple[int, str] | None = None
        for prefix, prefix_iri in self._prefixes:
            if iri.startswith(prefix_iri) and len(iri) > len(prefix_iri):
                candidate = prefix + ":" + iri[len(prefix_iri) :]
                key = (len(candidate), candidate)
                if candidate not in self._defined and (best is None or key < best):
                    best = key
        return best[1] if best is not None else iri
