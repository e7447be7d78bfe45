"""lmcourse.align.sft and lmcourse.align.dpo against independent computations."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lmcourse.align.dpo import dpo_loss, per_instance_dpo_loss, sequence_log_prob, simpo_loss
from lmcourse.align.sft import (PackedSFTDataset, compute_entropy, get_response_log_probs, iterate_batches,
                                masked_mean, masked_normalize, sft_microbatch_train_step,
                                tokenize_prompt_and_output)
from lmcourse.nn import TransformerLM
from lmcourse.tokenizer import Tokenizer


@pytest.fixture
def byte_tok():
    return Tokenizer({i: bytes([i]) for i in range(256)}, [])


def tiny_lm(seed=0, vocab=256):
    torch.manual_seed(seed)
    return TransformerLM(vocab_size=vocab, context_length=32, d_model=16, num_layers=1, num_heads=2, d_ff=24)


# -- masked reductions ------------------------------------------------------------------------
def test_masked_mean_and_normalize_match_loops():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, generator=g)
    m = torch.rand(3, 5, generator=g) > 0.4
    m[0, 0] = True
    m[2] = False  # an all-False row
    vals = [[x[i, j].item() for j in range(5) if m[i, j]] for i in range(3)]
    allv = [v for row in vals for v in row]
    assert masked_mean(x, m).item() == pytest.approx(sum(allv) / len(allv), abs=1e-6)
    rows = masked_mean(x, m, dim=1)
    for i in range(2):
        assert rows[i].item() == pytest.approx(sum(vals[i]) / len(vals[i]), abs=1e-6)
    assert torch.isnan(rows[2])  # documented: no entries -> NaN
    cols = masked_mean(x, m, dim=0)
    for j in range(5):
        col = [x[i, j].item() for i in range(3) if m[i, j]]
        assert (math.isnan(cols[j]) and not col) or cols[j].item() == pytest.approx(sum(col) / len(col), abs=1e-6)
    norm = masked_normalize(x, m, dim=-1, normalize_constant=4.0)
    for i in range(3):
        assert norm[i].item() == pytest.approx(sum(vals[i]) / 4.0, abs=1e-6)  # all-False row -> 0
    assert masked_normalize(x, m).item() == pytest.approx(sum(allv), abs=1e-5)


def test_masked_values_do_not_leak():
    x = torch.tensor([[1.0, float("inf"), float("nan")]])
    m = torch.tensor([[True, False, False]])
    assert masked_mean(x, m).item() == 1.0 and masked_normalize(x, m).item() == 1.0


def test_entropy_matches_categorical_on_large_logits():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 7, 50, generator=g, dtype=torch.float64) * 1e3
    ours = compute_entropy(logits)
    ref = torch.distributions.Categorical(logits=logits).entropy()
    assert not torch.isnan(ours).any()
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-6)
    small = torch.randn(3, 11, generator=g)
    torch.testing.assert_close(compute_entropy(small), torch.distributions.Categorical(logits=small).entropy())


# -- tokenization and log-probs ---------------------------------------------------------------
def test_tokenize_prompt_and_output(byte_tok):
    out = tokenize_prompt_and_output(["ab", "c"], ["xyz", "q"], byte_tok)
    ids, labels, mask = out["input_ids"], out["labels"], out["response_mask"]
    assert ids.shape == labels.shape == mask.shape == (2, 4) and mask.dtype == torch.bool
    full0 = list(b"abxyz")
    assert ids[0].tolist() == full0[:-1] and labels[0].tolist() == full0[1:]
    assert mask[0].tolist() == [False, True, True, True]  # labels x, y, z are the response
    assert ids[1].tolist() == [ord("c"), ord("q"), 0, 0] and labels[1].tolist() == [ord("q"), 0, 0, 0]
    assert mask[1].tolist() == [True, False, False, False]  # padding is never a response token
    torch.testing.assert_close(ids[:, 1:], labels[:, :-1])


def test_tokenize_bad_input(byte_tok):
    with pytest.raises(ValueError, match="output_strs"):
        tokenize_prompt_and_output(["a", "b"], ["c"], byte_tok)
    with pytest.raises(TypeError, match="prompt_strs"):
        tokenize_prompt_and_output("a", ["c"], byte_tok)


def test_get_response_log_probs_matches_log_softmax(byte_tok):
    model = tiny_lm()
    batch = tokenize_prompt_and_output(["hi ", "2+2="], ["there", "4"], byte_tok)
    out = get_response_log_probs(model, batch["input_ids"], batch["labels"], return_token_entropy=True)
    logits = model(batch["input_ids"])
    ref = F.log_softmax(logits, dim=-1)
    for b in range(2):
        for t in range(batch["labels"].shape[1]):
            assert out["log_probs"][b, t].item() == pytest.approx(ref[b, t, batch["labels"][b, t]].item(), abs=1e-5)
    torch.testing.assert_close(out["token_entropy"], torch.distributions.Categorical(logits=logits).entropy(),
                               atol=1e-5, rtol=1e-5)
    assert out["log_probs"].shape == batch["labels"].shape


# -- SFT step ---------------------------------------------------------------------------------
def test_sft_microbatch_train_step_gradient():
    g = torch.Generator().manual_seed(2)
    raw = torch.randn(3, 6, generator=g)
    mask = torch.rand(3, 6, generator=g) > 0.5
    lp = raw.clone().requires_grad_(True)
    loss, meta = sft_microbatch_train_step(lp, mask, gradient_accumulation_steps=4, normalize_constant=2.0)
    ref_in = raw.clone().requires_grad_(True)
    per_row = torch.stack([sum(ref_in[i, j] for j in range(6) if mask[i, j]) / 2.0
                           if mask[i].any() else ref_in[i].sum() * 0 for i in range(3)])
    ref_loss = -per_row.mean() / 4
    ref_loss.backward()
    assert loss.item() == pytest.approx(ref_loss.item(), abs=1e-6)
    torch.testing.assert_close(lp.grad, ref_in.grad)
    # the gradient is -mask / (constant * batch * accum) entrywise
    torch.testing.assert_close(lp.grad, -mask.float() / (2.0 * 3 * 4))
    assert meta["response_tokens"].item() == mask.sum().item()


def test_sft_step_bad_input():
    lp = torch.zeros(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        sft_microbatch_train_step(lp, torch.ones(2, 3, dtype=torch.bool), 0)
    with pytest.raises(ValueError, match="response_mask"):
        sft_microbatch_train_step(lp, torch.ones(2, 4, dtype=torch.bool), 1)


# -- packed dataset ---------------------------------------------------------------------------
def test_packed_sft_dataset(byte_tok):
    examples = [{"prompt": f"Q{i}:", "response": f"A{i}"} for i in range(10)]
    ds = PackedSFTDataset(examples, byte_tok, context_length=8, seed=0)
    stream_len = 10 * (3 + 2 + 1)  # prompt, response, end token
    assert len(ds) == (stream_len - 1) // 8
    item = ds[1]
    assert item["input_ids"].shape == item["labels"].shape == item["response_mask"].shape == (8,)
    torch.testing.assert_close(item["input_ids"][1:], item["labels"][:-1])
    # rebuild the mask independently: a label is a response token iff it follows the ':' of a prompt
    # (the 'A', digit, and end token 0 of each example)
    text = bytes(ds.tokens.tolist())
    expect, state = [], 0
    for byte in text:
        if byte == ord("Q"):
            state = 1
        expect.append(state == 2)
        if byte == ord(":"):
            state = 2
    for i in range(len(ds)):
        assert ds[i]["response_mask"].tolist() == expect[i * 8 + 1:i * 8 + 9]
    assert sum(ds.is_response.tolist()) == 10 * 3
    # seeds change the packing order, the same seed reproduces it
    assert torch.equal(PackedSFTDataset(examples, byte_tok, 8, seed=0).tokens, ds.tokens)
    assert not torch.equal(PackedSFTDataset(examples, byte_tok, 8, seed=1).tokens, ds.tokens)

    batches = list(iterate_batches(ds, 3, shuffle=True, generator=torch.Generator().manual_seed(0)))
    assert [b["input_ids"].shape[0] for b in batches] == [3, 3, 1]
    seen = sorted(tuple(row.tolist()) for b in batches for row in b["input_ids"])
    assert seen == sorted(tuple(ds[i]["input_ids"].tolist()) for i in range(len(ds)))
    with pytest.raises(ValueError, match="context_length"):
        PackedSFTDataset(examples, byte_tok, 0)
    with pytest.raises(ValueError, match="batch_size"):
        next(iterate_batches(ds, 0))


# -- DPO and SimPO ----------------------------------------------------------------------------
def test_dpo_loss_hand_values():
    pc, pr = torch.tensor([-3.0, -5.0]), torch.tensor([-4.0, -2.0])
    rc, rr = torch.tensor([-3.5, -4.0]), torch.tensor([-3.0, -2.5])
    loss, meta = dpo_loss(pc, pr, rc, rr, beta=0.5)
    margins = [0.5 * ((-3 + 3.5) - (-4 + 3)), 0.5 * ((-5 + 4) - (-2 + 2.5))]
    hand = sum(math.log(1 + math.exp(-m)) for m in margins) / 2
    assert loss.item() == pytest.approx(hand, abs=1e-6)
    assert meta["margins"].tolist() == pytest.approx(margins)
    assert meta["accuracy"].item() == 0.5
    assert meta["chosen_rewards"].tolist() == pytest.approx([0.25, -0.5])
    # policy == reference: every margin is 0 and the loss is log 2
    same, _ = dpo_loss(pc, pr, pc, pr, beta=0.1)
    assert same.item() == pytest.approx(math.log(2))
    # raising the chosen log-ratio lowers the loss
    better, _ = dpo_loss(pc + 1.0, pr, rc, rr, beta=0.5)
    assert better.item() < loss.item()
    # stable for huge margins
    big, _ = dpo_loss(torch.tensor([-1e4]), torch.tensor([0.0]), torch.tensor([0.0]), torch.tensor([0.0]), 1.0)
    assert big.item() == pytest.approx(1e4)


def test_dpo_bad_input():
    a = torch.zeros(2)
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(a, a, a, a, beta=0.0)
    with pytest.raises(ValueError, match="ref_rejected_logps"):
        dpo_loss(a, a, a, torch.zeros(3), beta=0.1)
    with pytest.raises(ValueError, match="beta"):
        simpo_loss(a, a, a + 1, a + 1, beta=-1.0, gamma=0.5)
    with pytest.raises(ValueError, match="chosen_lengths"):
        simpo_loss(a, a, a, a + 1, beta=1.0, gamma=0.5)


def test_per_instance_dpo_matches_batched(byte_tok):
    policy, reference = tiny_lm(0), tiny_lm(1)
    prompt, chosen, rejected = "2+3=", "5", "six!"
    loss = per_instance_dpo_loss(policy, reference, byte_tok, 0.5, prompt, chosen, rejected)

    def logp(model, response):  # independent: score the unpadded sequence by hand
        ids = torch.tensor([list((prompt + response).encode())])
        logits = model(ids[:, :-1])
        lps = F.log_softmax(logits, -1)[0]
        n = len(prompt)
        return sum(lps[t, ids[0, t + 1]] for t in range(n - 1, ids.shape[1] - 1))

    with torch.no_grad():
        pc, pr, rc, rr = logp(policy, chosen), logp(policy, rejected), logp(reference, chosen), logp(reference, rejected)
    hand = -F.logsigmoid(0.5 * ((pc - rc) - (pr - rr)))
    assert loss.item() == pytest.approx(hand.item(), abs=1e-5)
    loss.backward()
    assert all(p.grad is None for p in reference.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.parameters())
    # sequence_log_prob on the padded batch agrees
    batch = tokenize_prompt_and_output([prompt, prompt], [chosen, rejected], byte_tok)
    with torch.no_grad():
        seq = sequence_log_prob(policy, batch["input_ids"], batch["labels"], batch["response_mask"])
    assert seq.tolist() == pytest.approx([pc.item(), pr.item()], abs=1e-5)
    # policy == reference: log 2
    assert per_instance_dpo_loss(policy, policy, byte_tok, 0.1, prompt, chosen, rejected).item() == \
        pytest.approx(math.log(2), abs=1e-6)


def test_simpo_hand_value():
    pc, pr = torch.tensor([-6.0, -2.0]), torch.tensor([-4.0, -9.0])
    lc, lr = torch.tensor([3.0, 2.0]), torch.tensor([1.0, 3.0])
    loss, meta = simpo_loss(pc, pr, lc, lr, beta=2.0, gamma=0.5)
    margins = [2.0 * (-6 / 3) - 2.0 * (-4 / 1) - 0.5, 2.0 * (-2 / 2) - 2.0 * (-9 / 3) - 0.5]
    hand = sum(math.log(1 + math.exp(-m)) for m in margins) / 2
    assert loss.item() == pytest.approx(hand, abs=1e-6)
    assert meta["accuracy"].item() == 1.0
