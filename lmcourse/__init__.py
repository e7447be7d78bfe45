"""lmcourse: every component of the course, implemented for real and small enough to read.

Subpackages follow the parts of the course: `tokenizer`, `nn` (the Transformer LM and MoE), `train`,
`accounting` (parameters, FLOPs, memory; no torch), `data` (corpora, web extraction, filters, dedup),
`kernels` (Triton), `parallel` (torch.distributed), `scaling`, `inference`, `eval`, `align` and `widgets`.
`config.TransformerConfig` is the one description of a model that `nn`, `accounting` and `train` share.
This top-level module only holds what every chapter needs: the device choice, quiet progress bars and
`show` (the package's own code as a cell output, see `source`);
`timing` (honest timing, measured ceilings) and `files` (atomic writes) are shared by several parts.
"""

from __future__ import annotations

import os

from lmcourse.source import show

__version__ = "0.1.0"

__all__ = ["device", "progress", "show", "__version__"]


def device(prefer: str | None = None):
    """The torch device a chapter should use: cuda, then mps, then cpu.

    `prefer` (or the LMCOURSE_DEVICE environment variable) forces one, e.g. "cpu" to compare.
    """
    import torch

    choice = prefer or os.environ.get("LMCOURSE_DEVICE")
    if choice is not None:
        if choice not in ("cuda", "mps", "cpu"):
            raise ValueError(f"device: prefer={choice!r}; expected 'cuda', 'mps' or 'cpu'")
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def progress(iterable=None, **kwargs):
    """A `tqdm.auto` progress bar that stays quiet in CI (CI=true) and when LMCOURSE_QUIET is set."""
    from tqdm.auto import tqdm

    quiet = bool(os.environ.get("CI")) or bool(os.environ.get("LMCOURSE_QUIET"))
    kwargs["disable"] = bool(kwargs.get("disable")) or quiet
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)

