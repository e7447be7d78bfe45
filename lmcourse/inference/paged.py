"""A paged KV cache and continuous batching, the two ideas behind vLLM (Kwon et al. 2023, PagedAttention).

A contiguous cache reserves max_len slots per request up front, so memory is wasted on requests
that stop early and fragmented between requests of different lengths. Here the memory is a pool of
fixed-size blocks (block_size token slots each, for every layer); each request has a block table
mapping its logical block i (positions i*block_size ...) to a physical block, a block is taken from
the free list only when the request's next token needs it, and all of them return when it finishes.

Continuous (iteration-level) batching (Yu et al. 2022, Orca): the batch is rebuilt between decode
steps, so a finished request leaves and a waiting one joins at once instead of the whole batch
waiting for its longest member. Rows of a decode batch have different lengths; each row gathers its
own keys through its block table, and the positional mask hides the slots beyond its length.

Covers: `PagedKVCache` (pool, block tables, allocate on demand, free), `Request` and `serve`, a
greedy/sampling scheduler. When the pool is short, a request WAITS in the queue: it is admitted only
once the free blocks cover its whole budget (prompt + max_new_tokens), so a running request never
runs out; allocating past the pool directly raises `OutOfBlocksError`.
Leaves out: preemption and swapping to CPU, prefix sharing (copy-on-write blocks), chunked prefill
(each prompt is prefilled alone when its request joins) and a fused paged-attention kernel (the
gather below copies the keys; vLLM reads them in place).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from einops import rearrange

from lmcourse.nn.sampling import check_sampling, sample

__all__ = ["PagedKVCache", "OutOfBlocksError", "Request", "ServeLog", "serve"]


class OutOfBlocksError(RuntimeError):
    """The block pool has too few free blocks for a batch's next tokens."""


