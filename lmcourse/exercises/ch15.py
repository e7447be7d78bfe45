"""Chapter 15 (SFT and RLHF): the exercises' references and checks."""

from __future__ import annotations

import math

import torch

from lmcourse.exercises import choice_exercise, expect, function_exercise, value_exercise


def dpo_by_hand() -> tuple[float, float]:
    beta = 0.5
    # implicit rewards beta * (log pi - log pi_ref) of the chosen and the rejected response
    r_w, r_l = beta * (-4 - -5), beta * (-9 - -7)  # 0.5 and -1.0
    margin = r_w - r_l
    return margin, math.log(1 + math.exp(-margin))  # -log sigmoid(margin)


def optimal_policy(ref: torch.Tensor, reward: torch.Tensor, beta: float) -> torch.Tensor:
    # pi*(y) = pi_ref(y) exp(r(y) / beta) / Z. In log space, so that a small beta cannot overflow
    # exp(); a response the reference never gives (pi_ref = 0, log = -inf) keeps probability 0.
    return torch.softmax(ref.log() + reward / beta, dim=-1)


def _check_optimal_policy(answer) -> None:
    ref = torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float64)
    reward = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
    cases = [(ref, reward, 1.0), (ref, reward, 0.5), (ref, reward, 0.1), (ref, reward, 100.0),
             (ref, reward + 7.0, 1.0),  # a constant added to every reward changes nothing
             (torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64), torch.tensor([0.0, 0.0, 5.0], dtype=torch.float64),
              0.5)]  # the best response has reference probability 0: pi* cannot reach it
    for p, r, beta in cases:
        got = answer(p.clone(), r.clone(), beta)
        expect(got, optimal_policy(p, r, beta), f"my_optimal_policy(ref={p.tolist()}, r={r.tolist()}, beta={beta})",
               rel_tol=1e-5, abs_tol=1e-8)


EXERCISES = [
    value_exercise("dpo_by_hand", "DPO by hand", dpo_by_hand, rel_tol=1e-3,
                   explanation="Within 0.1%: the loss to four decimals passes."),
    function_exercise("optimal_policy", "the optimal policy", optimal_policy, check=_check_optimal_policy),
    choice_exercise(
        "mask_matters", "why the mask matters",
        {"a": "the masked loss is larger: the response tokens are the hard part, and SFT made them only a "
              "little easier",
         "b": "the unmasked loss is larger: SFT never trained on the prompt tokens and pretraining never saw "
              "the question template, so the model still predicts them badly, and they dominate the average",
         "c": "they are about equal: SFT trains on every token of the sequence, so the mask only changes "
              "which tokens are averaged"},
        "b",
        "The response mask keeps the prompt out of the SFT loss, so nothing taught the model to predict the "
        "questions; they are most of the tokens, so the unmasked average says almost nothing about how well "
        "the model answers."),
]
