"""Speculative sampling: the output distribution is the target's (chi-squared, with a negative control),
greedy speculation equals greedy decoding, and tokens per target call follow (1 - a^(g+1)) / (1 - a)."""

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from lmcourse.inference import accept_drafts, expected_speedup, expected_tokens_per_call, speculative_generate
from lmcourse.nn import TransformerLM, probabilities

VOCAB = 8
P_THRESHOLD = 1e-3  # a correct sampler fails this with probability 0.001; the seeds are fixed anyway

pytestmark = pytest.mark.usefixtures("one_thread")


def wrong_accept(target_probs, draft_probs, draft_tokens, generator=None):
    """A plausible bug: on rejection, sample from q instead of normalise((q - p)+)."""
    q, p = target_probs.double(), draft_probs.double()
    for i, x in enumerate(draft_tokens.tolist()):
        if torch.rand((), generator=generator, dtype=torch.float64) * p[i, x] >= q[i, x]:
            return draft_tokens.tolist()[:i] + [int(torch.multinomial(q[i], 1, generator=generator))], i
    return draft_tokens.tolist() + [int(torch.multinomial(q[-1], 1, generator=generator))], len(draft_tokens)


def chisquare_pvalue(counts: np.ndarray, probs: np.ndarray) -> float:
    """Chi-squared goodness of fit, cells with expected count < 5 pooled (the test's usual validity rule)."""
    probs = np.asarray(probs, dtype=np.float64)
    expected = probs / probs.sum() * counts.sum()
    small = expected < 5
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    assert obs[~keep].sum() == 0, "a token with zero target probability was emitted"
    return chisquare(obs[keep], exp[keep]).pvalue


def first_token_counts(accept, q, p, trials, gamma, seed):
    g = torch.Generator().manual_seed(seed)
    counts = np.zeros(VOCAB)
    for _ in range(trials):
        drafts = torch.stack([torch.multinomial(p[i], 1, generator=g)[0] for i in range(gamma)])
        emitted, _ = accept(q, p, drafts, g)
        counts[emitted[0]] += 1
    return counts


def random_rows(rows, seed, sharpness=2.0):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(sharpness * torch.randn(rows, VOCAB, generator=g), dim=-1)


@pytest.mark.slow
@pytest.mark.parametrize("gamma", [1, 3])
def test_emitted_token_follows_the_target_distribution(gamma):
    q, p = random_rows(gamma + 1, 0), random_rows(gamma, 1)
    counts = first_token_counts(accept_drafts, q, p, 6000, gamma, seed=gamma)
    assert chisquare_pvalue(counts, q[0].numpy()) > P_THRESHOLD
    # ... and not the draft's: the test has the power to tell them apart
    assert chisquare_pvalue(counts, p[0].numpy()) < 1e-6


def test_negative_control_catches_a_wrong_residual():
    q, p = random_rows(2, 0), random_rows(1, 1)
    counts = first_token_counts(wrong_accept, q, p, 6000, 1, seed=1)
    assert chisquare_pvalue(counts, q[0].numpy()) < 1e-6


def test_accept_drafts_edge_cases():
    q = torch.eye(VOCAB)[[2, 5, 7]]
    emitted, accepted = accept_drafts(q, q[:2], torch.tensor([2, 5]))  # p == q: always accepted, then the bonus
    assert (emitted, accepted) == ([2, 5, 7], 2)
    emitted, accepted = accept_drafts(q, torch.eye(VOCAB)[[2, 1]], torch.tensor([2, 1]))  # 2nd rejected -> 5
    assert (emitted, accepted) == ([2, 5], 1)
    with pytest.raises(ValueError, match="expected"):
        accept_drafts(q, q, torch.tensor([2, 5]))


def tiny(d_model, num_layers, seed, sharpen=4.0):
    torch.manual_seed(seed)
    model = TransformerLM(VOCAB, 16, d_model, num_layers, 2, 2 * d_model).eval()
    with torch.no_grad():  # untrained heads give near-uniform logits; sharpen so p and q really differ
        model.lm_head.weight.mul_(sharpen)
    return model


# With temperature/top-k/top-p the output must follow the target's *filtered* distribution: verifying
# against unfiltered q would emit tokens the filter removed (chisquare_pvalue refuses those). Filtering
# the draft too only raises acceptance; correctness holds for any draft p.
@pytest.mark.slow
@pytest.mark.parametrize("sampling", [dict(), dict(temperature=2.0, top_k=4), dict(temperature=4.0, top_p=0.8)],
                         ids=["plain", "temperature-top-k", "temperature-top-p"])
