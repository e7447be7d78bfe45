"""Chapter 16 (RLVR and GRPO): the exercises' references and checks."""

from __future__ import annotations

import torch

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise
from lmcourse.exercises.study import choice, open_question


def group_advantages(rewards, group_size, normalize_by_std):
    r = torch.tensor(rewards, dtype=torch.float32).view(-1, group_size)  # one row per prompt
    # The baseline is the mean of the whole group, the response's own reward included (leaving it
    # out is a different estimator, RLOO's). Dividing by the group's std reweights prompts: it is
    # GRPO's choice, and a bias towards very easy and very hard prompts that Dr. GRPO drops.
    a = r - r.mean(1, keepdim=True)
    if normalize_by_std:
        a = a / (r.std(1, keepdim=True) + 1e-6)  # unbiased sample std, plus eps for all-equal groups
    return a.reshape(-1)


def _check_group_advantages(answer) -> None:
    from lmcourse.align.grpo import compute_group_normalized_rewards

    gen = torch.Generator().manual_seed(16)
    groups = [(torch.randint(0, 2, (24,), generator=gen).float().tolist(), 6),
              (torch.rand(12, generator=gen).tolist(), 4),  # rewards that are not 0/1
              ([1.0, 0.0], 2), ([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0], 4),  # the second group all equal
              ([0.5, 0.5, 0.5], 3)]
    for rewards, size in groups:
        for by_std in (True, False):
            want, _, _ = compute_group_normalized_rewards(lambda s, g: {"reward": float(s)}, rewards,
                                                          [""] * len(rewards), size, 1e-6, by_std)
            got = answer(list(rewards), size, by_std)
            shown = ", ".join(f"{x:.2g}" for x in rewards[:8]) + (", ..." if len(rewards) > 8 else "")
            call = f"my_group_advantages([{shown}], {size}, {by_std})"
            try:
                got = torch.as_tensor(got, dtype=torch.float32).reshape(-1)
            except (TypeError, ValueError, RuntimeError):
                raise Mismatch(f"{call}: expected a tensor or list of {len(rewards)} numbers, got {got!r}") from None
            expect(got, want, call, rel_tol=1e-4, abs_tol=1e-5)


def length_bias_ratio(L1, L2, normalization):
    # "mean": each token weighs 1/L of its own response, so the ratio is (1/L1) / (1/L2) = L2 / L1;
    # "constant": every token weighs 1/C, the same for both.
    return L2 / L1 if normalization == "mean" else 1.0


def _check_length_bias_ratio(answer) -> None:
    from lmcourse.align.grpo import grpo_microbatch_train_step

    for L1, L2 in ((3, 12), (10, 5), (7, 7), (1, 12)):
        for norm in ("mean", "constant"):
            mask = torch.zeros(2, 12, dtype=torch.bool)
            mask[0, :L1], mask[1, :L2] = True, True
            logp = torch.zeros(2, 12, requires_grad=True)
            grpo_microbatch_train_step(logp, mask, 1, "reinforce_with_baseline", advantages=torch.ones(2, 1),
                                       length_normalization=norm, normalize_constant=12)
            measured = (logp.grad[0, 0] / logp.grad[1, 0]).item()  # the package's gradients, per token
            expect(answer(L1, L2, norm), measured, f"my_length_bias_ratio({L1}, {L2}, {norm!r})", rel_tol=1e-5)


def _hack_truths():
    """The ground truths the check tries: the integers from -100 to 1000 and the proper fractions
    a/b with b <= 9, written both as `a/b` and as `\\frac{a}{b}`."""
    fractions = [(a, b) for b in range(2, 10) for a in range(1, b)]
    return ([str(n) for n in range(-100, 1001)] + [f"{a}/{b}" for a, b in fractions]
            + [f"\\frac{{{a}}}{{{b}}}" for a, b in fractions])


def hack():
    # One response, the same whatever the question: list every candidate answer with no answer tags.
    # The substring grader finds the truth somewhere in it, the strict one finds no <answer> at all.
    # A policy trained on the lenient grader would learn to enumerate answers instead of solving.
    fractions = [(a, b) for b in range(2, 10) for a in range(1, b)]
    candidates = ([str(n) for n in range(-100, 1001)] + [f"{a}/{b}" for a, b in fractions]
                  + [f"\\frac{{{a}}}{{{b}}}" for a, b in fractions])
    return "<think>not sure</think> maybe " + " or ".join(candidates)


