"""The grammar the type (clause 4.17) and scope (clause 4.19) selectors share.

    Any     = All *(("," / "|") All)
    All     = Primary *(";" Primary)
    Primary = "(" Any ")" / Leaf

``;`` binds tighter than ``,``/``|``; a subclass reads the leaves and builds the nodes.
Errors name the parameter, the 0-based position and the problem.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from cityhub.errors import BadRequestData

Node = TypeVar("Node")
OPERATORS = frozenset(",|;()")
MAX_DEPTH = 32


class SelectionParser(Generic[Node]):
    """Recursive descent over ``text``; subclasses give ``leaf``, ``any_node``, ``all_node``
    and the error class."""

    error: type[BadRequestData] = BadRequestData

    def __init__(self, text: str, parameter: str) -> None:
        self.text = text
        self.pos = 0
        self.parameter = parameter
        self.depth = 0

    def fail(self, message: str, at: int | None = None) -> BadRequestData:
        where = self.pos if at is None else at
        return self.error(f"{self.parameter}: {message} at position {where}")

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def parse(self) -> Node:
        expr = self.any_of()
        if self.pos < len(self.text):
            if self.peek() == ")":
                raise self.fail("unbalanced parenthesis ')'")
            raise self.fail(f"unexpected {self.peek()!r}")
        return expr

    def any_of(self) -> Node:
        items = [self.all_of()]
        while self.peek() in {",", "|"}:
            self.pos += 1
            items.append(self.all_of())
        return items[0] if len(items) == 1 else self.any_node(tuple(items))

    def all_of(self) -> Node:
        items = [self.primary()]
        while self.peek() == ";":
            self.pos += 1
            items.append(self.primary())
        return items[0] if len(items) == 1 else self.all_node(tuple(items))

    def primary(self) -> Node:
        if self.peek() != "(":
            return self.leaf()
        start = self.pos
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"parentheses nest deeper than {MAX_DEPTH}")
        self.pos += 1
        expr = self.any_of()
        if self.peek() != ")":
            raise self.fail(f"unbalanced parenthesis '(' opened at position {start}")
        self.pos += 1
        self.depth -= 1
        return expr

    def token(self) -> tuple[str, int]:
        """The leaf text up to the next operator, and where it starts."""
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in OPERATORS:
            self.pos += 1
        return self.text[start : self.pos], start

    def leaf(self) -> Node:
        raise NotImplementedError

    def any_node(self, items: tuple[Node, ...]) -> Node:
        raise NotImplementedError

    def all_node(self, items: tuple[Node, ...]) -> Node:
        raise NotImplementedError
