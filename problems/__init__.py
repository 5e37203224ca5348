"""Test problems: problems.get(name, **params) builds one; problems.names() lists."""

from problems import classic, large, mgh, ml  # noqa: F401  (importing registers the problems)
from problems.base import (
    Family,
    Oracles,
    Problem,
    bind,
    constructor,
    get,
    make_label,
    names,
)

__all__ = [
    "Family",
    "Oracles",
    "Problem",
    "bind",
    "constructor",
    "get",
    "make_label",
    "names",
]
