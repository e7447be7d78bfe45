"""Checkpoints: everything needed to stop training and later continue it exactly where it stopped.

A checkpoint holds the model's and the optimizer's state_dicts, the iteration, the model's
`TransformerConfig` (as a dict), the random number generators' states (torch CPU, CUDA when present,
and the numpy Generator that draws the batches) and anything extra the caller passes. Resuming
from it continues bit for bit like a run that never stopped (tests/test_train.py checks this).

Safety: files are read with `torch.load(weights_only=True)`, which unpickles only tensors and plain
Python containers and numbers, never arbitrary objects, so opening a checkpoint someone sent you cannot
run their code. Everything saved here is such plain data (the config as a dict, RNG states as tensors
and dicts), so no allowlist is needed. Loading checks the file's checksums and then that it fits
(config, parameter names and shapes, optimizer type) before changing the model or the optimizer, so a
wrong or damaged file leaves them as they were; files are written through `atomic_write`, so a crash
mid-save leaves the old one.

Leaves out: per-rank checkpoint files (sharded training gathers one full file instead), safetensors,
keeping the last k checkpoints, async saving.
"""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import torch

from lmcourse.files import atomic_write

__all__ = ["save_checkpoint", "read_checkpoint", "load_checkpoint", "rng_state", "restore_rng_state"]

FORMAT_VERSION = 1
_KEYS = ("format_version", "iteration", "model", "optimizer", "optimizer_class", "config", "rng", "extra")


def rng_state(generator: np.random.Generator | None = None) -> dict:
    """The state of torch's CPU (and CUDA) generators and, if given, of a numpy Generator."""
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        state["numpy"] = generator.bit_generator.state
    return state


