"""Selection specs: ``name`` or ``name[k=v,k2=[a,b,c]]`` (benchopt's convention).

A value parses as an int (``10``), a float (``1e-3``, ``0.5``, ``inf``), a bool
(``true``/``false``, any case) or else a string (``log``; quote it, ``'a,b'``, to put
``,[]=`` or spaces inside). A bracketed list of values is a sweep: a spec expands to
the cartesian product of its lists, in the order the keys are written, so
``adam[lr=[1e-3,1e-2],b1=[0.9,0.99]]`` is four configs. Names may carry a library
prefix and dashes (``scipy:L-BFGS-B``, ``optax:adam[lr=1e-2]``).

Only syntax is checked here; whether a name exists and a value is valid is for the
registries (``problems.get``, ``optimizers.get``, ``bench.peers.check_peer``).
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

Value = int | float | bool | str
Params = dict[str, Any]

FORM = "a SPEC is NAME or NAME[k=v,k2=[a,b,...]], e.g. 'adam[lr=1e-3,b1=[0.9,0.99]]'"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:+\-]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(
    r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE
)
_DELIMS = set(",[]='\"")
# the most configs one spec may expand to, and a spec's length: a typo such as a grid
# of 100^4 points would otherwise be built before anything is checked
MAX_GRID = 10_000
MAX_SPEC_CHARS = 10_000


class SpecError(ValueError):
    """A malformed spec; the message says what and where, and the accepted form."""


def parse_value(text: str) -> Value:
    """``"10"`` -> 10, ``"1e-3"`` -> 0.001, ``"true"`` -> True, else the string."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def format_value(v: Any) -> str:
    """A value as a spec writes it (the inverse of ``parse_value``)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else str(v)
    if isinstance(v, str):
        ok = v and not (set(v) & _DELIMS) and not any(c.isspace() for c in v)
        return v if ok and parse_value(v) == v else f"'{v}'"
    return str(v)


def format_spec(name: str, params: Params) -> str:
    """``name[k=v,...]`` with keys sorted; lists as ``[a,b]``; just ``name`` if none."""
    if not params:
        return name

    def one(v: Any) -> str:
        if isinstance(v, list | tuple):
            return "[" + ",".join(format_value(x) for x in v) + "]"
        return format_value(v)

    return f"{name}[{','.join(f'{k}={one(params[k])}' for k in sorted(params))}]"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.i = text, 0

    def fail(self, what: str) -> SpecError:
        where = (
            "at the end"
            if self.i >= len(self.text)
            else f"at position {self.i + 1} ({self.text[self.i]!r})"
        )
        return SpecError(f"malformed spec {self.text!r}: {what} {where}; {FORM}")

    def ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def expect(self, ch: str, what: str) -> None:
        self.ws()
        if self.peek() != ch:
            raise self.fail(what)
        self.i += 1

    def match(self, pattern: re.Pattern[str], what: str) -> str:
        self.ws()
        m = pattern.match(self.text, self.i)
        if not m:
            raise self.fail(what)
        self.i = m.end()
        return m.group()

    def scalar(self, key: str) -> Value:
        self.ws()
        ch = self.peek()
        if ch in ("'", '"'):
            end = self.text.find(ch, self.i + 1)
            if end < 0:
                raise self.fail(f"unterminated quote in the value of {key!r}")
            s = self.text[self.i + 1 : end]
            self.i = end + 1
            return s
        start = self.i
        while self.i < len(self.text):
            c = self.text[self.i]
            if c in _DELIMS or c.isspace():
                break
            self.i += 1
        if self.i == start:
            if ch == "[":
                raise self.fail(f"nested list in the value of {key!r}")
            raise self.fail(f"expected a value for {key!r}")
        return parse_value(self.text[start : self.i])

    def value(self, key: str) -> Value | list[Value]:
        self.ws()
        if self.peek() != "[":
            return self.scalar(key)
        self.i += 1
        items = [self.scalar(key)]
        while True:
            self.ws()
            if self.peek() == ",":
                self.i += 1
                items.append(self.scalar(key))
            elif self.peek() == "]":
                self.i += 1
                return items
            else:
                raise self.fail(f"expected ',' or ']' in the list of {key!r}")

    def spec(self) -> tuple[str, Params]:
        name = self.match(_NAME, "expected a name (letters, digits, _ . : + -)")
        params: Params = {}
        self.ws()
        if self.peek() == "[":
            self.i += 1
            self.ws()
            if self.peek() == "]":
                self.i += 1
            else:
                while True:
                    key_at = self.i
                    key = self.match(_KEY, "expected a parameter name")
                    if key in params:
                        self.i = key_at
                        raise self.fail(f"parameter {key!r} given twice")
                    self.expect("=", f"expected '=' after {key!r}")
                    params[key] = self.value(key)
                    self.ws()
                    if self.peek() == ",":
                        self.i += 1
                    elif self.peek() == "]":
                        self.i += 1
                        break
                    else:
                        raise self.fail("expected ',' or ']'")
        self.ws()
        if self.i < len(self.text):
            raise self.fail("unexpected text after the spec")
        return name, params


def parse_spec(text: str) -> tuple[str, Params]:
    """``"adam[lr=[1e-3,1e-2]]"`` -> ``("adam", {"lr": [0.001, 0.01]})``; lists kept."""
    if not isinstance(text, str):
        raise SpecError(f"a spec must be a string, got {text!r}; {FORM}")
    if not text.strip():
        raise SpecError(f"empty spec; {FORM}")
    if len(text) > MAX_SPEC_CHARS:
        raise SpecError(
            f"spec of {len(text)} characters, more than {MAX_SPEC_CHARS}: "
            f"{text[:40]}...; split it"
        )
    return _Parser(text).spec()


def expand(text: str) -> list[tuple[str, Params]]:
    """All (name, params) a spec stands for: the cartesian product of its lists,
    first key slowest; repeated combinations are dropped."""
    name, params = parse_spec(text)
    keys = list(params)
    axes = [v if isinstance(v, list) else [v] for v in params.values()]
    size = math.prod(len(a) for a in axes)
    if size > MAX_GRID:
        raise SpecError(
            f"{text[:60]} expands to {size} configs, more than {MAX_GRID}; "
            "use fewer values per list"
        )
    out: list[tuple[str, Params]] = []
    seen: set[str] = set()
    for combo in itertools.product(*axes):
        p = dict(zip(keys, combo, strict=True))
        key = canonical(name, p)
        if key not in seen:
            seen.add(key)
            out.append((name, p))
    return out


def canonical(name: str, params: Params) -> str:
    """A key under which equal selections compare equal (``lr=1`` == ``lr=1.0``)."""

    def norm(v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
        return v

    return name + repr(sorted((k, norm(v)) for k, v in params.items()))
