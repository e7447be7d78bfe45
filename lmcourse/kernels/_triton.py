"""The one place where the package imports Triton, and the input checks every kernel shares.

Without a CUDA device, Triton kernels can still run through Triton's *interpreter*, which executes
each program instance with NumPy on the CPU: slow, but exact enough to test the kernels. Triton 3.x
reads ``TRITON_INTERPRET`` whenever a function is decorated with ``@triton.jit``, and Triton's own
library functions (``tl.max``, ``tl.sum``, ``tl.cdiv``, ...) are decorated at ``import triton``.
So the variable must be set before the *first* ``import triton`` of the process: a kernel
interpreted on top of a compiled-mode ``tl.max`` fails inside the launch. Every Triton module of
``lmcourse.kernels`` does ``from lmcourse.kernels._triton import triton, tl`` first, which sets it
when CUDA is unavailable; if Triton was already imported without it, ``check_tensor(...,
device="triton")`` (called before every launch) raises a ``RuntimeError`` that says what to do.
A user who sets ``TRITON_INTERPRET`` themselves keeps their choice (``setdefault``).

``check_tensor`` validates a kernel's inputs (type, dtype, number of dimensions, device,
contiguity) so that bad input fails with a clear ``TypeError``/``ValueError`` before any launch.
Where Triton is not installed (it ships wheels for Linux only), importing the package prints one
line and each Triton entry point runs its PyTorch reference instead (`falls_back_to`); a raw
kernel launch or `gpu_assembly` says that Triton is missing. Left out: autotuning and GPU capability checks (the kernels pick fixed, documented block sizes).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

__all__ = ["triton", "tl", "AVAILABLE", "INTERPRETED", "check_tensor", "falls_back_to", "launch_device_ok",
           "num_warps_for"]

try:
    import triton  # noqa: E402  (must follow the environment choice above)
    import triton.language as tl  # noqa: E402
    from triton.runtime.interpreter import InterpretedFunction  # noqa: E402
except ImportError:  # Triton ships wheels for Linux only: macOS and Windows readers run the references
    AVAILABLE = False
else:
    AVAILABLE = True

if AVAILABLE:
    # True when kernels run on the CPU through the interpreter rather than compiled for a GPU.
    INTERPRETED: bool = bool(triton.knobs.runtime.interpret)
    # Whether Triton's library functions match that mode (see the module docstring).
    _LIBRARY_MATCHES = isinstance(tl.max, InterpretedFunction) == INTERPRETED
else:
    INTERPRETED, _LIBRARY_MATCHES = False, True

    class _Kernel:
        """What `@triton.jit` gives without Triton: the Python function (`.fn`, so the book can
        still show a kernel's source), and a launch that says why it cannot run."""

        def __init__(self, fn):
            self.fn = fn

        def __getitem__(self, grid):
            raise RuntimeError(f"{self.fn.__name__}: Triton is not installed, so its kernels cannot run here")

    class _NoTriton:
        jit = _Kernel

        @staticmethod
        def cdiv(a, b):
            return -(-a // b)

    class _NoTritonLanguage:
        @staticmethod
        def constexpr(value=None):
            return value

    triton, tl = _NoTriton(), _NoTritonLanguage()
    print("lmcourse.kernels: Triton is not installed (it installs on Linux); "
          "the *_triton functions run their PyTorch references instead.")


def falls_back_to(reference):
    """Decorate a Triton entry point (function or autograd Function) so that, where Triton is not
    installed, `reference` runs in its place: the same arguments, the same numbers up to rounding."""

    def decorate(entry):
        if AVAILABLE:
            return entry
        if isinstance(entry, type):  # keep the name, run the reference's forward and backward
            return type(entry.__name__, (reference,), {"__doc__": entry.__doc__, "__module__": entry.__module__,
                                                       "__qualname__": entry.__qualname__})

        @functools.wraps(entry)
        def fallback(*args, **kwargs):
            return reference(*args, **kwargs)

        return fallback

    return decorate


def num_warps_for(block: int) -> int:
    """Warps for a program that holds ``block`` elements of a row: at most 32 elements per thread, so
    wide rows do not spill registers (as in Triton's fused-softmax tutorial)."""
    return 4 if block <= 1024 else 8 if block <= 4096 else 16


def launch_device_ok(device: torch.device) -> bool:
    """Whether a Triton kernel can run on tensors that live on ``device`` in this process."""
    if device.type == "cuda":
        return not INTERPRETED or torch.cuda.is_available()
    return device.type == "cpu" and INTERPRETED


def check_tensor(
    name: str,
    t: object,
    *,
    dtypes: Iterable[torch.dtype] | None = None,
    ndim: int | Iterable[int] | None = None,
    device: torch.device | str | None = None,
    contiguous: bool = False,
) -> torch.Tensor:
    """Validate argument ``name`` and return it; raise a message naming the argument otherwise.

    ``dtypes``: allowed dtypes; ``ndim``: allowed number(s) of dimensions; ``device``: the device
    it must be on (e.g. the device of another argument), or ``"triton"`` for "somewhere a Triton
    kernel can run in this process" (a CUDA device, or the CPU under the interpreter);
    ``contiguous``: require a contiguous layout (the kernels compute addresses from strides of
    the last dimension being 1).
    """
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if dtypes is not None:
        allowed = tuple(dtypes)
        if t.dtype not in allowed:
            names = ", ".join(str(d).removeprefix("torch.") for d in allowed)
            raise TypeError(f"{name} has dtype {t.dtype}; expected one of: {names}")
    if ndim is not None:
        allowed_ndim = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if t.dim() not in allowed_ndim:
            raise ValueError(
                f"{name} has {t.dim()} dimensions (shape {tuple(t.shape)}); "
                f"expected {' or '.join(map(str, allowed_ndim))}"
            )
    if device == "triton":
        if not _LIBRARY_MATCHES:
            raise RuntimeError(
                f"{name}: cannot launch a Triton kernel: triton was imported before lmcourse.kernels in a "
                f"different mode (its tl.max etc. are {'compiled' if INTERPRETED else 'interpreted'}, the kernels "
                f"{'interpreted' if INTERPRETED else 'compiled'}); set TRITON_INTERPRET=1 before the first "
                "`import triton` on a machine without CUDA, or import lmcourse.kernels first"
            )
        if not launch_device_ok(t.device):
            where = "a CUDA device" if not INTERPRETED else "the CPU (Triton interpreter) or CUDA"
            raise ValueError(f"{name} is on {t.device}; Triton kernels here need {where}")
    elif device is not None and t.device != torch.device(device):
        raise ValueError(f"{name} is on {t.device}; expected {torch.device(device)}")
    if contiguous and not t.is_contiguous():
        raise ValueError(f"{name} must be contiguous (call .contiguous() first)")
    if t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)}); expected at least one element")
    return t
