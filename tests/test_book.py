"""The book's structure: chapters, table of contents and Colab twins agree (no build needed)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import lmcourse_book as book  # noqa: E402

CHAPTER_FILE = re.compile(r"book/\d\d_[a-z0-9_]+")
FIX_TWINS = "regenerate them with: .venv/bin/python .ci/twins.py"


def chapter_files() -> set[str]:
    return {p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "book").glob("[0-9][0-9]_*.md")}


def test_every_chapter_is_in_the_toc_and_back():
    files = chapter_files()
    toc = book.toc_docnames()
    in_toc = {name for name in toc if CHAPTER_FILE.fullmatch(name)}
    assert not files - in_toc, f"chapters missing from _toc.yml: {sorted(files - in_toc)}"
    assert not in_toc - files, f"_toc.yml entries with no book/NN_*.md file: {sorted(in_toc - files)}"
    missing = [name for name in toc if not (ROOT / f"{name}.md").is_file()]
    assert not missing, f"_toc.yml entries with no file: {missing}"
    assert len(toc) == len(set(toc)), f"_toc.yml lists a file twice: {toc}"


def test_chapter_names_follow_the_convention():
    bad = sorted(p.name for p in (ROOT / "book").glob("*.md")
                 if p.name not in ("index.md", "glossary.md") and not CHAPTER_FILE.fullmatch(f"book/{p.stem}"))
    assert not bad, f"book/ files not named NN_short_name.md (lowercase, underscores): {bad}"


def test_every_chapter_is_a_notebook():
    """Only notebooks are executed and twinned, so a chapter without a kernelspec would slip by."""
    not_notebooks = sorted(name for name in chapter_files() if not book.is_notebook(ROOT / f"{name}.md"))
    assert not not_notebooks, (
        f"chapters without a jupytext MyST header naming a kernel (kernelspec: python3): {not_notebooks}"
    )


def test_repository_is_named_once_in_config():
    url, slug, branch = book.repository()
    assert url == f"https://github.com/{slug}" and branch


@pytest.mark.slow
def test_twins_are_in_sync_with_their_chapters():
    problems = []
    for chapter in book.chapters():
        twin = book.twin_path(chapter)
        if not twin.is_file():
            problems.append(f"missing {twin.relative_to(ROOT)}")
        elif twin.read_text(encoding="utf8") != book.twin_text(chapter):
            problems.append(f"{twin.relative_to(ROOT)} differs from {chapter.relative_to(ROOT)}")
    wanted = {book.twin_path(chapter) for chapter in book.chapters()}
    problems += [f"{p.relative_to(ROOT)} has no chapter in _toc.yml"
                 for p in sorted(book.TWINS.glob("*.ipynb")) if p not in wanted]
    assert not problems, "Colab twins out of date: " + "; ".join(problems) + f"\n{FIX_TWINS}"


def test_twins_install_lmcourse_and_carry_no_outputs():
    for chapter in book.chapters():
        twin = book.twin_path(chapter)
        if not twin.is_file():
            continue  # reported by the sync test
        cells = json.loads(twin.read_text(encoding="utf8"))["cells"]
        install = "".join(cells[0]["source"])
        assert "%pip install" in install, f"{twin}: first cell must install lmcourse"
        assert install.rstrip().endswith(f'@{book.package_ref()}"'), f"{twin}: install line ignores package_ref"
        for cell in cells:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{twin} has outputs"


def test_readme_chapter_table_marks_the_chapters_that_exist():
    rows = re.findall(r"^\| (\d+) \| [^|]+ \| ([^|]+) \|$", (ROOT / "README.md").read_text(encoding="utf8"), re.M)
    assert [int(n) for n, _ in rows] == list(range(1, 19)), \
        "README needs one table row per chapter: lectures 1..17 and appendix 18"
    for number, cell in rows:
        files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "book").glob(f"{int(number):02d}_*.md"))
        expected = f"[{files[0]}]({files[0]})" if files else "planned"
        assert cell.strip() == expected, f"README row {number}: {cell.strip()!r}, expected {expected!r}"


def test_package_ref_is_checked(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/a/b\n  package_ref: 'v1 ; rm'\n")
    with pytest.raises(ValueError, match="package_ref='v1 ; rm'"):
        book.package_ref(tmp_path)
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/a/b\n  package_ref: v0.2.0\n")
    assert book.package_ref(tmp_path) == "v0.2.0"
    assert book.install_source(tmp_path).endswith('"lmcourse @ git+https://github.com/a/b@v0.2.0"')


def test_checks_fold_where_they_stand():
    """lmcourse_checks folds every run of checks (with the comment introducing it) and keeps the
    code around it in view; a cell that is all checks folds whole; code that merely contains an
    assert (a function body) stays as it is."""
    from lmcourse_checks import split_checks

    cell = "%config InlineBackend.figure_formats = ['retina']\nx = f(1,\n      2)\n# the paper's figure\n" \
           "assert x == 3\n\nfor y in (1, 2):\n    if y:\n        assert y > 0\nprint(x)\nassert x\n"
    assert split_checks(cell) == [
        ("%config InlineBackend.figure_formats = ['retina']\nx = f(1,\n      2)", 0),
        ("# the paper's figure\nassert x == 3\n\nfor y in (1, 2):\n    if y:\n        assert y > 0", 2),
        ("print(x)", 0), ("assert x", 1)]
    assert split_checks("assert a\nassert b, 'why'") == [("assert a\nassert b, 'why'", 2)]
    for unchanged in ("def f():\n    assert x\n    return x", "for y in z:\n    print(y)", "x = (",
                      "exercises.check('name', my_x)"):
        assert split_checks(unchanged) == [(unchanged, 0)]
    # what a reader scrolls past in the book: top-level asserts left in view
    left = total = 0
    for chapter in book.chapters():
        for source in re.findall(r"```\{code-cell\}[^\n]*\n(?::[^\n]*\n)*(.*?)```", chapter.read_text(), re.S):
            total += sum(line.startswith("assert") for line in source.splitlines())
            left += sum(line.startswith("assert") for text, count in split_checks(source) if not count
                        for line in text.splitlines())
    assert total > 300 and left == 0, f"{left} of {total} top-level assert lines left in view"


def _code_and_prose(chapter: Path) -> tuple[str, str]:
    text = chapter.read_text()
    code = "\n".join(re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, re.S))
    return code, re.sub(r"```\{code-cell\}.*?```", "", text, flags=re.S)


def test_figures_and_tables_the_prose_names_exist():
    """Every "Figure N.M" / "Table N.M" the prose names is shown by chapter N's captions (numbered in
    cell order by lmcourse.figures.Captions), and a chapter numbers its own figures with its number."""
    counts, prose = {}, {}
    for chapter in book.chapters():
        number = int(chapter.name[:2])
        code, prose[chapter.name] = _code_and_prose(chapter)
        counts[number] = {"Figure": code.count("captions.figure("), "Table": code.count("captions.table(")}
        made = re.findall(r"Captions\((\d+)\)", code)
        if any(counts[number].values()):
            assert made == [str(number)], f"{chapter.name}: expected one Captions({number}), found {made}"
    for name, text in prose.items():
        for kind, n, m in re.findall(r"\b(Figure|Table) (\d+)\.(\d+)\b", text):
            assert int(n) in counts and 1 <= int(m) <= counts[int(n)][kind], \
                f"{name} names {kind} {n}.{m}, but chapter {n} shows {counts.get(int(n), {}).get(kind, 0)} {kind.lower()}s"


def test_every_figure_is_numbered():
    """A chapter shows its figures through captions.figure (a number and a caption), never a bare
    plt.show(), and every chapter that draws numbers its figures."""
    for chapter in book.chapters():
        code, _ = _code_and_prose(chapter)
        assert "plt.show()" not in code, f"{chapter.name}: plt.show() shows a figure without a number or caption"
        if re.search(r"plt\.(subplots|figure|plot)\(", code):
            assert "captions.figure(" in code, f"{chapter.name} draws but shows no numbered figure"


LECTURE_END = ["Pitfalls", "Summary", "Quiz", "Exercises", "Report card and solutions"]


@pytest.mark.parametrize("number", range(1, 18))
def test_a_chapter_reads_like_a_lecture(number):
    """Every lecture chapter opens with its warm-up, works one problem through, and ends the same
    way: pitfalls, summary, quiz, exercises, report card (then its references, if any)."""
    chapter = next(c for c in book.chapters() if c.name.startswith(f"{number:02d}_"))
    text = chapter.read_text()
    headings = re.findall(r"^## (.+)$", re.sub(r"```.*?```", "", text, flags=re.S), re.M)
    first_section = text.index("\n## ")
    assert "exercises.warm_up()" in text[:first_section], \
        f"{chapter.name}: the warm-up (exercises.warm_up()) comes before the first section"
    assert any(h.startswith("Worked problem") for h in headings), f"{chapter.name}: no '## Worked problem: ...'"
    tail = [h for h in headings if h != "References"][-len(LECTURE_END):]
    assert tail == LECTURE_END, f"{chapter.name} ends with {tail}; expected {LECTURE_END} (then References)"
    if "References" in headings:
        assert headings[-1] == "References", f"{chapter.name}: References come last"
    sections = dict(re.findall(r"^## (Pitfalls|Quiz)\n(.*?)(?=^## )", text, re.S | re.M))
    pitfalls = re.findall(r"^- \*\*", sections["Pitfalls"], re.M)
    assert 3 <= len(pitfalls) <= 6, f"{chapter.name}: {len(pitfalls)} pitfalls; expected 3-6 bullets '- **...**'"
    assert "exercises.quiz()" in sections["Quiz"], f"{chapter.name}: the Quiz section shows exercises.quiz()"


MAX_CELL_LINES = 30  # "about 25": a cell a reader takes in at once, one purpose per cell


def test_no_code_cell_is_longer_than_a_reader_takes_in_at_once():
    """A long cell mixes purposes (helpers, a run, a plot, checks): split it where one ends."""
    long = []
    for chapter in book.chapters():
        text = chapter.read_text()
        for match in re.finditer(r"```\{code-cell\}[^\n]*\n(.*?)```", text, re.S):
            lines = [line for line in match.group(1).splitlines() if not line.startswith(":")]
            if len(lines) > MAX_CELL_LINES:
                long.append(f"{chapter.name}:{text[:match.start()].count(chr(10)) + 1} ({len(lines)} lines)")
    assert not long, f"code cells over {MAX_CELL_LINES} lines: {long}"
