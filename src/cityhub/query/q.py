"""The NGSI-LD Query Language (clause 4.9) parsed to the AST in ``query.ast``.

Grammar (ABNF of clause 4.9, simplified; ``;`` binds tighter than ``|``)::

    Query     = Or
    Or        = And *("|" And)
    And       = Primary *(";" Primary)
    Primary   = "(" Or ")" / Term
    Term      = ["!"] Path / Path Op Values / Path ("~=" / "!~=") Regex
    Path      = Name *("." Name) *("[" Key *("." Key) "]")
    Op        = "==" / "!=" / ">=" / ">" / "<=" / "<"
    Values    = Value ".." Value / Value *("," Value)
    Value     = quotedString / Number / DateTime / Date / Time / "true" / "false" / URI

Errors name the position (0-based offset in the text) and the problem.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from cityhub.errors import BadRequestData
from cityhub.query.ast import And, Compare, Exists, Expr, Or, Path, Pattern, Range, Uri, Value

_NAME_END = set(".[]();|!=<>~,\"'")
_VALUE_END = set(";|),")
_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"]+$")
_OPERATORS = ("==", "!=", ">=", "<=", "!~=", "~=", ">", "<")
MAX_LENGTH = 4096
MAX_DEPTH = 32


class QSyntaxError(BadRequestData):
    """A q expression that is not valid; ``detail`` says where and why."""


def parse_q(text: str, parameter: str = "q") -> Expr:
    """Parse a q expression; raises BadRequestData naming position and problem."""
    if not text or not text.strip():
        raise QSyntaxError(f"{parameter} is empty")
    if len(text) > MAX_LENGTH:
        raise QSyntaxError(f"{parameter} is longer than {MAX_LENGTH} characters")
    return _Parser(text, parameter).parse()


class _Parser:
    def __init__(self, text: str, parameter: str) -> None:
        self.text = text
        self.pos = 0
        self.parameter = parameter
        self.depth = 0

    def fail(self, message: str, at: int | None = None) -> QSyntaxError:
        where = self.pos if at is None else at
        return QSyntaxError(f"{self.parameter}: {message} at position {where}")

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def parse(self) -> Expr:
        expr = self.or_expr()
        if not self.at_end():
            if self.peek() == ")":
                raise self.fail("unbalanced parenthesis ')'")
            raise self.fail(f"unexpected {self.peek()!r}")
        return expr

    def or_expr(self) -> Expr:
        items = [self.and_expr()]
        while self.peek() == "|":
            self.pos += 1
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Expr:
        items = [self.primary()]
        while self.peek() == ";":
            self.pos += 1
            items.append(self.primary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def primary(self) -> Expr:
        if self.peek() == "(":
            start = self.pos
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(f"parentheses nest deeper than {MAX_DEPTH}")
            self.pos += 1
            expr = self.or_expr()
            if self.peek() != ")":
                raise self.fail(f"unbalanced parenthesis '(' opened at position {start}")
            self.pos += 1
            self.depth -= 1
            return expr
        return self.term()

    def term(self) -> Expr:
        start = self.pos
        if self.at_end() or self.peek() in {";", "|", ")"}:
            raise self.fail("expected an attribute name")
        negated = False
        if self.peek() == "!" and self.peek(3) != "!~=" and self.peek(2) != "!=":
            negated = True
            self.pos += 1
        path = self.path()
        op = next((o for o in _OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            if not self.at_end() and self.peek() not in {";", "|", ")"}:
                raise self.fail(f"unknown operator starting with {self.peek()!r}")
            return Exists(path, negated)
        if negated:
            raise self.fail("'!' (absence) cannot be combined with an operator", start)
        op_position = self.pos
        self.pos += len(op)
        if op in {"~=", "!~="}:
            return Pattern(path, self.regex(), negated=op == "!~=")
        return Compare(path, op, self.values(op, op_position))

    def name(self, what: str) -> str:
        start = self.pos
        if re.match(r"https?://", self.text[self.pos :]):
            # A full IRI as attribute name: dots belong to it, so read up to an operator.
            while not self.at_end() and self.peek() not in set("[]();|!=<>~,\"'"):
                self.pos += 1
        else:
            while not self.at_end() and self.peek() not in _NAME_END:
                self.pos += 1
        text = self.text[start : self.pos]
        if not text:
            raise self.fail(f"expected {what}")
        if any(c.isspace() for c in text):
            raise self.fail(f"{what} {text!r} contains white space", start)
        return text

    def path(self) -> Path:
        start = self.pos
        names = [self.name("an attribute name")]
        while self.peek() == ".":
            self.pos += 1
            names.append(self.name("a sub-attribute name"))
        keys: list[str] = []
        while self.peek() == "[":
            self.pos += 1
            keys.append(self.name("a key"))
            while self.peek() == ".":
                self.pos += 1
                keys.append(self.name("a key"))
            if self.peek() != "]":
                raise self.fail("expected ']'")
            self.pos += 1
        return Path(tuple(names), tuple(keys), start)

    def values(self, op: str, op_position: int) -> Value | tuple[Value, ...] | Range:
        first = self.value()
        if self.text.startswith("..", self.pos):
            self.pos += 2
            if op not in {"==", "!="}:
                raise self.fail(f"a range needs == or !=, not {op}", op_position)
            return Range(first, self.value())
        if self.peek() == ",":
            if op not in {"==", "!="}:
                raise self.fail(f"a value list needs == or !=, not {op}", op_position)
            items = [first]
            while self.peek() == ",":
                self.pos += 1
                items.append(self.value())
            return tuple(items)
        return first

    def value(self) -> Value:
        start = self.pos
        if self.peek() == '"':
            return self.quoted()
        while not self.at_end() and self.peek() not in _VALUE_END:
            if self.text.startswith("..", self.pos):
                break
            self.pos += 1
        token = self.text[start : self.pos]
        if not token:
            raise self.fail("expected a value", start)
        return self.classify(token, start)

    def quoted(self) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while not self.at_end():
            char = self.peek()
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated string opened", start)

    def classify(self, token: str, start: int) -> Value:
        if token == "true":
            return True
        if token == "false":
            return False
        if _NUMBER.match(token):
            number = float(token)
            return int(token) if number.is_integer() and _is_int_text(token) else number
        try:
            if _DATETIME.match(token):
                return datetime.fromisoformat(token)
            if _DATE.match(token):
                return date.fromisoformat(token)
            if _TIME.match(token):
                return time.fromisoformat(token.rstrip("Z"))
        except ValueError as exc:
            raise self.fail(f"invalid date or time {token!r}", start) from exc
        if _URI.match(token):
            return Uri(token)
        raise self.fail(f"unquoted string {token!r}; put strings in double quotes", start)

    def regex(self) -> str:
        if self.peek() == '"':
            pattern = self.quoted()
        else:
            start, depth = self.pos, 0
            while not self.at_end():
                char = self.peek()
                if char == "\\":
                    self.pos += 2
                    continue
                if char == "(":
                    depth += 1
                elif char == ")":
                    if depth == 0:
                        break
                    depth -= 1
                elif char in {";", "|"} and depth == 0:
                    break
                self.pos += 1
            pattern = self.text[start : self.pos]
        if not pattern:
            raise self.fail("expected a regular expression")
        problem = regex_problem(pattern)
        if problem:
            raise self.fail(problem)
        return pattern


# Groups both Python's re and PostgreSQL's AREs read alike: (?:…), look-arounds, and a
# leading (?i). Others, such as named groups, are refused so no store behaves differently.
_PORTABLE_GROUP = re.compile(r"\(\?(?::|=|!|<=|<!)")


def regex_problem(pattern: str) -> str | None:
    """Why a regular expression cannot be used in a query (q ~=, idPattern), or None.

    The stores run them with Python's re (SQLite, in memory) and as PostgreSQL AREs, so only
    their common syntax is accepted.
    """
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression ({exc})"
    body = pattern[4:] if pattern.startswith("(?i)") else pattern
    for found in re.finditer(r"(?<!\\)\(\?", body):
        if not _PORTABLE_GROUP.match(body, found.start()):
            return "regular expression uses a (?…) group other than (?:, (?=, (?!, (?<=, (?<!"
    return None


def _is_int_text(token: str) -> bool:
    return "." not in token and "e" not in token.lower()


__all__ = ["QSyntaxError", "parse_q", "regex_problem"]