def _check_hack(answer) -> None:
    from lmcourse.align.rewards import r1_zero_reward_fn

    response = answer()
    if not isinstance(response, str):
        raise Mismatch(f"my_hack(): expected a string (a response), got {response!r}")
    for truth in _hack_truths():
        if truth not in response:  # the chapter's lenient grader: the ground truth appears anywhere
            raise Mismatch(f"my_hack(): the lenient grader gives 0 when the ground truth is {truth!r}: "
                           f"the response does not contain it (it starts {response[:80]!r})")
        if r1_zero_reward_fn(response, truth)["reward"] != 0:
            raise Mismatch(f"my_hack(): expected r1_zero_reward_fn to give 0, but it gives 1 when the ground "
                           f"truth is {truth!r}: that answers the question rather than hacking the grader")


EXERCISES = [
    function_exercise("group_advantages", "advantages by hand", group_advantages, check=_check_group_advantages),
    function_exercise("length_bias_ratio", "the size of the length bias", length_bias_ratio,
                      check=_check_length_bias_ratio),
    function_exercise("hack", "hack the grader", hack, check=_check_hack),
    choice_exercise(
        "lenient_grader", "what a lenient grader teaches",
        {"a": "little harm: the right number must still appear, so the policy still learns to solve problems",
         "b": "it is hacked at once: listing many candidates collects the reward without solving anything, "
              "so RL learns to enumerate answers instead of reasoning",
         "c": "it is too strict: it marks right answers in unusual notation as wrong"},
        "b",
        "RL optimises exactly the reward it is given. A substring test is maximised by the cheapest string "
        "containing every plausible answer, which the policy finds long before it learns arithmetic; "
        "R1-Zero used strict rule-based rewards (and no neural reward model) for this reason."),
]

WARM_UP = [
    choice("A reward model trained on human preferences scores a policy's answers, and the policy is "
           "optimised hard against it. What is the danger?",
           ["the policy becomes too cautious",
            "the policy finds answers the reward model scores highly but people would not (reward hacking)",
            "the reward model forgets its training data"],
           "b", "A learned reward is a proxy with blind spots; a reward a program computes, such as a "
                "checked final answer, leaves far fewer to exploit."),
    open_question("Four answers to one maths problem score 1, 0, 1, 0. Without any value model, how could "
                  "you tell which of them to make more likely?",
                  "Compare each with the group's mean, 0.5: the right ones are above it (+0.5), the wrong "
                  "ones below (-0.5). That is GRPO's group-normalised advantage, before the division by "
                  "the standard deviation."),
]

QUIZ = [
    choice("Why does GRPO need no value model?",
           ["its rewards are always 0 or 1",
            "the baseline is the mean reward of several samples for the same prompt",
            "it uses the reference model as the value model"],
           "b", "Sampling a group per prompt gives a baseline for free, so the value model goes. The learned "
                "reward model goes too, but that saving is RLVR's (a program gives the reward), not GRPO's."),
    choice("Every response in a group of 8 gets reward 1. What does GRPO learn from that group?",
           ["a strong push towards all eight", "nothing: every advantage is zero",
            "a push away from the longest response"],
           "b", "Advantages are rewards minus the group mean, so a group that all agrees carries no "
                "gradient; the worked problem counts how many such groups a run produces."),
    choice("With the per-response mean over tokens, a wrong 4-token answer and a wrong 16-token answer "
           "share the same negative advantage. Which gets the larger push down per token?",
           ["the 16-token answer", "the 4-token answer, four times larger", "both the same"],
           "b", "Dividing by the response's own length shrinks each token's share in long responses, so "
                "long wrong answers are punished less: the length bias Dr. GRPO removes with a constant."),
    choice("Why prefer the k3 estimator of KL(pi || ref) to k1 = log(pi/ref) on samples from pi?",
           ["k3 is unbiased and k1 is not",
            "both are unbiased, but k3 is never negative and has far lower variance near the reference",
            "k3 needs no samples"],
           "b", "The chapter measures both: the same mean, k1 negative on a large share of samples, k3 "
                "never, with a fraction of the spread."),
    choice("The toy takes one optimiser step per batch of rollouts. What does GRPO's clipping do then?",
           ["it limits every update to a ratio of 1.2",
            "nothing: the ratio to the sampling policy is exactly 1 at that step, inside the clip range",
            "it removes the rollouts with negative advantage"],
           "b", "The clip only acts when rollouts are reused for several steps (off-policy); with one step "
                "per batch, GRPO-clip's loss is the plain policy gradient with group advantages."),
]