def test_speculative_generate_samples_the_targets_joint_distribution(sampling):
    target, draft = tiny(16, 2, 0), tiny(8, 1, 1)
    prompt = torch.tensor([3, 1, 4])
    with torch.no_grad():
        first = probabilities(target(prompt[None])[0, -1], **sampling)  # (VOCAB,)
        seconds = torch.cat([prompt.expand(VOCAB, -1), torch.arange(VOCAB)[:, None]], 1)
        second = probabilities(target(seconds)[:, -1], **sampling)  # (VOCAB first, VOCAB second)
    joint = (first[:, None] * second).flatten().numpy()
    g = torch.Generator().manual_seed(0)
    counts, accepted = np.zeros(VOCAB * VOCAB), []
    for _ in range(800):
        result = speculative_generate(target, draft, prompt, 2, gamma=2, generator=g, **sampling)
        a, b = result.ids[-2:].tolist()
        counts[a * VOCAB + b] += 1
        accepted.append(result.accepted[0])
    assert 0 < np.mean(accepted) < 1  # rejections did happen
    assert chisquare_pvalue(counts, joint) > P_THRESHOLD


@pytest.mark.parametrize("gamma", [1, 4])
def test_greedy_speculation_equals_greedy_target(gamma):
    target, draft = tiny(16, 2, 0, sharpen=1.0), tiny(8, 1, 1, sharpen=1.0)
    prompt = torch.tensor([1, 2])
    result = speculative_generate(target, draft, prompt, 13, gamma=gamma, temperature=0)
    assert torch.equal(result.ids, target.generate(prompt, 13, temperature=0))
    assert sum(a + 1 for a in result.accepted) == 13 == len(result.ids) - 2
    # a draft identical to the target is always accepted: gamma + 1 tokens per target call
    same = speculative_generate(target, target, prompt, 13, gamma=gamma, temperature=0)
    assert torch.equal(same.ids, result.ids) and same.acceptance_rate == 1.0


def test_tokens_per_call_follow_the_formula_at_the_measured_alpha():
    # Fixed p and q at every position: acceptance is i.i.d. with alpha = sum_x min(p, q), as the formula assumes.
    gamma, g = 4, torch.Generator().manual_seed(0)
    q, p = random_rows(1, 3, sharpness=1.0), random_rows(1, 4, sharpness=1.0)
    alpha = torch.minimum(p, q).sum().item()
    accepted = []
    for _ in range(4000):
        drafts = torch.multinomial(p[0], gamma, replacement=True, generator=g)
        accepted.append(accept_drafts(q.expand(gamma + 1, -1), p.expand(gamma, -1), drafts, g)[1])
    accepted = np.array(accepted)
    measured_alpha = accepted.sum() / (accepted.sum() + (accepted < gamma).sum())
    assert abs(measured_alpha - alpha) < 0.02
    formula = expected_tokens_per_call(measured_alpha, gamma)
    assert abs((accepted + 1).mean() / formula - 1) < 0.05


def test_formulas_and_errors():
    assert expected_tokens_per_call(1.0, 4) == 5 and expected_tokens_per_call(0.0, 4) == 1
    assert expected_tokens_per_call(0.5, 2) == pytest.approx(1.75)
    assert expected_speedup(0.5, 2, 0.0) == pytest.approx(1.75)
    assert expected_speedup(0.8, 4, 0.1) == pytest.approx((1 - 0.8 ** 5) / (0.2 * 1.4))
    with pytest.raises(ValueError, match="alpha=1.5"):
        expected_tokens_per_call(1.5, 2)
    with pytest.raises(ValueError, match="gamma=-1"):
        expected_speedup(0.5, -1, 0.1)
    target, draft = tiny(16, 2, 0), tiny(8, 1, 1)
    with pytest.raises(ValueError, match="context_length=16"):
        speculative_generate(target, draft, torch.tensor([1, 2]), 15)
    with pytest.raises(ValueError, match="vocab_size"):
        speculative_generate(target, TransformerLM(9, 16, 8, 1, 2, 16), torch.tensor([1]), 3)
    with pytest.raises(ValueError, match="top_p"):
        speculative_generate(target, draft, torch.tensor([1]), 3, top_p=0)

