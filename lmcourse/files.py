"""Writing files safely: the one helper every module that writes (corpora, tokenizer files,
checkpoints, dedup output) goes through, so no reader ever finds half a file."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **open_kwargs):
    """`open(path, mode)` for writing ("w" or "wb"), except that the data goes to a temporary file next to
    `path`, renamed over it only when the block ends without error. On any error (KeyboardInterrupt
    included) the temporary file is deleted, so `path` is either the old file or the complete new one.
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
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
