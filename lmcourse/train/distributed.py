"""One process or many: what the training loop needs to know about the other ranks, and nothing more.

Under `torchrun` every process reads its rank from the environment (RANK, WORLD_SIZE, LOCAL_RANK);
`init_distributed()` joins the process group (NCCL on CUDA, gloo on CPU) and picks the device.

The loop talks to the ranks through a strategy object. `SingleProcess` is the one-process case and
the base of every data-parallel strategy in `lmcourse.parallel.strategies` (DDP, ZeRO 1/2, FSDP),
which override a few of its methods:

- `module`: what to call forward on; `optimizer`: what to step; `finish_backward()`: after backward;
- `step(max_norm, want_norm)`: clip by the global gradient norm, then step. The clip runs in a
  step pre-hook of the optimizer that does the update (`base_optimizer`), because a ZeRO optimizer
  reduces the gradients inside its own `step`: only there are they the batch's averaged gradients.
  With sharded gradients each rank holds a disjoint piece, so the squared norms are summed across ranks;
- `all_mean(x)`: the average over the ranks (of a loss, for the log);
- `full_state()` / `load_optimizer_state(state)`: the model's and the optimizer's state in the
  single-process form (AdamW's per-parameter m and v), gathered from the shards and cut back into
  them, so a checkpoint written by N ranks resumes on M ranks, or on one.

Leaves out: tensor and pipeline parallelism (`lmcourse.parallel` has them for the chapters, not the
CLI), gradient accumulation, and elastic restarts (torchrun restarts the job; the checkpoint resumes it).
"""

from __future__ import annotations

import datetime
import os

import torch
import torch.distributed as dist

from lmcourse.train.optim import clip_grad_norm, grad_norm

__all__ = ["Topology", "read_topology", "init_distributed", "SingleProcess"]


class Topology:
    """Where this process sits: rank, world_size and local_rank (its index on this machine)."""

    def __init__(self, rank: int = 0, world_size: int = 1, local_rank: int = 0):
        if not 0 <= rank < world_size or not 0 <= local_rank <= rank:
            raise ValueError(f"Topology: rank={rank}, world_size={world_size}, local_rank={local_rank}; "
                             "expected 0 <= local_rank <= rank < world_size")
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that logs, writes files and prints samples."""
        return self.rank == 0

    def __repr__(self) -> str:
        return f"Topology(rank={self.rank}, world_size={self.world_size}, local_rank={self.local_rank})"


def read_topology(environ=None) -> Topology:
    """The Topology torchrun describes in RANK / WORLD_SIZE / LOCAL_RANK; one process when they are unset."""
    environ = os.environ if environ is None else environ
    values = {}
    for name, default in (("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", environ.get("RANK", "0"))):
        raw = environ.get(name, default)
        try:
            values[name] = int(raw)
        except ValueError:
            raise ValueError(f"environment variable {name}={raw!r}; expected an integer (torchrun sets it)") from None
    return Topology(values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"])


def init_distributed(topology: Topology, device: torch.device, timeout_s: float = 300.0) -> torch.device:
    """Join the process group of `topology` (nothing to join for one process); returns this rank's device.

    NCCL when `device` is CUDA (each rank on GPU local_rank), gloo otherwise. `timeout_s` bounds every
    collective: a rank that stops answering (killed, hung) makes the others fail after it instead of
    waiting forever. torchrun's agent usually notices a dead rank first and stops the rest.
    """
    if topology.world_size == 1:
        return device
    if device.type == "cuda":
        if topology.local_rank >= torch.cuda.device_count():
            raise ValueError(f"local_rank {topology.local_rank} but this machine has {torch.cuda.device_count()} "
                             "GPU(s); pass --nproc_per_node at most the number of GPUs")
        device = torch.device("cuda", topology.local_rank)
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise ValueError(f"device {device}: multi-process training runs on CUDA (NCCL) or CPU (gloo)")
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, rank=topology.rank, world_size=topology.world_size,
                            timeout=datetime.timedelta(seconds=timeout_s))
    return device


class SingleProcess:
    """The strategy of one process: the model as is, one optimizer, nothing to exchange (see the module docstring)."""

    name = "none"
    sharded = False  # True when each rank holds only a piece of the gradients (their norm needs a sum)

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer):
        self.model, self.module, self.optimizer = model, model, optimizer
        self.rank, self.world_size = 0, 1
        self._want: tuple[float | None, bool] = (None, False)
        self._norm: torch.Tensor | None = None

    @property
    def base_optimizer(self) -> torch.optim.Optimizer:
        """The optimizer that updates the tensors this rank owns (a ZeRO optimizer's local one)."""
        return self.optimizer

    def finish_backward(self) -> None:
        """Called after every backward: whatever completes the gradients' exchange."""

    def step(self, max_norm: float | None = None, want_norm: bool = False) -> torch.Tensor | None:
        """Clip the gradients to a global L2 norm of `max_norm` (None: no clipping), then take the optimizer
        step. Returns the norm before clipping, when clipping or `want_norm`; None otherwise."""
        self._want, self._norm = (max_norm, want_norm or max_norm is not None), None
        # Registered for this step only, so an optimizer the caller reuses afterwards carries no hook.
        handle = self.base_optimizer.register_step_pre_hook(self._before_update)
        try:
            self.optimizer.step()
        finally:
            handle.remove()
        return self._norm

    def _before_update(self, optimizer, args, kwargs) -> None:
        max_norm, wanted = self._want
        if not wanted:
            return
        params = [p for group in optimizer.param_groups for p in group["params"]]
        total = grad_norm(params)
        if self.sharded:  # each rank holds a disjoint piece: the global norm is the root of the summed squares
            squared = total.to(self._device()) ** 2
            dist.all_reduce(squared)
            total = squared.sqrt()
        self._norm = clip_grad_norm(params, max_norm, total_norm=total) if max_norm else total

    def all_mean(self, value: torch.Tensor) -> torch.Tensor:
        """The mean of `value` over the ranks (itself, here)."""
        return value

    def _device(self) -> torch.device:
        return next(self.model.parameters()).device

    def full_state(self) -> tuple[dict, dict]:
        """(model state_dict, optimizer state_dict) as one process would have them. Every rank must call it."""
        return self.model.state_dict(), self.optimizer.state_dict()

    def load_optimizer_state(self, state: dict) -> None:
        """Load an optimizer state_dict in the single-process form (what `full_state` returns)."""
        self.check_optimizer_state(state)
        self.optimizer.load_state_dict(state)

    def check_optimizer_state(self, state: dict) -> None:
        """A clear error when `state` is not one AdamW-style state for this model's parameters."""
        num_params = len(list(self.model.parameters()))
        saved = [len(group["params"]) for group in state.get("param_groups", [])]
        if sum(saved) != num_params:
            raise ValueError(f"checkpoint optimizer covers {sum(saved)} parameters in groups {saved}; "
                             f"this model has {num_params}")
