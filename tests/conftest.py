"""Shared pytest setup, and the plugin that turns the notebook tests into the book's execution.

The notebook phase of .ci/test runs

    python -m pytest -p tests.conftest --nbval-lax --nbval-cell-timeout=T _build/notebooks

on the jupytext conversions of the chapters (`.ci/book.py notebooks`). nbval executes each
notebook once, cell by cell. This plugin listens to the same kernel while nbval does:

- the kernel starts in the chapter's own folder (book/), as in the book build, with CI=true so
  progress bars stay quiet;
- every iopub message nbval reads for a cell is also fed to an nbclient `NotebookClient`, the
  processor the book build itself uses: it collects the outputs and, as its `store_widget_state`
  does, the ipywidgets state from comm_open/comm_msg (Output widgets included);
- when every cell of a notebook passed, the outputs are put into the chapter as myst-nb reads
  it and stored in the jupyter-cache at _build/.jupyter_cache (`lmcourse_book.JUPYTER_CACHE`),
  with the widget state in the notebook metadata (`widgets`).

The book build then runs in `cache` mode and finds every chapter there, so it executes nothing
(`.ci/book.py build --require-cached` checks that against jupyter-cache's records), and the
rendered-book test looks at the same execution. Outside `--nbval`/`--nbval-lax` runs the plugin
does nothing.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

# Triton reads TRITON_INTERPRET at its first import; without CUDA, whichever test module imports
# triton first must find it set, or the kernels tests fail inside their launches (lmcourse/kernels/_triton.py).
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import lmcourse_book as book  # noqa: E402


def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def one_thread():
    """torch on one CPU thread for the test, restored afterwards. Two reasons share it: a
    multithreaded matmul may split its sums differently from call to call on a busy machine (the math
    library picks its thread count as it goes), which changes last bits; and tiny models run no
    slower on one thread while contended threads make them many times slower."""
    yield from _one_torch_thread()


@pytest.fixture(scope="module")
def one_thread_module():
    """`one_thread` for a whole module, and for its module-scoped fixtures (use it as their argument)."""
    yield from _one_torch_thread()


def pytest_configure(config):
    if not (getattr(config.option, "nbval_lax", False) or getattr(config.option, "nbval", False)):
        return
    import nbval.plugin

    os.environ["CI"] = "true"  # inherited by every kernel nbval starts
    nbval.plugin.RunningKernel = _recording_kernel_class(nbval.plugin.RunningKernel)
    config.pluginmanager.register(ChapterRecorder(), "lmcourse-chapter-recorder")


def _chapter_dir(cwd: str | None) -> str | None:
    """nbval starts a kernel in the .ipynb's folder; run chapters in their source folder instead."""
    if cwd is None:
        return None
    try:
        relative = Path(cwd).resolve().relative_to(book.EXECUTED_NOTEBOOKS)
    except ValueError:
        return cwd  # not one of ours
    return str(ROOT / relative)


def _recording_kernel_class(running_kernel):
    class RecordingKernel(running_kernel):
        """nbval's kernel, with every iopub message of a cell execution also sent to nbclient."""

        def __init__(self, kernel_name, cwd=None, startup_timeout=60):
            self.executor = None  # nbclient.NotebookClient, set by ChapterRecorder
            self.cell_of_msg: dict[str, int] = {}  # execute_request msg_id -> index in nb.cells
            self.current_cell: int | None = None
            self.language_info = None
            super().__init__(kernel_name, cwd=_chapter_dir(cwd), startup_timeout=startup_timeout)

        def execute_cell_input(self, cell_input, allow_stdin=None):
            msg_id = super().execute_cell_input(cell_input, allow_stdin)
            if self.current_cell is not None:
                self.cell_of_msg[msg_id] = self.current_cell
            return msg_id

        def get_message(self, stream, timeout=None):
            msg = super().get_message(stream, timeout)
            if stream == "shell" and msg["msg_type"] == "kernel_info_reply":
                self.language_info = msg["content"].get("language_info")
            parent = msg["parent_header"].get("msg_id")
            if stream == "iopub" and self.executor is not None and parent in self.cell_of_msg:
                from nbclient.exceptions import CellExecutionComplete

                index = self.cell_of_msg[parent]
                try:
                    self.executor.process_message(msg, self.executor.nb.cells[index], index)
                except CellExecutionComplete:
                    pass
            return msg

    return RecordingKernel


