"""What the Triton compiler makes of a kernel: its IRs and PTX, produced without a GPU.

Triton compiles ahead of time for any target it knows: ``gpu_assembly`` lowers a kernel of this
package for, by default, an H100 (``sm_90``) and returns the text of each stage (Triton IR, the
GPU-specific Triton IR, LLVM IR, PTX). Nothing runs; on a CPU-only machine this is the only way to
look at the code a GPU would execute. The compile happens in a child Python process with
``TRITON_INTERPRET=0``: in a process where the interpreter is on, ``@triton.jit`` functions,
including Triton's own ``tl.max`` and ``tl.sum``, are interpreter objects the compiler cannot use.
Left out: loading or launching the binary (on a GPU, a launched kernel's ``.asm["ptx"]`` holds the
same text).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["gpu_assembly", "gpu_assemblies", "STAGES"]

STAGES = ("ttir", "ttgir", "llir", "ptx")
_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the lmcourse package


def gpu_assembly(kernel, signature: dict[str, str], constexprs: dict[str, int] | None = None, *,
                 arch: int = 90, num_warps: int = 4, aligned: bool = True) -> dict[str, str]:
    """Compile ``kernel`` for CUDA compute capability ``arch`` and return ``{stage: text}``.

    ``kernel`` is a module-level ``@triton.jit`` function; ``signature`` maps every argument to a
    Triton type (``"*fp32"`` for a pointer to float32, ``"i32"``, ``"fp32"``, or ``"constexpr"``);
    ``constexprs`` gives the constexpr values. ``aligned``: promise that pointers are 16-byte aligned
    and integer arguments multiples of 16, as Triton's launcher does when the actual values are
    (PyTorch's allocations always are); that promise is what lets the compiler emit 128-bit loads.
    """
    return gpu_assemblies({"kernel": (kernel, signature, constexprs)}, arch=arch, num_warps=num_warps,
                          aligned=aligned)["kernel"]


def gpu_assemblies(jobs: dict, *, arch: int = 90, num_warps: int = 4, aligned: bool = True,
                   timeout: float = 600.0) -> dict[str, dict[str, str]]:
    """``gpu_assembly`` for several kernels in one child process: ``{label: (kernel, signature, constexprs)}``."""
    from lmcourse.kernels._triton import AVAILABLE

    if not AVAILABLE:
        raise RuntimeError("gpu_assembly: Triton is not installed here (it installs on Linux); "
                           "compiling a kernel for a GPU needs Triton's compiler")
    if not isinstance(arch, int) or arch < 70:
        raise ValueError(f"arch={arch!r}; expected a CUDA compute capability such as 80 or 90 (>= 70)")
    requests = {label: _request(kernel, signature, constexprs or {}) for label, (kernel, signature, constexprs)
                in jobs.items()}
    options = dict(arch=arch, num_warps=num_warps, aligned=aligned)
    env = {**os.environ, "TRITON_INTERPRET": "0", "PYTHONPATH": os.pathsep.join(
        [str(_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-m", "lmcourse.kernels.assembly"],
                          input=json.dumps(dict(requests=requests, options=options)),
                          capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"compiling {sorted(jobs)} for sm_{arch} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def _request(kernel, signature: dict[str, str], constexprs: dict[str, int]) -> dict:
    fn = getattr(kernel, "fn", None)
    if fn is None or not callable(fn):
        raise TypeError(f"kernel must be a @triton.jit function, got {type(kernel).__name__}")
    params = list(kernel.arg_names)
    if set(signature) != set(params):
        raise ValueError(f"signature names {sorted(signature)}; the kernel's arguments are {params}")
    missing = [name for name, ty in signature.items() if ty == "constexpr" and name not in constexprs]
    if missing:
        raise ValueError(f"constexprs lacks values for {missing}")
    return dict(module=fn.__module__, name=fn.__name__, signature=signature, constexprs=dict(constexprs))


def _compile(request: dict, arch: int, num_warps: int, aligned: bool) -> dict[str, str]:
    """The child's side: import the kernel un-interpreted and run Triton's compiler on it."""
    import importlib
    import warnings

    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    kernel = getattr(importlib.import_module(request["module"]), request["name"])
    params, signature = list(kernel.arg_names), request["signature"]
    hints = {(params.index(name),): [["tt.divisibility", 16]] for name, ty in signature.items()
             if aligned and (ty.startswith("*") or ty in ("i32", "i64"))}
    source = ASTSource(fn=kernel, signature=signature, constexprs=request["constexprs"], attrs=hints)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Triton 3.9's notice about its FP-fusion default
        compiled = triton.compile(source, target=GPUTarget("cuda", arch, 32),
                                  options={"num_warps": num_warps})
    return {stage: compiled.asm[stage] for stage in STAGES}


if __name__ == "__main__":
    job = json.loads(sys.stdin.read())
    json.dump({label: _compile(request, **job["options"]) for label, request in job["requests"].items()}, sys.stdout)
