"""Record what nbval executes, so the notebook tests are also the book's one execution.

nbval (`pytest --nbval-lax`) runs each chapter's cells on a kernel and fails a cell that raises.
This module watches that same execution through documented interfaces only:

- the kernel: nbval starts the kernel named by `--nbval-kernel-name`; ours (`KERNEL_NAME`, a
  kernelspec this module writes into a temporary JUPYTER_PATH) runs this file as its launcher,
  which moves into the chapter's own folder (book/, as the book build does), notes its connection
  file in a registry folder, and hands over to ipykernel;
- the messages: a second `jupyter_client.BlockingKernelClient` on that connection file subscribes
  to the kernel's IOPub channel, which broadcasts every output, display, status and comm message
  (the Jupyter messaging protocol); `execute_input` messages say which code ran, so each message is
  attributed to its notebook cell without knowing how nbval sent it;
- the outputs: nbclient's `NotebookClient.process_message`, the processor the book build itself
  uses, turns those messages into cell outputs and, with `set_widgets_metadata`, the ipywidgets
  state (Output widgets included);
- the cache: jupyter-cache's `CacheBundleIn` / `cache_notebook_bundle` store the chapter, as
  myst-nb reads it, with those outputs, where the book build (cache mode) finds it.

What remains version-sensitive is one nbclient attribute (`clear_before_next_output`, reset per
cell as nbclient itself does); requirements.txt pins nbval, nbclient, jupyter-client and
jupyter-cache, and tests/test_nbrecord.py runs this glue against a real kernel and nbclient.
"""

from __future__ import annotations

import copy
import json
import os
import queue
import sys
import threading
import time
from pathlib import Path

KERNEL_NAME = "lmcourse-chapter"
REGISTRY_ENV = "LMCOURSE_KERNEL_REGISTRY"


# --------------------------------------------------------------------------------------------
# The kernel launcher (this file run as a script by the kernelspec)


def install_kernelspec(jupyter_path: Path, registry: Path, chapter_dir_map: dict[str, str]) -> Path:
    """Write the kernelspec KERNEL_NAME under `jupyter_path`/kernels; put `jupyter_path` on
    JUPYTER_PATH so kernel managers started afterwards find it. `chapter_dir_map` maps a folder
    of executed notebooks to the folder its chapters live in (the kernel's working directory)."""
    spec = jupyter_path / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    registry.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(Path(__file__).resolve()), "-f", "{connection_file}"],
        "display_name": "Python 3 (lmcourse chapter, recorded)",
        "language": "python",
        "env": {REGISTRY_ENV: str(registry), "LMCOURSE_CHAPTER_DIRS": json.dumps(chapter_dir_map), "CI": "true"},
    }))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(jupyter_path), os.environ.get("JUPYTER_PATH")]))
    return spec


def _launch_kernel() -> None:
    connection_file = sys.argv[sys.argv.index("-f") + 1]
    cwd = Path.cwd().resolve()
    for executed, chapters in json.loads(os.environ.get("LMCOURSE_CHAPTER_DIRS", "{}")).items():
        try:
            os.chdir(Path(chapters) / cwd.relative_to(executed))  # run where the chapter lives
            break
        except ValueError:
            continue
    registry = Path(os.environ[REGISTRY_ENV])
    record = {"connection_file": str(Path(connection_file).resolve()), "pid": os.getpid(), "started": time.time()}
    tmp = registry / f".{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record))
    tmp.rename(registry / f"{os.getpid()}.json")  # whole or absent: the plugin never reads half a record
    sys.path.pop(0)  # this folder (tests/) is no place for a chapter's imports, as for ipykernel_launcher
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def newest_kernel(registry: Path, exclude: set[str] = frozenset()) -> str | None:
    """The connection file of the newest kernel in `registry` that is not in `exclude`, if any."""
    records = [json.loads(p.read_text()) for p in registry.glob("*.json")]
    records = [r for r in records if r["connection_file"] not in exclude]
    return max(records, key=lambda r: r["started"])["connection_file"] if records else None


# --------------------------------------------------------------------------------------------
# Listening and rebuilding the outputs


class IOPubRecorder:
    """Every IOPub message of one kernel, from the moment `start` returns."""

    def __init__(self, connection_file: str):
        from jupyter_client import BlockingKernelClient

        self.client = BlockingKernelClient()
        self.client.load_connection_file(connection_file)
        self.messages: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def start(self, timeout: float = 60) -> None:
        self.client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
        # a kernel_info round trip: once its reply is back, our IOPub subscription is live
        # (ZeroMQ drops what a subscriber misses while it is still connecting)
        self.client.wait_for_ready(timeout=timeout)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.put(self.client.get_iopub_msg(timeout=0.2))
            except queue.Empty:
                continue
            except Exception:  # the kernel went away: nothing more to hear
                return

    def drain_until_idle_after(self, msg_id: str, timeout: float = 30) -> list[dict]:
        """All messages received so far, waiting until the kernel reported idle for `msg_id`'s request."""
        got, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.messages.get(timeout=0.2)
            except queue.Empty:
                continue
            got.append(msg)
            if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                    and msg["parent_header"].get("msg_id") == msg_id):
                break
        while True:
            try:
                got.append(self.messages.get_nowait())
            except queue.Empty:
                return got

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.client.stop_channels()


def outputs_from_messages(nb, messages: list[dict], kernel_client=None):
    """A copy of `nb` whose code cells carry the outputs and execution counts that `messages` (IOPub,
    in order) report, plus widget state in its metadata. Returns (notebook, executed cell indices).

    An `execute_input` whose code is the next code cell's source starts that cell; every message
    whose parent is that request belongs to it. Executions of other code (a harness's own setup)
    are ignored, and so are their outputs."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete

    nb = copy.deepcopy(nb)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for i in code:
        nb.cells[i].outputs, nb.cells[i].execution_count = [], None
    client = NotebookClient(nb, record_timing=False)
    client.kc = kernel_client  # an Output widget's hooks answer through it
    cell_of: dict[str, int] = {}
    executed: list[int] = []
    for msg in messages:
        parent = msg["parent_header"].get("msg_id")
        if msg["msg_type"] == "execute_input" and len(executed) < len(code):
            index = code[len(executed)]
            if msg["content"]["code"].strip() == nb.cells[index].source.strip():
                cell_of[parent] = index
                executed.append(index)
                nb.cells[index].execution_count = msg["content"].get("execution_count")
                client.clear_before_next_output = False  # as nbclient does at the start of each cell
            continue
        if parent in cell_of:
            index = cell_of[parent]
            try:
                client.process_message(msg, nb.cells[index], index)
            except CellExecutionComplete:
                pass
    client.set_widgets_metadata()
    return nb, executed


if __name__ == "__main__":
    _launch_kernel()
