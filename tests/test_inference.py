"""KV cache (outputs equal full recomputation), cached generate, sampling filters, paged cache and serving."""

import pytest
import torch

from lmcourse.inference import KVCache, OutOfBlocksError, PagedKVCache, Request, generate, serve
from lmcourse.nn import TransformerLM, greedy, probabilities, sample, top_k_filter, top_p_filter

VOCAB = 40

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny matrices: extra threads only add synchronization


def tiny(**changes):
    torch.manual_seed(0)
    fields = dict(vocab_size=VOCAB, context_length=32, d_model=32, num_layers=2, num_heads=4, d_ff=48)
    fields.update(changes)
    return TransformerLM(**fields).eval()


CONFIGS = [dict(), dict(num_kv_heads=2), dict(num_kv_heads=1), dict(sliding_window=3),
           dict(position="learned"), dict(position="sinusoidal", num_kv_heads=2, sliding_window=5),
           dict(qk_norm=True, parallel_layers=True), dict(norm_position="post", tie_embeddings=True)]
IDS = ["mha", "gqa", "mqa", "window", "learned", "sinusoidal-gqa-window", "qknorm-parallel", "post-tied"]


# ----------------------------------------------------------------------------------------------- KV cache

@pytest.mark.parametrize("changes", CONFIGS, ids=IDS)
def test_cached_steps_equal_full_recomputation(changes):
    model = tiny(**changes)
    ids = torch.randint(0, VOCAB, (2, 14))
    full = model(ids)
    cache = KVCache.for_model(model, batch_size=2)
    steps = [model(ids[:, :6], kv_cache=cache)]  # prefill, then one token a step
    steps += [model(ids[:, t:t + 1], kv_cache=cache) for t in range(6, 14)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, rtol=1e-5, atol=1e-5)
    assert cache.length == 14
    # GQA/MQA store only the key/value heads
    assert cache.keys.shape == (2, 2, model.config.kv_heads, 32, model.config.head_dim)


def test_truncate_rolls_back_and_slots_are_rewritten():
    model = tiny(num_kv_heads=2)
    a, b = torch.randint(0, VOCAB, (1, 8)), torch.randint(0, VOCAB, (1, 3))
    cache = KVCache.for_model(model)
    model(a, kv_cache=cache)
    model(torch.randint(0, VOCAB, (1, 5)), kv_cache=cache)  # tokens we then reject
    cache.truncate(8)
    torch.testing.assert_close(model(b, kv_cache=cache), model(torch.cat((a, b), 1))[:, 8:], rtol=1e-5, atol=1e-5)


def test_cache_errors_name_the_lengths():
    model = tiny()
    cache = KVCache.for_model(model, max_len=10)
    model(torch.zeros(1, 8, dtype=torch.long), kv_cache=cache)
    with pytest.raises(ValueError, match=r"holds 8 tokens; 3 more would make 11 > max_len=10"):
        model(torch.zeros(1, 3, dtype=torch.long), kv_cache=cache)
    assert cache.length == 8  # nothing was written
    with pytest.raises(ValueError, match="batch_size=1"):
        model(torch.zeros(2, 1, dtype=torch.long), kv_cache=cache)
    with pytest.raises(ValueError, match="truncate: length=9"):
        cache.truncate(9)
    with pytest.raises(ValueError, match="not both"):
        model(torch.zeros(1, 1, dtype=torch.long), torch.tensor([3]), kv_cache=cache)
    big = KVCache.for_model(model, max_len=40)  # larger than the position tables
    model(torch.zeros(1, 30, dtype=torch.long), kv_cache=big)
    with pytest.raises(ValueError, match="exceed context_length=32"):
        model(torch.zeros(1, 3, dtype=torch.long), kv_cache=big)
    with pytest.raises(ValueError, match="max_len=0"):
        KVCache(1, 1, 1, 0, 4)
    with pytest.raises(ValueError, match="max_len=0"):
        KVCache.for_model(model, max_len=0)
    with pytest.raises(ValueError, match="truncate: length=2.5"):
        cache.truncate(2.5)
    with pytest.raises(ValueError, match="a kv_cache needs token_positions"):
        model.layers[0].attn(torch.zeros(1, 2, 32), kv_cache=cache.layer(0))


