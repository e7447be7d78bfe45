"""lmcourse.parallel: training across several processes with real torch.distributed.

`launch.spawn` starts the ranks (gloo on CPU, NCCL on GPUs) and collects their results;
`collectives` shows and measures the communication primitives and builds a ring all-reduce from
send/recv; `interconnect` lists the links' datasheet bandwidths; `tensor_parallel` shards
Linear/SwiGLU/attention Megatron-style; `pipeline` splits the layers into stages with a GPipe
schedule; `expert_parallel` spreads an MoE layer's experts over the ranks and moves tokens
with all-to-all. Data parallelism (DDP, ZeRO) lives in `ddp`, `zero` and `comm` (chapter 7). Worker
functions live in these modules because `spawn` imports them by name.
"""

from lmcourse.parallel.batch_size import MarkovLanguage, fit_critical_batch, steps_to_loss
from lmcourse.parallel.collectives import BUS_FACTOR, algorithm_bandwidth, bus_bandwidth, reduce_scatter, ring_all_reduce
from lmcourse.parallel.comm import CommLog, count_communication
from lmcourse.parallel.ddp import DDPBucketed, DDPIndividualParameters
from lmcourse.parallel.expert_parallel import expert_parallel_check, expert_parallel_forward
from lmcourse.parallel.fsdp import FullyShardedModule
from lmcourse.parallel.dp_runs import run_strategies, train_single
from lmcourse.parallel.interconnect import LINKS, Link, link
from lmcourse.parallel.launch import BACKENDS, RankError, spawn, spawn_each
from lmcourse.parallel.pipeline import PipelineStage, gpipe_bubble, gpipe_step
from lmcourse.parallel.tensor_parallel import (ColumnParallelLinear, ParallelRegion, RowParallelLinear,
                                               copy_to_parallel, reduce_from_parallel, tensor_parallel_attention,
                                               tensor_parallel_swiglu)
from lmcourse.parallel.zero import ShardedGradientOptimizer, ShardedOptimizer

__all__ = [
    "spawn", "spawn_each", "RankError", "BACKENDS",
    "ring_all_reduce", "reduce_scatter", "algorithm_bandwidth", "bus_bandwidth", "BUS_FACTOR", "LINKS", "Link", "link",
    "copy_to_parallel", "reduce_from_parallel", "ColumnParallelLinear", "RowParallelLinear", "ParallelRegion",
    "tensor_parallel_swiglu", "tensor_parallel_attention",
    "PipelineStage", "gpipe_step", "gpipe_bubble", "expert_parallel_forward", "expert_parallel_check",
    "DDPIndividualParameters", "DDPBucketed", "ShardedOptimizer", "ShardedGradientOptimizer", "FullyShardedModule",
    "count_communication", "CommLog",
    "MarkovLanguage", "fit_critical_batch", "steps_to_loss", "run_strategies", "train_single",
]
