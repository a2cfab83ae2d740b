"""Scope patterns (clause 4.19) as anchored regular expressions both backends run alike."""

from __future__ import annotations

from cityhub.query.ast import ScopeMatch


def _literal(segment: str) -> str:
    # Every non-alphanumeric character escaped: literal in Python re and in PostgreSQL AREs.
    return "".join(c if c.isalnum() else "\\" + c for c in segment)


def scope_regex(match: ScopeMatch) -> str:
    """``/Seoul/+/Parks/#`` → ``^/Seoul/[^/]+/Parks(/.*)?$``; ``/#`` alone matches any scope."""
    parts = []
    for position, segment in enumerate(match.segments):
        if segment == "#" and position == len(match.segments) - 1:
            parts.append("(/.*)?")
        elif segment == "+":
            parts.append("/[^/]+")
        else:
            parts.append("/" + _literal(segment))
    return "^" + "".join(parts) + "$"
