"""The notebook-test glue (tests/nbrecord.py) on a real kernel: the kernelspec launcher starts in the
chapter's folder and registers itself; a second client hears IOPub; the outputs and widget state
rebuilt from what it heard equal what nbclient records when it executes the same notebook itself."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests import nbrecord

pytestmark = pytest.mark.slow  # two kernels

CELLS = [
    "import os\nprint('hello', os.getcwd())",
    "from IPython.display import Markdown, display\ndisplay(Markdown('**bold**'))\n6 * 7",
    "import ipywidgets as w\nslider = w.IntSlider(value=3, description='n')\nslider",
    "out = w.Output()\nwith out:\n    print('inside the output widget')\nout",
    "import sys\nprint('to stderr', file=sys.stderr)\nprint('to stdout')",
]


def _notebook():
    return new_notebook(cells=[new_markdown_cell("# A chapter")] + [new_code_cell(c) for c in CELLS],
                        metadata={"kernelspec": {"name": nbrecord.KERNEL_NAME, "display_name": "x", "language": "python"}})


def _summary(nb):
    """What a reader sees, without ids that differ from run to run."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.outputs:
            data = out.get("data", {})
            text = out.get("text") or data.get("text/markdown") or data.get("text/plain", "")
            if "application/vnd.jupyter.widget-view+json" in data:
                text = "widget view"
            outputs.append((out.output_type, out.get("name"), text.replace(str(nbrecord.__file__), "")))
        cells.append(outputs)
    widgets = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return cells, sorted(m["model_name"] for m in widgets.values())


def test_recorded_execution_equals_nbclient_execution(tmp_path):
    from jupyter_client import KernelManager
    from nbclient import NotebookClient

    executed_dir, chapter_dir = tmp_path / "executed" / "book", tmp_path / "chapters" / "book"
    executed_dir.mkdir(parents=True)
    chapter_dir.mkdir(parents=True)
    nbrecord.install_kernelspec(tmp_path / "jupyter", tmp_path / "registry",
                                {str(tmp_path / "executed"): str(tmp_path / "chapters")})

    # what a harness like nbval does: start the named kernel in the notebook's folder, run each cell
    km = KernelManager(kernel_name=nbrecord.KERNEL_NAME)
    km.start_kernel(cwd=str(executed_dir))
    harness = km.client()
    harness.start_channels()
    try:
        harness.wait_for_ready(timeout=60)
        connection = nbrecord.newest_kernel(tmp_path / "registry")
        assert connection == km.connection_file
        recorder = nbrecord.IOPubRecorder(connection)
        recorder.start()
        harness.execute_interactive("x = 'harness setup, not a cell'", timeout=30)  # ignored
        for code in CELLS:
            reply = harness.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok"
        messages = recorder.drain_until_idle_after(recorder.client.kernel_info())
        recorded, executed = nbrecord.outputs_from_messages(_notebook(), messages, recorder.client)
        recorder.stop()
    finally:
        harness.stop_channels()
        km.shutdown_kernel(now=True)

    assert executed == [1, 2, 3, 4, 5]
    cells, widgets = _summary(recorded)
    assert cells[0] == [("stream", "stdout", f"hello {chapter_dir}\n")]  # ran in the chapter's folder
    assert ("execute_result", None, "42") in cells[1] and ("display_data", None, "**bold**") in cells[1]
    assert "inside the output widget" not in json.dumps(cells[3])  # it went into the widget's state
    assert "inside the output widget" in json.dumps(recorded.metadata["widgets"])

    reference = _notebook()
    NotebookClient(reference, kernel_name=nbrecord.KERNEL_NAME, timeout=60,
                   resources={"metadata": {"path": str(executed_dir)}}).execute()
    assert (cells, widgets) == _summary(reference)
    nbformat.validate(recorded)
