"""Argument checks every part of the package shares, so a bad argument is reported in one wording:
``fn: name=value; expected what`` (``fn: `` only when the caller names its function). A value of the
wrong type raises `TypeError`, a value of the right type outside its range `ValueError`.

Torch-free and dependency-free (the bottom floor): `accounting`, `tokenizer`, `data`, `train` and the
widgets use it alike. Checks specific to one part (tensor shapes, a model's config, a process group)
stay in that part; these are only the generic ones.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["integer", "positive_int", "positive_number", "choice", "text"]


def _fail(error: type[Exception], fn: str | None, name: str, value, expected: str):
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise error(f"{fn + ': ' if fn else ''}{name}={shown}; expected {expected}")


def integer(name: str, value, *, least: int | None = None, fn: str | None = None) -> int:
    """`value` as an int; it must be an integer (numpy's too, not a bool) and at least `least`."""
    expected = "an integer" if least is None else f"an integer >= {least}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(TypeError, fn, name, value, expected)
    if least is not None and value < least:
        _fail(ValueError, fn, name, value, expected)
    return int(value)


def positive_int(name: str, value, *, fn: str | None = None) -> int:
    """`value` as an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(TypeError, fn, name, value, "a positive integer")
    if value < 1:
        _fail(ValueError, fn, name, value, "a positive integer")
    return int(value)


def positive_number(name: str, value, *, fn: str | None = None) -> float:
    """`value` as a float; it must be a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(TypeError, fn, name, value, "a positive number")
    if not value > 0 or not math.isfinite(value):
        _fail(ValueError, fn, name, value, "a positive number")
    return float(value)


def choice(name: str, value, allowed, *, fn: str | None = None):
    """`value`, which must be one of `allowed`."""
    options = list(allowed)
    if value not in options:
        listed = sorted(options) if all(isinstance(o, str) for o in options) else options
        _fail(ValueError, fn, name, value, f"one of {listed}")
    return value


def text(name: str, value, *, fn: str | None = None) -> str:
    """`value`, which must be a str."""
    if not isinstance(value, str):
        _fail(TypeError, fn, name, value, "a str")
    return value
