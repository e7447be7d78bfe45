"""Chapter 17 (policy gradient): the exercises' references and checks."""

from __future__ import annotations

import torch

from lmcourse.exercises import choice_exercise, expect, function_exercise
from lmcourse.exercises.study import choice, open_question


def softmax_policy_gradient(theta, reward):
    # d/dθ_k of log π(a) is 1[a = k] - π_k; take the expectation of R(a) times it:
    # π_k R_k - π_k E[R] = π_k (R_k - E[R]).
    p = torch.softmax(theta, -1)
    return p * (reward - (p * reward).sum())


def _check_softmax_policy_gradient(answer) -> None:
    gen = torch.Generator().manual_seed(17)
    cases = [(torch.randn(7, generator=gen), torch.rand(7, generator=gen)) for _ in range(3)]
    cases += [(torch.randn(5, generator=gen), torch.full((5,), 3.0)),  # a constant reward: no gradient at all
              (torch.tensor([2.0, -1.0]), torch.tensor([0.0, 1.0])),  # two actions
              (torch.zeros(4), torch.tensor([0.0, 0.0, 0.0, 1.0]))]  # uniform policy, one good action
    for theta, reward in cases:
        th = theta.clone().requires_grad_(True)
        (want,) = torch.autograd.grad((torch.softmax(th, -1) * reward).sum(), th)  # autograd on J itself
        expect(answer(theta.clone(), reward.clone()), want,
               f"my_softmax_policy_gradient(theta={[round(x, 2) for x in theta.tolist()]}, "
               f"reward={[round(x, 2) for x in reward.tolist()]})", rel_tol=1e-5, abs_tol=1e-6)


def optimal_baseline(pi, reward):
    # Var = E[(R - b)^2 ||g||^2] - ||E[R g]||^2 (E[g] = 0, so the second term does not depend on b);
    # setting d/db = -2 E[(R - b) ||g||^2] = 0 gives b* = E[R ||g||^2] / E[||g||^2].
    sq_norm = ((torch.eye(len(pi)) - pi) ** 2).sum(-1)  # ||e_a - pi||^2 for each action a
    return ((pi * reward * sq_norm).sum() / (pi * sq_norm).sum()).item()


def _check_optimal_baseline(answer) -> None:
    gen = torch.Generator().manual_seed(17)
    cases = [(torch.softmax(torch.randn(5, generator=gen) * s, -1), torch.rand(5, generator=gen) * 3 + offset)
             for s, offset in ((1.0, 10.0), (2.0, 0.0), (0.5, -4.0))]
    cases += [(torch.full((4,), 0.25), torch.tensor([0.0, 1.0, 2.0, 3.0])),
              (torch.tensor([0.9, 0.1]), torch.tensor([1.0, 0.0]))]
    for pi, reward in cases:
        pi64, r64 = pi.double(), reward.double()

        def total_variance(b):  # the exact total variance of (R(a) - b)(e_a - pi) under pi
            weights = (r64 - b)[:, None] * (torch.eye(len(pi64), dtype=torch.float64) - pi64)
            mean = (pi64[:, None] * weights).sum(0)
            return float((pi64 * (weights**2).sum(-1)).sum() - (mean**2).sum())

        v0, v1, v2 = (total_variance(b) for b in (0.0, 1.0, 2.0))  # a quadratic in b: its vertex
        want = 1.0 - (v2 - v0) / (2 * (v2 - 2 * v1 + v0))
        expect(answer(pi.clone(), reward.clone()), want,
               f"my_optimal_baseline(pi={[round(x, 3) for x in pi.tolist()]}, "
               f"reward={[round(x, 2) for x in reward.tolist()]})", rel_tol=1e-4, abs_tol=1e-5)


def grpo_clip_loss(advantages, logp, old_logp, eps):
    ratio = torch.exp(logp - old_logp)  # pi_theta / pi_old, from log-probs
    # the smaller (more pessimistic) of the unclipped and the clipped objective, negated as a loss
    return -torch.minimum(ratio * advantages, ratio.clamp(1 - eps, 1 + eps) * advantages)


def _check_grpo_clip_loss(answer) -> None:
    from lmcourse.align.grpo import compute_grpo_clip_loss

    gen = torch.Generator().manual_seed(17)
    for eps, spread in ((0.2, 0.3), (0.1, 1.0), (0.5, 0.05)):
        adv = torch.randn(3, 1, generator=gen)
        adv[0] = 0.0  # a group that taught nothing
        old = torch.randn(3, 5, generator=gen) - 2
        lp = old + spread * torch.randn(3, 5, generator=gen)  # moves inside and outside the clip range
        want, _ = compute_grpo_clip_loss(adv, lp, old, eps)
        expect(answer(adv.clone(), lp.clone(), old.clone(), eps), want,
               f"my_grpo_clip_loss on 3 x 5 tokens, eps={eps}", rel_tol=1e-5, abs_tol=1e-6)