def restore_rng_state(state: dict, generator: np.random.Generator | None = None) -> None:
    """Put back what `rng_state` recorded (the numpy part into `generator`, when both exist)."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if generator is not None and "numpy" in state:
        generator.bit_generator.state = state["numpy"]


def save_checkpoint(model: torch.nn.Module, optimizer: torch.optim.Optimizer | None, iteration: int, out,
                    *, generator: np.random.Generator | None = None, model_state: dict | None = None,
                    optimizer_state: dict | None = None, **extra) -> None:
    """Save model, optimizer, `iteration` and RNG states to `out` (a path, written atomically, or a binary file).

    `generator`: the numpy Generator drawing the batches, saved so a resumed run draws the same ones.
    `model_state` / `optimizer_state`: the state_dicts to save instead of the objects' own, when those
    hold only one rank's shard (sharded training gathers the full ones; `lmcourse.train.distributed`).
    `extra`: more plain data to keep (e.g. the training config as a dict, the loss history).
    """
    if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
        raise ValueError(f"save_checkpoint: iteration={iteration!r}; expected an int >= 0")
    config = getattr(model, "config", None)
    checkpoint = {
        "format_version": FORMAT_VERSION,
        "iteration": iteration,
        "model": model.state_dict() if model_state is None else model_state,
        "optimizer": None if optimizer is None else optimizer.state_dict() if optimizer_state is None else optimizer_state,
        "optimizer_class": None if optimizer is None else type(optimizer).__name__,
        "config": config.to_dict() if hasattr(config, "to_dict") else None,
        "rng": rng_state(generator),
        "extra": extra,
    }
    if isinstance(out, (str, os.PathLike)):
        with atomic_write(out, "wb") as f:
            torch.save(checkpoint, f)
    else:
        torch.save(checkpoint, out)


def read_checkpoint(src) -> dict:
    """Read a checkpoint (path or binary file) onto the CPU without applying it; check that it is one."""
    name = os.fspath(src) if isinstance(src, (str, os.PathLike)) else repr(src)
    if isinstance(src, (str, os.PathLike)) and not os.path.isfile(src):
        raise FileNotFoundError(f"checkpoint {name} does not exist")
    # torch.save writes a zip archive with a CRC-32 per record, which torch.load does not check:
    # testzip() does (about 1 GB/s), so a cut-off file or a flipped bit is caught before unpickling.
    start = None if isinstance(src, (str, os.PathLike)) else src.tell()
    try:
        with zipfile.ZipFile(src) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        damaged = f"{type(e).__name__}: {e}"
    if start is not None:
        src.seek(start)
    if damaged is not None:
        raise ValueError(f"checkpoint {name} is truncated or corrupt (bad zip archive: {damaged})")
    try:
        checkpoint = torch.load(src, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "Weights only load failed" in str(e):  # a real pickle, but of objects we refuse to rebuild
            raise ValueError(f"checkpoint {name} holds objects other than tensors and plain Python data; "
                             "lmcourse checkpoints never do, and loading it could run arbitrary code") from None
        raise ValueError(f"checkpoint {name} is truncated or corrupt ({e})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        # What torch raises for a damaged archive (e.g. a flipped byte in a record it needs).
        raise ValueError(f"checkpoint {name} is truncated or corrupt ({type(e).__name__}: {e})") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format_version") is None:
        raise ValueError(f"checkpoint {name} is not an lmcourse checkpoint (no format_version); "
                         "a bare state_dict can be loaded with model.load_state_dict(torch.load(...))")
    if checkpoint["format_version"] != FORMAT_VERSION or set(checkpoint) != set(_KEYS):
        raise ValueError(f"checkpoint {name} has format version {checkpoint['format_version']} with keys "
                         f"{sorted(checkpoint)}; this lmcourse reads version {FORMAT_VERSION} with {list(_KEYS)}")
    return checkpoint


def load_checkpoint(src, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None) -> int:
    """Load a checkpoint into `model` (and `optimizer`) and return the iteration it was saved at.

    `src` is a path, a binary file, or a dict from `read_checkpoint` (to read the RNG states and extras
    too without reading the file twice). Raises ValueError, leaving model and optimizer untouched, if the
    file is damaged or does not fit them. RNG states are not restored here: see `restore_rng_state`.
    """
    checkpoint = src if isinstance(src, dict) else read_checkpoint(src)
    _check_config(checkpoint["config"], getattr(model, "config", None))
    _check_state_dict(checkpoint["model"], model.state_dict())
    if optimizer is not None:
        _check_optimizer(checkpoint, optimizer)
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["iteration"]


def _check_config(saved: dict | None, config) -> None:
    if saved is None or not hasattr(config, "to_dict"):
        return
    current = config.to_dict()
    differ = [f"{k}: checkpoint {saved.get(k)!r}, model {current.get(k)!r}"
              for k in sorted(set(saved) | set(current)) if saved.get(k) != current.get(k)]
    if differ:
        raise ValueError("checkpoint was saved from a model with a different config: " + "; ".join(differ))


def _check_state_dict(saved: dict, current: dict) -> None:
    missing = [k for k in current if k not in saved]
    unexpected = [k for k in saved if k not in current]
    if missing or unexpected:
        raise ValueError(f"checkpoint parameters do not match the model: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]} ({len(missing)} missing, {len(unexpected)} unexpected)")
    shapes = [f"{k}: checkpoint {tuple(saved[k].shape)}, model {tuple(v.shape)}"
              for k, v in current.items() if saved[k].shape != v.shape]
    if shapes:
        raise ValueError(f"checkpoint parameter shapes do not match the model ({len(shapes)} differ): "
                         + "; ".join(shapes[:5]))


def _check_optimizer(checkpoint: dict, optimizer: torch.optim.Optimizer) -> None:
    saved, kind = checkpoint["optimizer"], checkpoint["optimizer_class"]
    if saved is None:
        raise ValueError("checkpoint has no optimizer state; call load_checkpoint without an optimizer")
    if kind != type(optimizer).__name__:
        raise ValueError(f"checkpoint optimizer is {kind}, but the optimizer given is {type(optimizer).__name__}")
    saved_sizes = [len(g["params"]) for g in saved["param_groups"]]
    sizes = [len(g["params"]) for g in optimizer.param_groups]
    if saved_sizes != sizes:
        raise ValueError(f"checkpoint optimizer has parameter groups of sizes {saved_sizes}, "
                         f"the optimizer given {sizes}")
