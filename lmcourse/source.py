"""Show the package's own code in a chapter: `show(obj)` displays the source of a function, class,
method, module or package file as a cell output, taken from the installed package at run time.

Why a cell output and not Sphinx's `literalinclude`: a directive only renders inside the book's
Sphinx build; in a Colab twin or in JupyterLab it stays raw text and the reader never sees the code
the prose discusses. A cell output renders in all three places. The output is a Markdown fenced
code block (the book's theme highlights it in light and dark mode; JupyterLab and Colab highlight
fenced code too) under a one-line caption naming the file and lines, with a plain-text fallback.
The chapter cell that calls `show` carries the `remove-input` tag, so the book shows only the code.

Left out: diffs, cross-file listings and anything outside the `lmcourse` package (the package is the
single source of truth; a chapter never shows a pasted copy).
"""

from __future__ import annotations

import inspect
import re
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Source", "show"]

_PACKAGE_ROOT = Path(__file__).resolve().parent  # .../lmcourse
_LANGUAGES = {".py": "python", ".json": "json", ".toml": "toml", ".yml": "yaml", ".yaml": "yaml", ".sh": "bash"}


@dataclass(frozen=True)
class Source:
    """Lines of one package file, ready to display: `text` (dedented), `path` (relative to the
    package's parent, e.g. ``lmcourse/nn/layers.py``), `first_line`/`last_line` (1-based) and
    `name` (the object shown, or '' for a whole file)."""

    text: str
    path: str
    first_line: int
    last_line: int
    language: str
    name: str = ""

    @property
    def caption(self) -> str:
        where = f"{self.path}, lines {self.first_line}-{self.last_line}"
        return f"{self.name} ({where})" if self.name else where

    def _repr_markdown_(self) -> str:
        longest_run = max((len(m) for m in re.findall(r"`+", self.text)), default=0)
        fence = "`" * max(3, longest_run + 1)  # a docstring holding ``` must not end the block
        return f"*{self.caption}*\n\n{fence}{self.language}\n{self.text}\n{fence}\n"

    def __repr__(self) -> str:  # what a terminal, and nbval's text comparison, sees
        return f"# {self.caption}\n{self.text}"


def _package_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(_PACKAGE_ROOT.parent).as_posix()
    except ValueError:
        raise ValueError(f"show: {path} is not a file of the lmcourse package ({_PACKAGE_ROOT})") from None


def _resolve_file(obj: str | Path) -> Path:
    """A package file from a path relative to the package (``"train/tiny.json"`` or
    ``"lmcourse/train/tiny.json"``) or an absolute path inside it."""
    path = Path(obj)
    if not path.is_absolute():
        parts = path.parts[1:] if path.parts[:1] == ("lmcourse",) else path.parts
        path = _PACKAGE_ROOT.joinpath(*parts)
    if not path.is_file():
        raise ValueError(f"show: obj={str(obj)!r} is not a file of the lmcourse package")
    _package_path(path)
    return path


def _import_dotted(name: str):
    """The object a dotted name like ``lmcourse.nn.layers.RMSNorm.forward`` names."""
    import importlib

    parts = name.split(".")
    if parts[0] != "lmcourse":
        raise ValueError(f"show: obj={name!r}; expected a dotted name inside lmcourse (lmcourse.…)")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        try:
            for attribute in parts[cut:]:
                target = getattr(target, attribute)
        except AttributeError:
            break
        return target
    raise ValueError(f"show: obj={name!r} names nothing in the lmcourse package")


def _cut(lines: list[str], start_after: str | None, end_before: str | None, what: str) -> tuple[int, int]:
    """(first, stop) indices of the lines strictly after `start_after` and before `end_before`."""
    first, stop = 0, len(lines)
    if start_after is not None:
        hits = [i for i, line in enumerate(lines) if start_after in line]
        if not hits:
            raise ValueError(f"show: start_after={start_after!r} does not occur in {what}")
        first = hits[0] + 1
    if end_before is not None:
        hits = [i for i, line in enumerate(lines) if end_before in line and i >= first]
        if not hits:
            raise ValueError(f"show: end_before={end_before!r} does not occur in {what}")
        stop = hits[0]
    while first < stop and not lines[first].strip():  # no blank lines at either edge
        first += 1
    while stop > first and not lines[stop - 1].strip():
        stop -= 1
    if first >= stop:
        raise ValueError(f"show: nothing of {what} lies between start_after and end_before")
    return first, stop


def show(obj, *, start_after: str | None = None, end_before: str | None = None) -> Source:
    """The source of `obj`, displayed as the cell's output.

    `obj` is a function, class, method or module of `lmcourse`; its dotted name
    (``"lmcourse.nn.layers.RMSNorm"``, which also reaches names a facade does not export); or the path
    of a package file relative to the package (``"train/tiny.json"``). `start_after`/`end_before` keep only the lines
    strictly between the first line containing one string and the next containing the other (for
    example a module's docstring: ``end_before="from __future__"``).
    """
    if isinstance(obj, str) and "/" not in obj and Path(obj).suffix not in _LANGUAGES:
        obj = _import_dotted(obj)
    if isinstance(obj, (str, Path)):
        path = _resolve_file(obj)
        lines = path.read_text(encoding="utf8").splitlines()
        offset, name = 1, ""
    else:
        target = inspect.unwrap(obj.fget if isinstance(obj, property) else obj)
        # a Triton kernel (@triton.jit, compiled or interpreted) keeps the Python function as .fn
        if isinstance(getattr(target, "fn", None), types.FunctionType):
            target = target.fn
        if not isinstance(target, (types.FunctionType, types.MethodType, type, types.ModuleType)):
            raise TypeError(f"show: obj={obj!r} is a {type(obj).__name__}; expected a function, class, "
                            "method, module or a package file path")
        try:
            path = Path(inspect.getsourcefile(target) or "")
            lines, offset = inspect.getsourcelines(target)
        except (OSError, TypeError) as err:
            raise ValueError(f"show: no source found for {obj!r} ({err})") from None
        lines = [line.rstrip("\n") for line in lines]
        offset = max(offset, 1)  # a module's source starts at line 0 for inspect
        name = getattr(target, "__qualname__", getattr(target, "__name__", ""))
    relative = _package_path(path)
    first, stop = _cut(lines, start_after, end_before, relative + (f" ({name})" if name else ""))
    text = textwrap.dedent("\n".join(lines[first:stop]))
    return Source(text=text, path=relative, first_line=offset + first, last_line=offset + stop - 1,
                  language=_LANGUAGES.get(path.suffix, ""), name=name)