EXERCISES = [
    function_exercise("softmax_policy_gradient", "the exact policy gradient of a softmax policy",
                      softmax_policy_gradient, check=_check_softmax_policy_gradient),
    function_exercise("optimal_baseline", "the best constant baseline", optimal_baseline,
                      check=_check_optimal_baseline),
    function_exercise("grpo_clip_loss", "the clipped loss by hand", grpo_clip_loss, check=_check_grpo_clip_loss),
    choice_exercise(
        "wrong_way_move", "does the clip stop a wrong-way move?",
        {"a": "yes: the ratio 1.4 is outside [0.8, 1.2], so the clip removes the token's gradient",
         "b": "no: with A < 0 the min picks the unclipped term 1.4 A, the more pessimistic one, so the token "
              "is still pushed down; the clip only stops moves already made in the favoured direction",
         "c": "no: the clip never removes a gradient, it only rescales the loss value"},
        "b",
        "min(ρA, clip(ρ)A) with A = -1 is min(-1.4, -1.2) = -1.4, the unclipped term, whose gradient is "
        "nonzero. Had A been +1, min(1.4, 1.2) = 1.2 is the clipped constant and the gradient would vanish: "
        "PPO's clip stops improvements beyond 1 + eps, never corrections."),
]

WARM_UP = [
    choice("You cannot differentiate through the act of sampling a token. How can you still get the "
           "gradient of the expected reward of a sampled answer?",
           ["you cannot; RL needs a differentiable reward",
            "weight the gradient of the sample's log-probability by its reward, and average over samples",
            "differentiate the reward with respect to the token ids"],
           "b", "The log-derivative trick: grad E[R] = E[R grad log pi(a)]. Only the policy's "
                "log-probability is differentiated, never the reward."),
    open_question("A policy earns reward 1 on its right answers and 0 on the wrong ones. What does a "
                  "wrong sample teach it under the naive policy gradient?",
                  "Nothing: its weight is its reward, 0. Only right samples move the policy, towards "
                  "themselves, as in SFT on its own correct answers. A baseline gives wrong samples a "
                  "negative weight."),
]

QUIZ = [
    choice("Subtracting a baseline b from the reward in the policy gradient:",
           ["biases the gradient towards actions with reward above b",
            "leaves the gradient's expectation unchanged and can cut its variance a lot",
            "is only valid when b is the true expected reward"],
           "b", "E[b grad log pi] = b grad sum pi = 0 for any b that does not depend on the action; the "
                "chapter measures both means equal and the variance cut by over ten times."),
    choice("On-policy (ratio exactly 1), how do the gradients of GRPO-clip and REINFORCE with the same "
           "advantages compare?",
           ["GRPO-clip's is smaller, because of the clip", "they are equal",
            "they have opposite signs"],
           "b", "At rho = 1 the clip is inactive and d(rho A)/d log pi = A, the REINFORCE weight; the "
                "chapter checks the two gradients agree to 1e-6."),
    choice("Off-policy, a token with positive advantage has ratio rho = 1.5 and the clip range is 0.2. "
           "What gradient does the clipped objective give it?",
           ["the full gradient A", "zero: it is already 1.2 times as likely, and the clip flattens the objective",
            "a negative gradient"],
           "b", "For A > 0 the objective is flat beyond 1 + epsilon, so a token already made much more "
                "likely gets no further push; that is what keeps reused rollouts from moving the policy far."),
    choice("In the chapter's toy, the three losses were trained once each, with one seed. What can that "
           "comparison tell you?",
           ["which loss is best on such tasks",
            "that all three can raise the reward here, but not how they rank: one seed cannot separate them",
            "that the baseline does not matter"],
           "b", "Run-to-run variation on a toy is as large as the differences; the variance measured "
                "directly on the gradient is the sturdier evidence."),
    open_question("Why is a language model answering a prompt with one final reward often treated as a "
                  "contextual bandit rather than a full RL problem?",
                  "The prompt is the context, the whole response is one action, and the reward arrives once "
                  "at the end with no environment reacting in between; the per-token view is only how the "
                  "action's log-probability is computed."),
]
