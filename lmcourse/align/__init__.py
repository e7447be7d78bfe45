"""Alignment (chapters 15-17): supervised fine-tuning, preference optimization, RL with verifiable rewards.

- `sft`: prompt/response tokenization with a response mask, packed SFT data, masked means, entropy,
  response log-probabilities and the SFT micro-batch step (CS336 assignment 5 conventions).
- `dpo`: DPO (batched and per instance) from the Bradley-Terry model, and SimPO.
- `grpo`: group-normalized rewards, REINFORCE with and without a baseline, the GRPO clipped loss,
  KL estimators and the length-normalization choices (per-sequence mean vs Dr. GRPO's constant).
- `rewards`: exact-answer and format rewards (think/answer tags) and a math answer normalizer.
- `rlvr`: a verifiable task the package generates (adding small numbers), rollouts, and a GRPO loop
  whose reward rises within seconds on a CPU (chapters 16-17's lab).
"""

from lmcourse.align.dpo import dpo_loss, per_instance_dpo_loss, sequence_log_prob, simpo_loss
from lmcourse.align.grpo import (LOSS_TYPES, compute_group_normalized_rewards, compute_grpo_clip_loss,
                                 compute_naive_policy_gradient_loss, compute_policy_gradient_loss,
                                 grpo_microbatch_train_step, kl_k1, kl_k3)
from lmcourse.align.rewards import answer_reward, extract_answer, format_reward, normalize_math_answer, r1_zero_reward_fn
from lmcourse.align.rlvr import (RLVRConfig, accuracy, grpo_step, make_policy, make_problems, sample_rollouts,
                                 sft_warm_start, train_rlvr)
from lmcourse.align.sft import (PackedSFTDataset, compute_entropy, end_token_id, get_response_log_probs, iterate_batches,
                                masked_mean, masked_normalize, sft_microbatch_train_step, tokenize_prompt_and_output)

__all__ = [
    "end_token_id", "tokenize_prompt_and_output", "masked_mean", "masked_normalize", "compute_entropy",
    "get_response_log_probs", "sft_microbatch_train_step", "PackedSFTDataset", "iterate_batches",
    "dpo_loss", "per_instance_dpo_loss", "sequence_log_prob", "simpo_loss",
    "LOSS_TYPES", "compute_group_normalized_rewards", "compute_naive_policy_gradient_loss", "compute_grpo_clip_loss",
    "compute_policy_gradient_loss", "grpo_microbatch_train_step", "kl_k1", "kl_k3",
    "normalize_math_answer", "extract_answer", "format_reward", "answer_reward", "r1_zero_reward_fn",
    "RLVRConfig", "make_problems", "make_policy", "sample_rollouts", "grpo_step", "sft_warm_start", "train_rlvr",
    "accuracy",
]
