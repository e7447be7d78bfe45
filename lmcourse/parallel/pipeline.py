"""Pipeline parallelism with the GPipe schedule (Huang et al. 2019) over real send/recv.

- `PipelineStage` is rank r's consecutive slice of a `TransformerLM`'s blocks: the first stage also
  embeds the tokens, the last also applies the final norm and the output head. Only activations
  (batch, seq, d_model) cross between stages forward, and their gradients backward.
- `gpipe_step` splits the batch into m micro-batches and runs the GPipe schedule: every forward,
  then every backward (in reverse), each stage receiving from the previous rank and sending to the
  next. The gradients it leaves in the stage's parameters are those of the mean loss over the whole
  batch, so one optimizer step matches the unsharded model's. It can record a timeline: (kind,
  micro-batch, start, end) of each forward/backward, from which `measured_bubble` is the idle share.
- `gpipe_bubble(p, m) = (p-1)/(m+p-1)`: with equal stages, each of the p ranks waits p-1 slots of the
  m+p-1 the step takes; more micro-batches shrink it, at the price of smaller matmuls.
- Workers for the chapter and tests: `pipeline_check` (loss and gradients against the unsharded model)
  and `pipeline_bubble` (timelines and measured bubble for several m).

Left out: 1F1B and interleaved schedules (same bubble as GPipe for 1F1B, less memory; interleaving
divides it by the virtual stages), zero-bubble schedules, tied embeddings (the two ends would need an
all-reduce of the shared matrix's gradient), MoE auxiliary losses, and absolute position tables.
"""

from __future__ import annotations

import copy
import statistics
import time

import torch
import torch.distributed as dist
from torch import nn

from lmcourse.nn.losses import cross_entropy, soft_cap
from lmcourse.nn.model import TransformerLM

__all__ = ["check_pipeline", "PipelineStage", "gpipe_step", "gpipe_bubble", "measured_bubble",
           "pipeline_check", "pipeline_bubble"]


def check_pipeline(num_layers: int, world_size: int, batch: int | None = None,
                   num_microbatches: int | None = None) -> None:
    """ValueError unless the stages get equal layers and the micro-batches equal sequences."""
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size={world_size!r}; expected an int >= 1")
    if num_layers % world_size:
        raise ValueError(f"num_layers={num_layers} not divisible by world_size={world_size}; "
                         "each pipeline stage takes the same number of blocks")
    if num_microbatches is not None and (not isinstance(num_microbatches, int) or num_microbatches < 1):
        raise ValueError(f"num_microbatches={num_microbatches!r}; expected an int >= 1")
    if batch is not None and num_microbatches is not None and batch % num_microbatches:
        raise ValueError(f"batch={batch} not divisible by num_microbatches={num_microbatches}; "
                         "micro-batches must be equal for the mean loss to match the full batch's")


def gpipe_bubble(num_stages: int, num_microbatches: int) -> float:
    """Idle fraction of the GPipe schedule with equal stages: (p - 1) / (m + p - 1)."""
    if num_stages < 1 or num_microbatches < 1:
        raise ValueError(f"gpipe_bubble: num_stages={num_stages}, num_microbatches={num_microbatches}; expected >= 1")
    return (num_stages - 1) / (num_microbatches + num_stages - 1)


def measured_bubble(timeline: list[tuple], start: float, end: float) -> float:
    """1 - (time spent in forward/backward) / (end - start) for one rank's timeline."""
    busy = sum(stop - begin for _, _, begin, stop in timeline)
    return 1.0 - busy / (end - start)


class PipelineStage(nn.Module):
    """Blocks [rank*L/p, (rank+1)*L/p) of `model`, plus the embedding (first) or the head (last)."""

    def __init__(self, model: TransformerLM, rank: int, world_size: int):
        super().__init__()
        config = model.config
        check_pipeline(config.num_layers, world_size)
        if config.position not in ("rope", "none") or config.tie_embeddings or config.num_experts:
            raise ValueError("PipelineStage: needs position='rope' or 'none', untied embeddings and no MoE; got "
                             f"position={config.position!r}, tie_embeddings={config.tie_embeddings}, "
                             f"num_experts={config.num_experts}")
        self.config, self.rank, self.world_size = config, rank, world_size
        self.is_first, self.is_last = rank == 0, rank == world_size - 1
        per_stage = config.num_layers // world_size
        self.layer_ids = list(range(rank * per_stage, (rank + 1) * per_stage))
        self.blocks = nn.ModuleList(copy.deepcopy(model.layers[i]) for i in self.layer_ids)
        if self.is_first:
            self.token_embeddings = copy.deepcopy(model.token_embeddings)
        if self.is_last:
            self.ln_final, self.lm_head = copy.deepcopy(model.ln_final), copy.deepcopy(model.lm_head)

    def full_name(self, name: str) -> str:
        """This stage's parameter name as it is in the unsharded TransformerLM."""
        if name.startswith("blocks."):
            _, index, rest = name.split(".", 2)
            return f"layers.{self.layer_ids[int(index)]}.{rest}"
        return name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """token ids (first stage) or activations -> activations, or logits (last stage)."""
        if self.is_first:
            x = self.token_embeddings(x)
        for block in self.blocks:
            x = block(x)
        if not self.is_last:
            return x
        logits = self.lm_head(self.ln_final(x))
        cap = self.config.logit_soft_cap
        return logits if cap is None else soft_cap(logits, cap)


