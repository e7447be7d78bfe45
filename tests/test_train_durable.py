"""Durable writes (lmcourse.files): data fsync'd before the rename, the directory after, for every
writer the training path uses (checkpoints, token files, the manifest), and nothing half-written on error."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import torch

from lmcourse.files import atomic_write
from lmcourse.train import save_checkpoint, save_tokens


@pytest.fixture
def events(monkeypatch):
    """Every fsync (of a 'file' or a 'dir') and every rename, in order, still done for real."""
    log = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        log.append(("fsync", "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        real_fsync(fd)

    def replace(src, dst):
        log.append(("replace", os.path.basename(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return log


@pytest.mark.parametrize("write", [
    lambda path: _write_text(path),
    lambda path: save_tokens(np.arange(10), path),
    lambda path: save_checkpoint(torch.nn.Linear(2, 2), None, 0, path),
], ids=["atomic_write", "save_tokens", "save_checkpoint"])
def test_data_is_synced_before_the_rename_and_the_directory_after(tmp_path, events, write):
    write(tmp_path / "out")
    assert events == [("fsync", "file"), ("replace", "out"), ("fsync", "dir")]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary left behind


def _write_text(path):
    with atomic_write(path) as f:
        f.write("complete")


def test_a_failed_fsync_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "ckpt.pt"
    target.write_text("the good old one")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        with atomic_write(target) as f:
            f.write("the new one, never on disk")
    assert target.read_text() == "the good old one"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]
