"""Test problems: problems.get(name, **params) builds one; problems.names() lists;
``@problems.register("name")`` on a constructor adds one (built-ins and plugins)."""

from problems import classic, large, mgh, ml  # noqa: F401  (importing registers the problems)
from problems.base import (
    Family,
    Oracles,
    Problem,
    bind,
    constructor,
    get,
    in_precision,
    make_label,
    names,
    register,
    unregister,
)

__all__ = [
    "Family",
    "Oracles",
    "Problem",
    "bind",
    "constructor",
    "get",
    "in_precision",
    "make_label",
    "names",
    "register",
    "unregister",
]
