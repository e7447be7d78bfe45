import torch


def _one_matrix(d_model):  # as if the GeLU FFN had a single d x 4d matrix
    return 4 * d_model // 3


def _shift_q_only(rope, q, k, m, n, shift):  # moves the query but not the key
    def score(a, b):
        return (rope(q[None], torch.tensor([a])) @ rope(k[None], torch.tensor([b])).T).item()
    return score(m, n), score(m + shift, n)


def _uniform(logits):  # the tempting premise: the same push on every logit
    return torch.full_like(logits, 2 * torch.logsumexp(logits, dim=-1).item() / logits.numel())


def _no_gqa(cfg):  # k and v as wide as q: ignores num_kv_heads
    d = cfg.d_model
    return 2 * cfg.vocab_size * d + cfg.num_layers * (4 * d * d + 3 * d * cfg.d_ff + 2 * d) + d


WRONG = {
    "glu_d_ff": _one_matrix,
    "kv_cache": (65_536, 4.0),  # forgot that K and V are two tensors
    "rope_scores": _shift_q_only,
    "z_loss_grad": _uniform,
    "z_loss_effect": "a",
    "param_count": _no_gqa,
}