class PagedKVCache:
    """num_blocks blocks of block_size token slots, per layer: keys/values (num_layers, slots, kv_heads, head_dim)."""

    def __init__(self, num_layers: int, num_kv_heads: int, head_dim: int, num_blocks: int, block_size: int,
                 device=None, dtype=None):
        for name, value in (("num_layers", num_layers), ("num_kv_heads", num_kv_heads), ("head_dim", head_dim),
                            ("num_blocks", num_blocks), ("block_size", block_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"PagedKVCache: {name}={value!r}; expected a positive integer")
        shape = (num_layers, num_blocks * block_size, num_kv_heads, head_dim)
        self.keys = torch.zeros(shape, device=device, dtype=dtype)
        self.values = torch.zeros(shape, device=device, dtype=dtype)
        self.num_blocks, self.block_size = num_blocks, block_size
        self.free_blocks = list(range(num_blocks))
        self.block_tables: dict[object, list[int]] = {}  # request id -> physical block of each logical block
        self.lengths: dict[object, int] = {}  # request id -> tokens stored

    @classmethod
    def for_model(cls, model, num_blocks: int, block_size: int = 16) -> "PagedKVCache":
        config, weight = model.config, model.token_embeddings.weight
        return cls(config.num_layers, config.kv_heads, config.head_dim, num_blocks, block_size,
                   weight.device, weight.dtype)

    def blocks_for(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)

    def add(self, request_id) -> None:
        if request_id in self.block_tables:
            raise ValueError(f"PagedKVCache: request {request_id!r} is already in the cache")
        self.block_tables[request_id], self.lengths[request_id] = [], 0

    def free(self, request_id) -> None:
        """Return a finished request's blocks to the pool."""
        if request_id not in self.block_tables:
            raise ValueError(f"PagedKVCache: unknown request {request_id!r}")
        self.free_blocks.extend(self.block_tables.pop(request_id))
        del self.lengths[request_id]

    def _grow(self, request_id, new_length: int) -> None:
        """Allocation on demand: take free blocks until the table covers new_length tokens (the caller checked room)."""
        table = self.block_tables[request_id]
        while len(table) < self.blocks_for(new_length):
            table.append(self.free_blocks.pop())

    def slots(self, request_id, positions: torch.Tensor) -> torch.Tensor:
        """Physical slot of each position of a request: table[pos // block_size] * block_size + pos % block_size."""
        table = torch.tensor(self.block_tables[request_id], dtype=torch.long, device=positions.device)
        return table[positions // self.block_size] * self.block_size + positions % self.block_size

    def batch(self, request_ids: list) -> "PagedBatch":
        """The cache protocol `TransformerLM.forward(kv_cache=)` expects, for these requests as batch rows."""
        return PagedBatch(self, list(request_ids))


class PagedBatch:
    """A batch of requests of different lengths over one PagedKVCache (one forward's worth)."""

    def __init__(self, cache: PagedKVCache, request_ids: list):
        self.cache, self.request_ids = cache, request_ids
        self.new_slots = self.read_slots = None

    def prepare(self, batch_size: int, seq: int) -> torch.Tensor:
        """Allocate blocks for seq more tokens per row; return positions (batch, seq) (rows start at their lengths)."""
        cache, device = self.cache, self.cache.keys.device
        if batch_size != len(self.request_ids):
            raise ValueError(f"PagedBatch: a batch of {batch_size} rows for {len(self.request_ids)} requests")
        starts = [cache.lengths[r] for r in self.request_ids]
        # All rows' blocks or none: a batch that does not fit raises before taking any block.
        needed = sum(max(0, cache.blocks_for(start + seq) - len(cache.block_tables[r]))
                     for r, start in zip(self.request_ids, starts))
        if needed > len(cache.free_blocks):
            raise OutOfBlocksError(f"PagedKVCache: requests {self.request_ids!r} need {needed} more blocks for "
                                   f"{seq} more tokens each but {len(cache.free_blocks)} of {cache.num_blocks} "
                                   f"blocks of {cache.block_size} slots are free")
        for r, start in zip(self.request_ids, starts):
            cache._grow(r, start + seq)
        positions = torch.tensor(starts, device=device)[:, None] + torch.arange(seq, device=device)
        # Rows are padded to the longest history by repeating the row's last slot; those keys sit past
        # the row's positions, so the positional mask never lets its queries see them.
        longest = max(starts) + seq
        read = torch.arange(longest, device=device).expand(batch_size, longest)
        read = torch.minimum(read, positions[:, -1:])
        self.new_slots = torch.stack([cache.slots(r, p) for r, p in zip(self.request_ids, positions)])
        self.read_slots = torch.stack([cache.slots(r, p) for r, p in zip(self.request_ids, read)])
        return positions

    def layer(self, index: int) -> "_PagedLayer":
        return _PagedLayer(self, index)

    def commit(self, seq: int) -> None:
        for r in self.request_ids:
            self.cache.lengths[r] += seq


class _PagedLayer:
    def __init__(self, batch: PagedBatch, index: int):
        self.batch, self.index = batch, index

    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scatter the new keys/values into their slots, gather each row's history through its block table."""
        keys, values = self.batch.cache.keys[self.index], self.batch.cache.values[self.index]
        new, read = self.batch.new_slots, self.batch.read_slots  # (batch, seq), (batch, n_k)
        keys[new.flatten()] = rearrange(k, "b h n d -> (b n) h d")
        values[new.flatten()] = rearrange(v, "b h n d -> (b n) h d")
        return (rearrange(keys[read], "b n h d -> b h n d"), rearrange(values[read], "b n h d -> b h n d"))


@dataclass
class Request:
    """A prompt (seq,), how many tokens to generate, and the decode step at which it arrives."""
    prompt_ids: torch.Tensor
    max_new_tokens: int
    arrival: int = 0


@dataclass
class ServeLog:
    """What `serve` did: outputs per request (prompt + new tokens) and, per decode step, who ran."""
    outputs: list
    running: list = field(default_factory=list)  # per step: request indices in the decode batch
    free_blocks: list = field(default_factory=list)  # per step: free blocks after the step
    waited: list = field(default_factory=list)  # per step: requests arrived but waiting for blocks/batch room


@torch.no_grad()
def serve(model, requests: list[Request], *, num_blocks: int, block_size: int = 16, max_batch_size: int = 8,
          temperature: float = 0.0, eos_id: int | None = None, generator: torch.Generator | None = None) -> ServeLog:
    """Serve requests with continuous batching over a PagedKVCache; returns a ServeLog.

    Each step: admit arrived requests (in order) while the batch has room and the free blocks cover
    their budget, prefilling each alone; then one decode step for every running request together;
    finished requests (max_new_tokens reached, or eos_id) leave and free their blocks.
    """
    check_sampling(temperature)
    if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int) or max_batch_size < 1:
        raise ValueError(f"serve: max_batch_size={max_batch_size!r}; expected an integer >= 1")
    cache = PagedKVCache.for_model(model, num_blocks, block_size)
    context = model.config.context_length
    for i, r in enumerate(requests):
        if (r.prompt_ids.ndim != 1 or r.prompt_ids.shape[0] == 0 or isinstance(r.max_new_tokens, bool)
                or not isinstance(r.max_new_tokens, int) or r.max_new_tokens < 1):
            raise ValueError(f"serve: request {i} has prompt shape {tuple(r.prompt_ids.shape)} and max_new_tokens="
                             f"{r.max_new_tokens!r}; expected a non-empty (seq,) prompt and an integer max_new_tokens >= 1")
        total = r.prompt_ids.shape[0] + r.max_new_tokens
        if total > context:
            raise ValueError(f"serve: request {i} needs {total} positions > context_length={context}")
        if cache.blocks_for(total) > num_blocks:
            raise ValueError(f"serve: request {i} needs {cache.blocks_for(total)} blocks of {block_size} slots; "
                             f"the pool has num_blocks={num_blocks}, so it could never run")
    log = ServeLog(outputs=[None] * len(requests))
    waiting, running, tokens = list(range(len(requests))), [], {}
    step = 0
    while waiting or running:
        # Blocks that running requests may still claim are spoken for; admission never overbooks the pool.
        promised = sum(cache.blocks_for(requests[i].prompt_ids.shape[0] + requests[i].max_new_tokens)
                       - len(cache.block_tables[i]) for i in running)
        for i in [i for i in waiting if requests[i].arrival <= step]:
            need = cache.blocks_for(requests[i].prompt_ids.shape[0] + requests[i].max_new_tokens)
            if len(running) == max_batch_size or need > len(cache.free_blocks) - promised:
                break  # first come, first served: later arrivals wait behind this one
            waiting.remove(i)
            cache.add(i)
            prompt = requests[i].prompt_ids.to(cache.keys.device)
            logits = model(prompt[None], kv_cache=cache.batch([i]))[0, -1]
            tokens[i] = prompt.tolist() + [int(sample(logits, temperature, generator=generator))]
            promised += need - len(cache.block_tables[i])
            running.append(i)
        log.waited.append([i for i in waiting if requests[i].arrival <= step])
        running = [i for i in running if not _done(requests[i], tokens[i], eos_id, log, cache, i)]
        if running:
            last = torch.tensor([[tokens[i][-1]] for i in running], device=cache.keys.device)
            logits = model(last, kv_cache=cache.batch(running))[:, -1]
            for i, t in zip(running, sample(logits, temperature, generator=generator).tolist()):
                tokens[i].append(t)
            log.running.append(list(running))
            running = [i for i in running if not _done(requests[i], tokens[i], eos_id, log, cache, i)]
        else:
            log.running.append([])
        log.free_blocks.append(len(cache.free_blocks))
        step += 1
    return log


def _done(request: Request, tokens: list[int], eos_id, log: ServeLog, cache: PagedKVCache, i: int) -> bool:
    new = len(tokens) - request.prompt_ids.shape[0]
    if new < request.max_new_tokens and (eos_id is None or tokens[-1] != eos_id):
        return False
    log.outputs[i] = torch.tensor(tokens, dtype=request.prompt_ids.dtype)
    cache.free(i)
    return True
