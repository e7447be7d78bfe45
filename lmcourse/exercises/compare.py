"""Comparing a reader's answer with what was expected, with a message that says what differs: the
value, the type, the shape, the first differing element or key. Used by every exercise check
(`lmcourse.exercises`); `Mismatch` is what a check raises for a wrong answer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Mismatch", "expect"]


class Mismatch(AssertionError):
    """An answer that is not what the check expected; the message says what was expected and got."""


# --------------------------------------------------------------------------------------------
# Comparing an answer with what was expected


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    name = type(value).__name__
    shape = getattr(value, "shape", None)
    return f"{name} of shape {tuple(shape)}" if shape is not None else name


def expect(got: Any, want: Any, what: str = "your answer", *, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> None:
    """Raise `Mismatch` unless `got` equals `want`: numbers within `rel_tol`/`abs_tol`, tensors and
    arrays by shape then value, sequences and mappings element by element, anything else by `==`.
    The message names `what` was compared, the expected value and the one that came back."""
    if hasattr(want, "shape") and hasattr(want, "dtype"):  # torch tensor or numpy array
        if not (hasattr(got, "shape") and hasattr(got, "dtype")):
            raise Mismatch(f"{what}: expected a {_kind(want)}, got a {_kind(got)}: {_short(got)}")
        if tuple(got.shape) != tuple(want.shape):
            raise Mismatch(f"{what}: expected shape {tuple(want.shape)}, got shape {tuple(got.shape)}")
        import numpy as np

        g, w = (np.asarray(t.detach().cpu().double() if hasattr(t, "detach") else t, dtype=float) for t in (got, want))
        bad = ~np.isclose(g, w, rtol=rel_tol, atol=abs_tol, equal_nan=True)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise Mismatch(f"{what}: {int(bad.sum())} of {bad.size} values differ; at {index} expected "
                           f"{w[index]:.6g}, got {g[index]:.6g}")
        return
    if isinstance(want, bool) or want is None:
        if got is not want and got != want:
            raise Mismatch(f"{what}: expected {want!r}, got {_short(got)}")
        return
    if isinstance(want, (int, float)):
        if isinstance(got, bool) or not isinstance(got, (int, float)) and not hasattr(got, "__float__"):
            raise Mismatch(f"{what}: expected a number like {want!r}, got a {_kind(got)}: {_short(got)}")
        if not math.isclose(float(got), float(want), rel_tol=rel_tol, abs_tol=abs_tol):
            raise Mismatch(f"{what}: expected {want!r}, got {_short(got)}")
        return
    if isinstance(want, (str, bytes)):
        if got != want:
            raise Mismatch(f"{what}: expected {want!r}, got {_short(got)}")
        return
    if isinstance(want, Mapping):
        if not isinstance(got, Mapping):
            raise Mismatch(f"{what}: expected a mapping like {_short(want)}, got a {_kind(got)}")
        if set(got) != set(want):
            missing, extra = set(want) - set(got), set(got) - set(want)
            raise Mismatch(f"{what}: keys differ (missing {sorted(map(repr, missing))}, "
                           f"unexpected {sorted(map(repr, extra))})")
        for key in want:
            expect(got[key], want[key], f"{what}[{key!r}]", rel_tol=rel_tol, abs_tol=abs_tol)
        return
    if isinstance(want, (Sequence, set, frozenset)):
        if isinstance(got, (str, bytes)) or not isinstance(got, (Sequence, set, frozenset)):
            raise Mismatch(f"{what}: expected a {type(want).__name__} like {_short(want)}, got a {_kind(got)}")
        if isinstance(want, (set, frozenset)):
            if set(got) != set(want):
                raise Mismatch(f"{what}: expected {_short(want)}, got {_short(got)}")
            return
        if len(got) != len(want):
            raise Mismatch(f"{what}: expected {len(want)} items {_short(want)}, got {len(got)}: {_short(got)}")
        for i, (g, w) in enumerate(zip(got, want)):
            expect(g, w, f"{what}[{i}]", rel_tol=rel_tol, abs_tol=abs_tol)
        return
    if got != want:
        raise Mismatch(f"{what}: expected {_short(want)}, got {_short(got)}")
