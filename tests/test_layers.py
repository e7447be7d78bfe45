"""The package's import arrows point down: every import of one part of `lmcourse` by another
(including imports inside functions, which is where a cycle likes to hide) goes to a lower floor,
and no two modules import each other, directly or around a loop. The floors are written once, here."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lmcourse"

# lowest first; a part may import only parts on lower floors (and itself)
FLOORS = [
    ["files", "source", "checks"],
    ["lmcourse", "config", "figures"],         # the root facade (device, progress, show), the model config, captions
    ["accounting", "tokenizer", "nn", "corpus"],
    ["data", "inference", "timing"],
    ["train", "eval", "kernels"],
    ["parallel", "scaling", "align"],
    ["widgets", "exercises"],                   # nothing imports these
]
FLOOR = {part: level for level, parts in enumerate(FLOORS) for part in parts}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """lmcourse.nn.model -> nn; lmcourse.timing -> timing; lmcourse -> lmcourse."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "lmcourse"


def imports(path: Path) -> list[tuple[str, int]]:
    """Every lmcourse module `path` imports (absolute or relative, at any depth), with its line."""
    tree = ast.parse(path.read_text(encoding="utf8"))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] == "lmcourse"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != "lmcourse":
                continue
            for alias in node.names:  # `from lmcourse.nn import model` imports a module
                sub = f"{base}.{alias.name}"
                found.append((sub if (ROOT / Path(*sub.split("."))).with_suffix(".py").exists()
                              or (ROOT / Path(*sub.split("."))).is_dir() else base, node.lineno))
    return found


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        for target, _ in imports(path):
            edges[module_name(path)].add(target)
    return edges


def test_every_part_has_a_floor():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()}
    assert parts - set(FLOOR) == set(), f"parts of lmcourse with no floor in FLOORS: {sorted(parts - set(FLOOR))}"


def test_imports_point_down():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py":  # a program (python -m ...), not a library module: nothing imports it,
            continue                    # so it may put every floor together (lmcourse.train's uses parallel)
        source = part_of(module_name(path))
        for target, line in imports(path):
            dest = part_of(target)
            if dest != source and FLOOR[dest] >= FLOOR[source]:
                upward.append(f"{path.relative_to(ROOT)}:{line} ({source}, floor {FLOOR[source]}) imports "
                              f"{target} ({dest}, floor {FLOOR[dest]})")
    assert not upward, "imports that do not point down:\n  " + "\n  ".join(upward)


@pytest.mark.slow
def test_no_module_cycles():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt == node or nxt.startswith(node + "."):  # a package importing its own modules
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n  " + "\n  ".join(cycles)


def test_the_detector_sees_lazy_and_relative_imports(tmp_path):
    sample = tmp_path / "lmcourse" / "nn" / "x.py"
    sample.parent.mkdir(parents=True)
    sample.write_text("def f():\n    from lmcourse.inference import generate\n    from . import layers\n")
    found = {name for name, _ in _imports_under(tmp_path, sample)}
    assert {"lmcourse.inference", "lmcourse.nn"} <= found


def _imports_under(root: Path, path: Path):
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return imports(path)
    finally:
        ROOT = saved



# --------------------------------------------------------------------------------------------
# Chapters: public facades, one path per name

CODE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)
# the only deep imports a chapter may make, each for a reason the facade cannot serve
DEEP_IMPORTS_ALLOWED = {
    ("lmcourse.data.classifier", "train_classifier"): "torch-only, kept out of the torch-free lmcourse.data",
    ("lmcourse.kernels.gelu", "_gelu_kernel"): "the raw @triton.jit function, compiled ahead of time in ch6",
}


def chapter_imports():
    """(chapter file, module, name) for every `from lmcourse... import name` in the chapters' code cells."""
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.md")):
        for cell in CODE_CELL.findall(path.read_text(encoding="utf8")):
            source = "\n".join("" if line.startswith((":", "%")) else line for line in cell.splitlines())
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lmcourse"):
                    for alias in node.names:
                        yield path.name, node.module, alias.name


def test_chapters_import_from_facades_only():
    deep = [f"{chapter}: from {module} import {name}" for chapter, module, name in chapter_imports()
            if len(module.split(".")) > 2 and (module, name) not in DEEP_IMPORTS_ALLOWED]
    private = [f"{chapter}: from {module} import {name}" for chapter, module, name in chapter_imports()
               if any(part.startswith("_") for part in module.split(".")) or
               (name.startswith("_") and (module, name) not in DEEP_IMPORTS_ALLOWED)]
    assert not deep, "chapters import from a module instead of its part's facade:\n  " + "\n  ".join(deep)
    assert not private, "chapters import private names:\n  " + "\n  ".join(private)


def test_each_name_reaches_the_chapters_by_one_path():
    paths: dict[str, set[str]] = defaultdict(set)
    for _, module, name in chapter_imports():
        paths[name].add(module)
    twice = {name: sorted(modules) for name, modules in paths.items() if len(modules) > 1}
    assert not twice, f"names imported from two places: {twice}"
