"""Per-GPU model-state memory and communication of data parallelism and ZeRO's three stages.

The ZeRO paper (Rajbhandari et al. 2020, section 5 and Figure 1) counts, per parameter, 2 bytes of
fp16 parameters, 2 bytes of fp16 gradients and K = 12 bytes of optimizer state (fp32 master
weights, Adam's m and v). With Psi parameters on N_d data-parallel GPUs each GPU holds

    stage 0 (DDP)       (2 + 2 + K) Psi
    stage 1 (P_os)      2 Psi + 2 Psi + K Psi / N_d
    stage 2 (P_os+g)    2 Psi + (2 + K) Psi / N_d
    stage 3 (P_os+g+p)  (2 + 2 + K) Psi / N_d

and sends 2 Psi elements per step for stages 0-2 (a reduce-scatter of the gradients and an
all-gather of the parameters, i.e. one all-reduce) and 3 Psi for stage 3 (the parameters are
all-gathered once in forward and once in backward). The bytes per element are parameters so the
same formulas describe an fp32 run (4, 4 and K = 8 for AdamW's m and v), which is what the
chapter measures on CPU. Bytes are decimal (1 GB = 1e9 bytes), as in the paper's table.

Left out: activations and their checkpoints, temporary buffers (the gathered unit of stage 3,
communication buckets) and fragmentation: the paper's "residual states".
"""

from __future__ import annotations

from dataclasses import dataclass

from lmcourse import checks
from lmcourse.accounting.memory import model_state_bytes

__all__ = ["ZERO_STAGES", "ZeroMemory", "zero_memory", "zero_communication", "bytes_per_element"]

ZERO_STAGES = {0: "DDP (nothing sharded)", 1: "ZeRO-1: optimizer state", 2: "ZeRO-2: + gradients",
               3: "ZeRO-3 / FSDP: + parameters"}


@dataclass(frozen=True)
class ZeroMemory:
    """Bytes of model state one GPU holds."""

    parameters: float
    gradients: float
    optimizer_state: float

    @property
    def total(self) -> float:
        return self.parameters + self.gradients + self.optimizer_state


def bytes_per_element(precision: str = "bf16-mixed", optimizer: str = "adamw") -> tuple[float, float, float]:
    """(parameter, gradient, optimizer-state) bytes per parameter of a precision policy, the last
    being the paper's K (master weights included): bf16-mixed AdamW (2, 2, 12), fp32 AdamW (4, 4, 8)."""
    state = model_state_bytes(1, precision, optimizer)
    return state.parameters, state.gradients, state.optimizer_state + state.master_weights


def _check_stage(stage) -> None:
    checks.choice("stage", stage, ZERO_STAGES)


def zero_memory(num_params: float, num_gpus: int, stage: int, *, param_bytes: float = 2, grad_bytes: float = 2,
                optimizer_bytes: float = 12) -> ZeroMemory:
    """Per-GPU bytes of parameters, gradients and optimizer state (the formulas in the docstring)."""
    checks.positive_number("num_params", num_params)
    checks.positive_int("num_gpus", num_gpus)
    _check_stage(stage)
    for name, value in (("param_bytes", param_bytes), ("grad_bytes", grad_bytes)):
        checks.positive_number(name, value)
    if not optimizer_bytes >= 0:
        raise ValueError(f"optimizer_bytes={optimizer_bytes!r}; expected a number >= 0")
    shard = num_params / num_gpus
    return ZeroMemory(parameters=(shard if stage >= 3 else num_params) * param_bytes,
                      gradients=(shard if stage >= 2 else num_params) * grad_bytes,
                      optimizer_state=(shard if stage >= 1 else num_params) * optimizer_bytes)


def zero_communication(num_params: float, stage: int) -> float:
    """Elements each GPU communicates per step: 2 Psi for stages 0-2, 3 Psi for stage 3.

    Counted as the paper does: the size of the full tensor per collective, an all-reduce as a
    reduce-scatter plus an all-gather; a ring sends (N_d - 1) / N_d of it per GPU.
    """
    checks.positive_number("num_params", num_params)
    _check_stage(stage)
    return (3 if stage == 3 else 2) * num_params