class ChapterRecorder:
    """Follows nbval's items: which cell runs now, whether a notebook passed; caches passes."""

    def __init__(self):
        self.failed: set[str] = set()  # nodeids of notebooks with a failed/skipped cell
        self.executed: dict[str, set[int]] = {}  # notebook nodeid -> code cells run
        self.started: dict[str, float] = {}
        self.cached: list[str] = []
        self.not_cached: list[str] = []

    @staticmethod
    def _is_cell(item) -> bool:
        from nbval.plugin import IPyNbCell

        return isinstance(item, IPyNbCell) and hasattr(item.parent.kernel, "cell_of_msg")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        if self._is_cell(item):
            from nbclient import NotebookClient

            notebook, kernel = item.parent, item.parent.kernel
            if kernel.executor is None:
                nb = copy.deepcopy(notebook.nb)
                for cell in nb.cells:
                    if cell.cell_type == "code":
                        cell.outputs, cell.execution_count = [], None
                kernel.executor = NotebookClient(nb, record_timing=False)
                kernel.executor.kc = kernel.kc  # Output widgets answer through it
                self.started[notebook.nodeid] = time.monotonic()
            code_cells = [i for i, c in enumerate(kernel.executor.nb.cells) if c.cell_type == "code"]
            kernel.current_cell = code_cells[item.cell_num]
            kernel.executor.clear_before_next_output = False  # nbclient sets it per cell
            self.executed.setdefault(notebook.nodeid, set()).add(item.cell_num)
        yield

    def pytest_runtest_logreport(self, report):
        if report.failed or report.skipped:
            self.failed.add(report.nodeid.split("::")[0])

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item, nextitem):
        """After a notebook's last cell, while its kernel still runs, cache it if all passed."""
        if not self._is_cell(item) or (nextitem is not None and nextitem.parent is item.parent):
            return
        notebook = item.parent
        path = Path(str(notebook.fspath)).resolve()
        try:
            chapter = ROOT / path.relative_to(book.EXECUTED_NOTEBOOKS).with_suffix(".md")
        except ValueError:
            return
        n_code = sum(c.cell_type == "code" for c in notebook.nb.cells)
        name = str(chapter.relative_to(ROOT))
        if notebook.nodeid in self.failed or self.executed.get(notebook.nodeid) != set(range(n_code)):
            self.not_cached.append(name)
            return
        seconds = time.monotonic() - self.started[notebook.nodeid]
        _cache_executed(chapter, notebook.kernel, seconds)
        self.cached.append(f"{name} ({seconds:.1f} s)")

    def pytest_terminal_summary(self, terminalreporter):
        write = terminalreporter.write_line
        where = book.JUPYTER_CACHE.relative_to(ROOT)
        for name in self.cached:
            write(f"executed and cached in {where}: {name}")
        for name in self.not_cached:
            write(f"NOT cached (a cell failed, was skipped or deselected): {name}")


def _cache_executed(chapter: Path, kernel, seconds: float) -> None:
    """Merge the recorded outputs into the chapter as the build reads it, and cache that."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from nbval.plugin import coalesce_streams

    executor = kernel.executor
    executed = [c for c in executor.nb.cells if c.cell_type == "code"]
    nb = book.read_as_built(chapter)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if [c.source for c in code] != [c.source for c in executed]:
        raise RuntimeError(
            f"{chapter}: jupytext and myst-nb disagree on the code cells of this chapter "
            f"({len(executed)} vs {len(code)} cells); keep its cells in plain ```{{code-cell}} blocks"
        )
    for count, (cell, done) in enumerate(zip(code, executed), start=1):
        cell.execution_count = count
        cell.outputs = coalesce_streams(done.outputs)
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    executor.set_widgets_metadata()  # nbclient's own widget-state serialization
    if "widgets" in executor.nb.metadata:
        nb.metadata["widgets"] = executor.nb.metadata["widgets"]
    if kernel.language_info:
        nb.metadata["language_info"] = kernel.language_info
    bundle = CacheBundleIn(nb, str(chapter), data={"execution_seconds": seconds})
    get_cache(str(book.JUPYTER_CACHE)).cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
