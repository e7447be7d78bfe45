"""Alignment (chapters 15-17): supervised fine-tuning, preference optimization, RL with verifiable rewards.

- `sft`: prompt/response tokenization with a response mask, packed SFT data, masked means, entropy,
  response log-probabilities and the SFT micro-batch step (CS336 assignment 5 conventions).
- `dpo`: DPO (batched and per instance) from the Bradley-Terry model, and SimPO.
- `grpo`: group-normalized rewards, REINFORCE with and without a baseline, the GRPO clipped loss,
  KL estimators and the length-normalization choices (per-sequence mean vs Dr. GRPO's constant).
- `rewards`: exact-answer and format rewards (think/answer tags) and a math answer normalizer.
- `rlvr`: a verifiable task the package generates (adding small numbers), rollouts, and a GRPO loop
  whose reward rises within seconds on a CPU.
Import the modules directly (`from lmcourse.align.grpo import ...`).
"""