def _record(timeline, kind, microbatch, fn):
    start = time.perf_counter()
    out = fn()
    if timeline is not None:
        timeline.append((kind, microbatch, start, time.perf_counter()))
    return out


def gpipe_step(stage: PipelineStage, token_ids: torch.Tensor, targets: torch.Tensor, num_microbatches: int,
               timeline: list | None = None) -> float:
    """One GPipe forward+backward over the batch; returns the batch's mean loss (on every rank).

    Every rank passes the same token_ids/targets (batch, seq); only the first stage reads the ids
    and only the last the targets. Gradients accumulate into the stage's parameters' .grad.
    """
    batch, seq = token_ids.shape
    check_pipeline(stage.config.num_layers, stage.world_size, batch, num_microbatches)
    rank, m = stage.rank, num_microbatches
    ids, labels = token_ids.chunk(m), targets.chunk(m)
    dtype = next(stage.parameters()).dtype
    shape = (batch // m, seq, stage.config.d_model)
    inputs, outputs, pending = [], [], []
    for i in range(m):  # forward phase: stage s runs micro-batch i as soon as stage s-1 hands it over
        if stage.is_first:
            x = ids[i]
        else:
            x = torch.empty(shape, dtype=dtype)
            dist.recv(x, rank - 1)
            x.requires_grad_()
        out = _record(timeline, "F", i, lambda: stage(x))
        if stage.is_last:
            # Each micro-batch's mean over m: the summed gradients are those of the batch mean.
            out = _record(timeline, "F", i, lambda: cross_entropy(out, labels[i]) / m)
        else:
            pending.append(dist.isend(out.detach().contiguous(), rank + 1))
        inputs.append(x)
        outputs.append(out)
    for i in reversed(range(m)):  # backward phase: the last stage starts as soon as its forwards end
        if stage.is_last:
            _record(timeline, "B", i, outputs[i].backward)
        else:
            grad = torch.empty(shape, dtype=dtype)
            dist.recv(grad, rank + 1)
            _record(timeline, "B", i, lambda: outputs[i].backward(grad))
        if not stage.is_first:
            pending.append(dist.isend(inputs[i].grad.contiguous(), rank - 1))
    for request in pending:
        request.wait()
    loss = torch.zeros((), dtype=torch.float64)
    if stage.is_last:
        loss += sum(out.detach().double() for out in outputs)
    dist.broadcast(loss, stage.world_size - 1)
    return loss.item()


def _model(config: dict, seed: int, dtype=torch.float32) -> TransformerLM:
    torch.manual_seed(seed)  # every rank builds the same full model, then keeps its own stage
    return TransformerLM(**config, dtype=dtype)


def _batch(config: dict, batch: int, seed: int):
    generator = torch.Generator().manual_seed(seed + 1)
    tokens = torch.randint(0, config["vocab_size"], (batch, config["context_length"] + 1), generator=generator)
    return tokens[:, :-1], tokens[:, 1:]


def pipeline_check(rank: int, world_size: int, config: dict, batch: int, num_microbatches: int,
                   seed: int = 0) -> dict:
    """Worker: GPipe loss and this stage's gradients against the unsharded model (float64).

    Returns {"loss", "reference_loss", "loss_diff", "grad_diff", "num_parameters"}.
    """
    model = _model(config, seed, torch.float64)
    token_ids, targets = _batch(config, batch, seed)
    stage = PipelineStage(model, rank, world_size)
    reference = cross_entropy(model(token_ids), targets)
    reference.backward()
    loss = gpipe_step(stage, token_ids, targets, num_microbatches)
    full = dict(model.named_parameters())
    grad_diff = max((p.grad - full[stage.full_name(n)].grad).abs().max().item() for n, p in stage.named_parameters())
    return {"loss": loss, "reference_loss": reference.item(), "loss_diff": abs(loss - reference.item()),
            "grad_diff": grad_diff, "num_parameters": sum(p.numel() for p in stage.parameters())}


def pipeline_bubble(rank: int, world_size: int, config: dict, microbatch_size: int, microbatch_counts=(1, 2, 4, 8),
                    repeats: int = 2, seed: int = 0) -> dict:
    """Worker: for each m, run GPipe steps of m micro-batches of `microbatch_size` sequences.

    Returns {m: {"bubble": median measured idle fraction of this rank, "timeline": the last repeat's
    events as (kind, microbatch, start, end) in seconds from the step's start, "span": its length}}.
    The step starts at a barrier and ends when the slowest rank is done (all-reduce of the end times).
    """
    stage = PipelineStage(_model(config, seed), rank, world_size)
    result = {}
    for m in microbatch_counts:
        token_ids, targets = _batch(config, m * microbatch_size, seed)
        bubbles = []
        for repeat in range(repeats + 1):  # the first run warms up allocators and connections
            timeline = []
            dist.barrier()
            start = time.perf_counter()
            gpipe_step(stage, token_ids, targets, m, timeline)
            end = torch.tensor([time.perf_counter()], dtype=torch.float64)
            dist.all_reduce(end, op=dist.ReduceOp.MAX)  # perf_counter is one system-wide monotonic clock
            stage.zero_grad(set_to_none=True)
            if repeat:
                bubbles.append(measured_bubble(timeline, start, end.item()))
        events = [(kind, i, begin - start, stop - start) for kind, i, begin, stop in timeline]
        result[m] = {"bubble": statistics.median(bubbles), "timeline": events, "span": end.item() - start}
    return result