@pytest.mark.parametrize("changes", [dict(), dict(num_kv_heads=1, sliding_window=4)], ids=["mha", "mqa-window"])
def test_cached_generate_equals_model_generate(changes):
    model = tiny(**changes)
    prompts = torch.randint(0, VOCAB, (3, 5))
    assert torch.equal(generate(model, prompts, 20, temperature=0), model.generate(prompts, 20, temperature=0))
    ours = generate(model, prompts[0], 20, temperature=0.9, top_k=8, generator=torch.Generator().manual_seed(2))
    ref = model.generate(prompts[0], 20, temperature=0.9, top_k=8, generator=torch.Generator().manual_seed(2))
    assert torch.equal(ours, ref)
    # one signature, one sampler: top_p too, and the same refusals
    ours = generate(model, prompts, 12, temperature=1.2, top_p=0.8, generator=torch.Generator().manual_seed(3))
    ref = model.generate(prompts, 12, temperature=1.2, top_p=0.8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(ours, ref)
    for bad in (dict(top_p=0.0), dict(temperature=-1)):
        for gen in (lambda **kw: generate(model, prompts, 2, **kw), lambda **kw: model.generate(prompts, 2, **kw)):
            with pytest.raises(ValueError, match=next(iter(bad))):
                gen(**bad)
    first = generate(model, prompts[:1], 1, temperature=0)[0, -1].item()
    assert generate(model, prompts[:1], 10, temperature=0, eos_id=first).shape == (1, 6)


def test_generate_rejects_bad_input():
    model = tiny()
    with pytest.raises(ValueError, match="exceeds context_length=32"):
        generate(model, torch.zeros(30, dtype=torch.long), 5)
    with pytest.raises(ValueError, match="temperature=-1"):
        generate(model, torch.zeros(3, dtype=torch.long), 5, temperature=-1)
    with pytest.raises(ValueError, match="top_p=1.5"):
        generate(model, torch.zeros(3, dtype=torch.long), 5, top_p=1.5)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, torch.zeros(3, dtype=torch.long), -2)


# ----------------------------------------------------------------------------------------------- sampling

def test_top_k_and_top_p_keep_the_right_tokens():
    probs = torch.tensor([0.05, 0.4, 0.1, 0.3, 0.15])
    logits = probs.log()
    assert torch.isfinite(top_k_filter(logits, 2)).tolist() == [False, True, False, True, False]
    # nucleus: 0.4 + 0.3 = 0.7 < 0.75, so 0.15 is needed too; p = 0.7 stops at exactly 0.7
    assert torch.isfinite(top_p_filter(logits, 0.75)).tolist() == [False, True, False, True, True]
    assert torch.isfinite(top_p_filter(logits, 0.7)).tolist() == [False, True, False, True, False]
    assert torch.isfinite(top_p_filter(logits, 0.01)).tolist() == [False, True, False, False, False]
    assert torch.isfinite(top_p_filter(logits, 1.0)).all()
    kept = probabilities(logits, top_p=0.75)
    torch.testing.assert_close(kept, torch.tensor([0, 0.4, 0, 0.3, 0.15]) / 0.85)
    torch.testing.assert_close(probabilities(logits, temperature=0.5), torch.softmax(logits / 0.5, -1))
    assert probabilities(logits, temperature=0).tolist() == [0, 1, 0, 0, 0]
    batch = torch.randn(4, 3, 50)
    assert torch.equal(greedy(batch), batch.argmax(-1)) and torch.equal(sample(batch, 0), batch.argmax(-1))
    assert sample(batch, 1.0, top_k=5, top_p=0.9).shape == (4, 3)


def test_sampling_frequencies_match_the_filtered_distribution():
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0, -3.0])
    expected = probabilities(logits, temperature=0.7, top_k=4, top_p=0.9)
    draws = sample(logits.expand(20000, -1), 0.7, top_k=4, top_p=0.9, generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=6) / 20000
    assert (freq - expected).abs().max() < 0.015
    assert freq[expected == 0].sum() == 0


@pytest.mark.parametrize("kwargs, match", [(dict(temperature=-0.1), "temperature"), (dict(top_k=0), "top_k=0"),
                                           (dict(top_p=0.0), "top_p=0.0"), (dict(top_p=1.01), "top_p"),
                                           (dict(top_k=2.5), "top_k")])
