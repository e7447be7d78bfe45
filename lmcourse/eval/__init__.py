"""Evaluation (chapter 12): perplexity and bits per byte, benchmark harnesses, answer parsers,
generated benchmark tasks with loaders for the real files, and train-test contamination checks.

- `perplexity`: sliding-window negative log-likelihood of long text, perplexity, bits per byte
- `tasks`: MMLU- and GSM8K-format items generated from seeds, split into disjoint train and test
  parts by construction (`split_of`); `load_mmlu_csv`, `load_gsm8k_jsonl`
- `harness`: prompt formats, option log-likelihoods (letter or cloze, length-normalised), greedy generation
- `parsing`: `parse_mmlu_response`, `parse_gsm8k_response` (the CS336 assignment's conventions)
- `contamination`: word n-gram overlap between a benchmark and a training corpus
"""

from lmcourse.eval.contamination import ContaminationReport, contamination_report
from lmcourse.eval.harness import (PROMPT_FORMATS, GenerativeResult, MCResult, PromptFormat,
                                   continuation_log_likelihoods, evaluate_generative, evaluate_multiple_choice,
                                   format_math_prompt, format_mc_prompt, generate_completions)
from lmcourse.eval.parsing import parse_gsm8k_response, parse_mmlu_response
from lmcourse.eval.perplexity import TextScore, bits_per_byte, evaluate_text, sequence_nll, sliding_windows
from lmcourse.eval.tasks import (LETTERS, SPLITS, SUBJECTS, MathExample, MCExample, load_gsm8k_jsonl, load_mmlu_csv,
                                 make_mc_questions, make_word_problems, split_of)

__all__ = [
    "ContaminationReport", "contamination_report",
    "PROMPT_FORMATS", "GenerativeResult", "MCResult", "PromptFormat", "continuation_log_likelihoods",
    "evaluate_generative", "evaluate_multiple_choice", "format_math_prompt", "format_mc_prompt",
    "generate_completions",
    "parse_gsm8k_response", "parse_mmlu_response",
    "TextScore", "bits_per_byte", "evaluate_text", "sequence_nll", "sliding_windows",
    "LETTERS", "SPLITS", "SUBJECTS", "MathExample", "MCExample", "load_gsm8k_jsonl", "load_mmlu_csv",
    "make_mc_questions", "make_word_problems", "split_of",
]
