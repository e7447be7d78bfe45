r"""Direct Preference Optimization (DPO) and SimPO: preference learning without a reward model.

Derivation in brief (Rafailov et al. 2023). Bradley-Terry models a preference as
$P(y_w \succ y_l \mid x) = \sigma(r(x, y_w) - r(x, y_l))$. RLHF maximises
$E[r(x, y)] - \beta\,\mathrm{KL}(\pi \,\|\, \pi_{ref})$, whose optimum is
$\pi^*(y|x) = \pi_{ref}(y|x)\, e^{r(x,y)/\beta} / Z(x)$. Solving for the reward,
$r(x, y) = \beta \log \frac{\pi^*(y|x)}{\pi_{ref}(y|x)} + \beta \log Z(x)$; in a *difference* of
rewards the intractable $Z(x)$ cancels, so the Bradley-Terry likelihood becomes a loss on the
policy itself:
$-\log\sigma\big(\beta[(\log\pi(y_w) - \log\pi_{ref}(y_w)) - (\log\pi(y_l) - \log\pi_{ref}(y_l))]\big)$.

- `dpo_loss`: that loss over a batch of sequence log-probs, with the implicit rewards as metadata.
- `sequence_log_prob`: log pi(response | prompt), the sum of response-token log-probs.
- `per_instance_dpo_loss`: the CS336 signature (policy, reference, tokenizer, beta, prompt, two
  responses), reference under no_grad.
- `simpo_loss` (Meng et al. 2024): length-normalised log-probs as the reward, a target margin
  gamma, and no reference model.

Left out: chat templates / EOS appending (the caller builds the strings), IPO, KTO and the other
variants, label smoothing (cDPO), and a training loop (the chapter writes one).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lmcourse.align.sft import get_response_log_probs, tokenize_prompt_and_output


def _check_beta(beta, name: str = "beta") -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not math.isfinite(beta) or beta <= 0:
        raise ValueError(f"{name}: expected a finite number > 0, got {beta!r}")
    return float(beta)


def _check_same_shape(**tensors) -> None:
    shapes = {k: tuple(v.shape) for k, v in tensors.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"expected equal shapes, got {shapes}")


def dpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             ref_chosen_logps: torch.Tensor, ref_rejected_logps: torch.Tensor, beta: float):
    """Mean DPO loss over a batch of sequence log-probs (each of shape (batch,)).

    Returns (loss, metadata) with the implicit rewards beta * log(pi / pi_ref) of the chosen and
    rejected responses, their margins and the fraction of pairs ranked correctly.
    """
    beta = _check_beta(beta)
    _check_same_shape(policy_chosen_logps=policy_chosen_logps, policy_rejected_logps=policy_rejected_logps,
                      ref_chosen_logps=ref_chosen_logps, ref_rejected_logps=ref_rejected_logps)
    chosen_rewards = beta * (policy_chosen_logps - ref_chosen_logps)
    rejected_rewards = beta * (policy_rejected_logps - ref_rejected_logps)
    margins = chosen_rewards - rejected_rewards
    # -logsigmoid(m) = softplus(-m): finite for any margin, unlike -log(sigmoid(m)).
    loss = -F.logsigmoid(margins).mean()
    metadata = {"chosen_rewards": chosen_rewards.detach(), "rejected_rewards": rejected_rewards.detach(),
                "margins": margins.detach(), "accuracy": (margins > 0).float().mean().detach()}
    return loss, metadata


def sequence_log_prob(model, input_ids: torch.Tensor, labels: torch.Tensor,
                      response_mask: torch.Tensor) -> torch.Tensor:
    """log pi(response | prompt) per example: response-token log-probs summed, shape (batch,).

    Summing (not averaging) is what the derivation needs: the sequence probability is the product
    of its token probabilities. Prompt tokens would cancel in DPO's ratios anyway.
    """
    _check_same_shape(input_ids=input_ids, labels=labels, response_mask=response_mask)
    log_probs = get_response_log_probs(model, input_ids, labels)["log_probs"]
    return torch.where(response_mask.bool(), log_probs, torch.zeros_like(log_probs)).sum(dim=-1)


def _device(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except (StopIteration, AttributeError):
        return torch.device("cpu")


def per_instance_dpo_loss(policy, reference, tokenizer, beta: float, prompt: str,
                          response_chosen: str, response_rejected: str) -> torch.Tensor:
    """DPO loss of one preference pair (CS336's compute_per_instance_dpo_loss).

    Both responses go through each model as one padded batch of two; the response mask removes
    the padding and the prompt. The reference gets no gradient.
    """
    beta = _check_beta(beta)
    batch = tokenize_prompt_and_output([prompt, prompt], [response_chosen, response_rejected], tokenizer)
    policy_logps = sequence_log_prob(policy, *(batch[k].to(_device(policy))
                                               for k in ("input_ids", "labels", "response_mask")))
    with torch.no_grad():
        ref_logps = sequence_log_prob(reference, *(batch[k].to(_device(reference))
                                                   for k in ("input_ids", "labels", "response_mask")))
    ref_logps = ref_logps.to(policy_logps.device)
    loss, _ = dpo_loss(policy_logps[:1], policy_logps[1:], ref_logps[:1], ref_logps[1:], beta)
    return loss


def simpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
               chosen_lengths: torch.Tensor, rejected_lengths: torch.Tensor, beta: float, gamma: float):
    """SimPO: -log sigmoid(beta * logp_w / |y_w| - beta * logp_l / |y_l| - gamma), batch mean.

    Dividing by length removes DPO's pull towards long responses (a sum of log-probs grows in
    magnitude with length); gamma asks the chosen reward to win by a margin. No reference model,
    so nothing anchors the policy to the SFT model: beta here is a reward scale, not a KL weight.
    """
    beta = _check_beta(beta)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not math.isfinite(gamma):
        raise ValueError(f"gamma: expected a finite number, got {gamma!r}")
    _check_same_shape(policy_chosen_logps=policy_chosen_logps, policy_rejected_logps=policy_rejected_logps,
                      chosen_lengths=chosen_lengths, rejected_lengths=rejected_lengths)
    for name, lengths in (("chosen_lengths", chosen_lengths), ("rejected_lengths", rejected_lengths)):
        if (torch.as_tensor(lengths) <= 0).any():
            raise ValueError(f"{name}: expected every length > 0, got {lengths.tolist()}")
    chosen_rewards = beta * policy_chosen_logps / chosen_lengths
    rejected_rewards = beta * policy_rejected_logps / rejected_lengths
    margins = chosen_rewards - rejected_rewards - gamma
    loss = -F.logsigmoid(margins).mean()
    metadata = {"chosen_rewards": chosen_rewards.detach(), "rejected_rewards": rejected_rewards.detach(),
                "margins": margins.detach(), "accuracy": (chosen_rewards > rejected_rewards).float().mean().detach()}
    return loss, metadata