def test_sampling_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sample(torch.randn(5), **{"temperature": 1.0, **kwargs})
    with pytest.raises(TypeError, match="logits"):
        greedy(torch.tensor([1, 2]))


# ----------------------------------------------------------------------------------------------- paged

def requests():
    g = torch.Generator().manual_seed(1)
    spec = [(5, 9, 0), (9, 4, 0), (3, 12, 1), (7, 6, 2), (4, 8, 3), (11, 5, 3)]
    return [Request(torch.randint(0, VOCAB, (n,), generator=g), k, a) for n, k, a in spec]


@pytest.mark.parametrize("changes", [dict(num_kv_heads=2), dict(sliding_window=4, position="learned")],
                         ids=["gqa", "window-learned"])
def test_continuous_batching_equals_serving_each_alone(changes):
    model = tiny(**changes)
    reqs = requests()
    log = serve(model, reqs, num_blocks=10, block_size=4, max_batch_size=3)
    for r, out in zip(reqs, log.outputs):
        assert torch.equal(out, model.generate(r.prompt_ids, r.max_new_tokens, temperature=0))
    assert max(map(len, log.running)) <= 3
    assert any({0, 2} <= set(step) for step in log.running)  # request 2 joined while request 0 was decoding
    assert log.free_blocks[-1] == 10  # everything freed at the end


def test_pool_too_small_makes_requests_wait_not_fail():
    model = tiny()
    reqs = requests()
    log = serve(model, reqs, num_blocks=4, block_size=4, max_batch_size=8)  # room for about one request at a time
    for r, out in zip(reqs, log.outputs):
        assert torch.equal(out, model.generate(r.prompt_ids, r.max_new_tokens, temperature=0))
    assert any(log.waited) and min(log.free_blocks) >= 0
    with pytest.raises(ValueError, match="could never run"):
        serve(model, reqs, num_blocks=2, block_size=4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(max_batch_size=0), "max_batch_size=0"),
    (dict(temperature=-1.0), "temperature=-1.0"),
    (dict(requests=[Request(torch.zeros(30, dtype=torch.long), 5)]), "35 positions > context_length=32"),
    (dict(requests=[Request(torch.zeros((), dtype=torch.long), 5)]), "prompt shape"),
    (dict(requests=[Request(torch.zeros(3, dtype=torch.long), 0)]), "max_new_tokens=0")])
def test_serve_rejects_bad_input(kwargs, match):
    kwargs = {"requests": requests(), "num_blocks": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        serve(tiny(), kwargs.pop("requests"), **kwargs)


def test_block_tables_allocate_on_demand_and_free():
    model = tiny()
    cache = PagedKVCache.for_model(model, num_blocks=3, block_size=4)
    cache.add("a")
    model(torch.zeros(1, 5, dtype=torch.long), kv_cache=cache.batch(["a"]))
    assert len(cache.block_tables["a"]) == 2 and len(cache.free_blocks) == 1  # 5 tokens -> 2 blocks of 4
    cache.add("b")
    with pytest.raises(OutOfBlocksError, match="need 2 more blocks .* 1 of 3 blocks of 4 slots are free"):
        model(torch.zeros(1, 5, dtype=torch.long), kv_cache=cache.batch(["b"]))
    assert cache.block_tables["b"] == [] and len(cache.free_blocks) == 1  # all or nothing: no block taken
    model(torch.zeros(1, 4, dtype=torch.long), kv_cache=cache.batch(["b"]))  # 4 tokens fit the last block
    assert len(cache.free_blocks) == 0
    with pytest.raises(OutOfBlocksError):  # "a" needs no new block for token 6, "b" needs one for token 5
        model(torch.zeros(2, 1, dtype=torch.long), kv_cache=cache.batch(["a", "b"]))
    assert cache.lengths == {"a": 5, "b": 4}
    cache.free("a")
    assert sorted(cache.free_blocks + cache.block_tables["b"]) == [0, 1, 2]  # no block lost or duplicated
    with pytest.raises(ValueError, match="unknown request 'a'"):
        cache.free("a")
