"""Shared pytest setup, and the plugin that turns the notebook tests into the book's execution.

The notebook phase of .ci/test runs

    python -m pytest -p tests.conftest --nbval-lax --nbval-cell-timeout=T _build/notebooks

on the jupytext conversions of the chapters (`.ci/book.py notebooks`). nbval executes each
notebook once, cell by cell, and fails a cell that raises. This plugin (`ChapterRecorder`, with
`tests/nbrecord.py`) listens to the same execution through documented interfaces:

- nbval runs the chapters on our kernelspec (`--nbval-kernel-name`, set here), whose launcher starts
  ipykernel in the chapter's own folder (book/, as the book build does) with CI=true;
- a second kernel client hears the kernel's IOPub broadcast, and nbclient's message processor (the
  one the book build uses) turns it into outputs and ipywidgets state;
- when every cell of a notebook passed, the outputs are put into the chapter as myst-nb reads
  it and stored in the jupyter-cache at _build/.jupyter_cache (`lmcourse_book.JUPYTER_CACHE`),
  with the widget state in the notebook metadata (`widgets`).

The book build then runs in `cache` mode and finds every chapter there, so it executes nothing
(`.ci/book.py build --require-cached` checks that against jupyter-cache's records), and the
rendered-book test looks at the same execution. Outside `--nbval`/`--nbval-lax` runs the plugin
does nothing.
"""

from __future__ import annotations

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
    import tempfile

    from tests import nbrecord

    if config.option.nbval_current_env:
        raise pytest.UsageError("with -p tests.conftest, leave out --nbval-current-env: the plugin runs the "
                                f"chapters on its own kernel ({nbrecord.KERNEL_NAME}, this Python)")
    os.environ["CI"] = "true"  # quiet progress bars in every kernel
    where = Path(tempfile.mkdtemp(prefix="lmcourse-nbval-"))
    nbrecord.install_kernelspec(where / "jupyter", where / "registry",
                                {str(book.EXECUTED_NOTEBOOKS): str(ROOT)})
    config.option.nbval_kernel_name = config.option.nbval_kernel_name or nbrecord.KERNEL_NAME
    config.pluginmanager.register(ChapterRecorder(where / "registry"), "lmcourse-chapter-recorder")


class ChapterRecorder:
    """Listens to each notebook's kernel while nbval runs it (`tests.nbrecord`); when every cell of
    a chapter passed, caches the chapter with the outputs it heard."""

    def __init__(self, registry: Path):
        self.registry = registry
        self.listening: dict[str, tuple] = {}  # notebook path -> (IOPubRecorder, start time)
        self.heard: set[str] = set()  # connection files of kernels already listened to
        self.failed: set[str] = set()  # notebook paths with a failed or skipped cell
        self.cached: list[str] = []
        self.not_cached: list[str] = []

    @staticmethod
    def _notebook(item) -> str | None:
        path = str(item.fspath)
        return path if path.endswith(".ipynb") else None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        notebook = self._notebook(item)
        if notebook is not None and notebook not in self.listening:
            from tests import nbrecord

            # nbval started this notebook's kernel in its setup, just before the first cell
            connection = nbrecord.newest_kernel(self.registry, exclude=self.heard)
            if connection is None:
                raise RuntimeError(f"{notebook}: nbval did not start the {nbrecord.KERNEL_NAME} kernel")
            self.heard.add(connection)
            recorder = nbrecord.IOPubRecorder(connection)
            recorder.start()
            self.listening[notebook] = (recorder, time.monotonic())
        yield

    def pytest_runtest_logreport(self, report):
        if report.failed or report.skipped:
            self.failed.add(report.nodeid.split("::")[0])

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item, nextitem):
        """After a notebook's last cell, while its kernel still runs, cache it if all passed."""
        notebook = self._notebook(item)
        if notebook is None or (nextitem is not None and self._notebook(nextitem) == notebook):
            return
        if notebook not in self.listening:
            return
        recorder, started = self.listening.pop(notebook)
        try:
            self._cache(item, notebook, recorder, time.monotonic() - started)
        finally:
            recorder.stop()

    def _cache(self, item, notebook: str, recorder, seconds: float) -> None:
        import nbformat

        from tests import nbrecord

        path = Path(notebook).resolve()
        try:
            chapter = ROOT / path.relative_to(book.EXECUTED_NOTEBOOKS).with_suffix(".md")
        except ValueError:
            return
        name = str(chapter.relative_to(ROOT))
        if item.nodeid.split("::")[0] in self.failed:
            self.not_cached.append(f"{name} (a cell failed or was skipped)")
            return
        # one last round trip on our own channel: everything nbval's cells printed is in by its idle
        msg_id = recorder.client.kernel_info()
        messages = recorder.drain_until_idle_after(msg_id)
        nb = nbformat.read(path, as_version=4)
        recorded, executed = nbrecord.outputs_from_messages(nb, messages, recorder.client)
        n_code = sum(c.cell_type == "code" for c in nb.cells)
        if len(executed) != n_code:
            self.not_cached.append(f"{name} (heard {len(executed)} of {n_code} code cells)")
            return
        _cache_executed(chapter, recorded, seconds)
        self.cached.append(f"{name} ({seconds:.1f} s)")

    def pytest_terminal_summary(self, terminalreporter):
        write = terminalreporter.write_line
        where = book.JUPYTER_CACHE.relative_to(ROOT)
        for name in self.cached:
            write(f"executed and cached in {where}: {name}")
        for name in self.not_cached:
            write(f"NOT cached: {name}")


def _cache_executed(chapter: Path, recorded, seconds: float) -> None:
    """Put the recorded outputs into the chapter as the book build reads it (myst-nb's reader), and
    cache that with jupyter-cache's public API."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    executed = [c for c in recorded.cells if c.cell_type == "code"]
    nb = book.read_as_built(chapter)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if [c.source for c in code] != [c.source for c in executed]:
        raise RuntimeError(
            f"{chapter}: jupytext and myst-nb disagree on the code cells of this chapter "
            f"({len(executed)} vs {len(code)} cells); keep its cells in plain ```{{code-cell}} blocks"
        )
    for cell, done in zip(code, executed):
        cell.execution_count, cell.outputs = done.execution_count, done.outputs
    if "widgets" in recorded.metadata:
        nb.metadata["widgets"] = recorded.metadata["widgets"]
    nb.metadata["language_info"] = {"name": "python", "version": ".".join(map(str, sys.version_info[:3]))}
    bundle = CacheBundleIn(nb, str(chapter), data={"execution_seconds": seconds})
    get_cache(str(book.JUPYTER_CACHE)).cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
