"""Writing files safely: the one helper every module that writes (corpora, tokenizer files,
checkpoints, token files, dedup output) goes through, so no reader ever finds half a file, and a
power cut never leaves an empty file where a good one was.

Covers: write to a temporary file next to the target, fsync it, rename it over the target, fsync the
directory. Leaves out: locking against two writers (the last rename wins, each file whole).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["atomic_write", "fsync_directory"]


def fsync_directory(directory) -> None:
    """Flush `directory`'s entries (a rename in it) to disk. A no-op where directories cannot be opened
    (Windows), whose rename is already as durable as the filesystem makes it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows refuses to open a directory; nothing to flush there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **open_kwargs):
    """`open(path, mode)` for writing ("w" or "wb"), except that the data goes to a temporary file next to
    `path`, renamed over it only when the block ends without error. On any error (KeyboardInterrupt
    included) the temporary file is deleted, so `path` is either the old file or the complete new one.

    Durable too: the data is fsync'd before the rename and the directory after it. Without the first,
    a filesystem may commit the rename before the data (ext4's delayed allocation did), and a power cut
    leaves an empty file under the old name; without the second, the rename itself may be lost.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode={mode!r}; expected 'w' or 'wb'")
    path = Path(path)
    # Same directory: the rename stays on one filesystem, so it is atomic. A plain open("x") rather than
    # tempfile.mkstemp, so the file gets the usual permissions (mkstemp's are owner-only).
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, mode.replace("w", "x"), **open_kwargs) as f:
            yield f
            f.flush()  # Python's buffer -> the OS, then the OS's cache -> the disk
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
