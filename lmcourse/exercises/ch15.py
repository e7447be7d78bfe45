"""Chapter 15 (SFT and RLHF): the exercises' references and checks."""

from __future__ import annotations

import math

import torch

from lmcourse.exercises import choice_exercise, expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question


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

WARM_UP = [
    choice("A pretrained model is asked \"What colour does Ana like?\". What is it most likely to write?",
           ["the answer, since it read about Ana in pretraining",
            "whatever usually follows such text: another question, or a story",
            "nothing: it needs a special token to start"],
           "b", "A pretrained model continues text. Post-training teaches it the form of an answer; the "
                "chapter's pretrained model gets fewer than half of the people right by greedy decoding."),
    open_question("Rating an answer from 1 to 10 or choosing the better of two answers: which is easier "
                  "for people to do consistently, and why?",
                  "Choosing between two. Absolute scores drift between raters and over time; a comparison "
                  "only asks for an order, which is why RLHF collects pairwise preferences."),
]

QUIZ = [
    choice("In SFT, which tokens of an example contribute to the loss?",
           ["every token, prompt included", "only the response's tokens, including the end-of-text marker",
            "only the last token"],
           "b", "The response mask is aligned with the labels, so the model learns to produce answers, "
                "not to predict the questions; the closing marker is a target so it learns to stop."),
    choice("SFT on answers about people the model never read about in pretraining teaches it to:",
           ["learn their facts from the answers", "answer confidently anyway, by guessing",
            "refuse to answer about unknown people"],
           "b", "SFT mostly extracts what pretraining stored; on unknown people the chapter's model is "
                "close to uniform in what it knows, yet it answers in the trained form."),
    choice("DPO's loss on a pair is -log sigma(beta * (log-ratio of the chosen - log-ratio of the rejected)). "
           "At the first step, with the policy equal to the reference, the loss is:",
           ["0", "log 2, about 0.693", "beta"],
           "b", "Both log-ratios are zero, the margin is zero, and -log sigma(0) = log 2; the chapter checks "
                "it at step 0."),
    choice("As DPO trains, the implicit reward of the *chosen* responses often falls below zero. What does "
           "that mean?",
           ["the run has diverged",
            "the chosen responses became less likely than under the reference, while the rejected ones "
            "fell further: the margin still grows",
            "the labels were swapped"],
           "b", "The loss depends only on the margin; most of it came from pushing the rejected responses "
                "down, in the chapter's run as in real ones."),
    choice("A policy is optimised ever harder against a learned reward model. What happens to the true "
           "quality of its answers?",
           ["it keeps improving with the proxy reward", "it rises, peaks, then falls while the proxy keeps rising",
            "it never changes"],
           "b", "The policy finds inputs where the reward model is wrong (Gao et al. 2022); the KL term "
                "keeps it near where the proxy can be trusted."),
    choice("Two papers compare PPO and DPO and reach opposite conclusions. What is the most likely reason?",
           ["one of them has a bug",
            "the result depends on the setup: data, reward model, hyperparameters and how much each "
            "method was tuned",
            "DPO and PPO optimise different objectives"],
           "b", "Both optimise the same KL-regularised objective; published comparisons differ in their "
                "data, tuning budget and evaluation, and the winner moves with them."),
]
