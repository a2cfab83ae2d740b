"""The query AST shared by the SQL compilers and the in-memory evaluator (clause 4.9).

Attribute names stay as the client wrote them; resolution to IRIs happens against the request's
@context in one pass (``resolve``), so the parser needs no context and errors can point at the
position in the original text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeAlias

# Members of an attribute that q can address after a dot (clause 4.9): a.observedAt
METADATA_NAMES = frozenset({"observedAt", "modifiedAt", "createdAt", "unitCode", "datasetId"})

Scalar: TypeAlias = int | float | str | bool | datetime | date | time


@dataclass(frozen=True)
class Uri:
    """An unquoted URI value, compared with Relationship objects."""

    text: str


Value: TypeAlias = Scalar | Uri


@dataclass(frozen=True)
class Path:
    """``attr.sub.sub[key.key]``: an attribute, sub-attribute steps, then keys into the value.

    ``names`` are attribute then sub-attribute names (the last may be a metadata member such as
    observedAt, see ``member``); ``keys`` go into a structured value or a languageMap.
    """

    names: tuple[str, ...]
    keys: tuple[str, ...] = ()
    position: int = 0

    @property
    def member(self) -> str | None:
        """The metadata member addressed (observedAt, unitCode, …) or None for the value."""
        if len(self.names) > 1 and self.names[-1] in METADATA_NAMES:
            return self.names[-1]
        return None

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return self.names[:-1] if self.member else self.names


@dataclass(frozen=True)
class Exists:
    """``attr`` (present) or ``!attr`` (absent)."""

    path: Path
    negated: bool = False


@dataclass(frozen=True)
class Compare:
    """``attr OP value``: OP one of == != > >= < <=; value a scalar, a list or a range."""

    path: Path
    op: str
    value: Value | tuple[Value, ...] | Range


@dataclass(frozen=True)
class Range:
    """``low..high`` (inclusive)."""

    low: Value
    high: Value


@dataclass(frozen=True)
class Pattern:
    """``attr~=regex`` or ``attr!~=regex`` (clause 4.9, POSIX-like regular expression)."""

    path: Path
    regex: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


Expr: TypeAlias = And | Or | Exists | Compare | Pattern
