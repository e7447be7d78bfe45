"""lmcourse_glossary: the book's glossary, each term linked to the section that teaches it.

`book/glossary.md` holds one ```{lmcourse-glossary}``` directive; this extension renders `TERMS` as
a Sphinx glossary (so the search ranks a term's entry first: searching "RoPE" leads to RoPE, not to
"properly"), each entry with the notation the chapters use, a number computed by the package where
the term has one (at build time, so it cannot drift from the chapters), and a link to the section
that teaches it. The links are resolved after reading, from the target chapter's own section
titles: a renamed section fails the build (-W) instead of leaving a dead link.

Left out: an index of every occurrence (Sphinx's genindex does that for the terms themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

__all__ = ["TERMS", "Term", "setup"]


@dataclass(frozen=True)
class Term:
    names: tuple[str, ...]  # the term and its other names: each is an index entry the search matches exactly
    chapter: str  # the chapter file's stem, e.g. "03_architectures_hyperparameters"
    section: str  # the title of the section that teaches it, exactly as the chapter writes it
    text: str  # MyST: the definition and the book's notation
    example: Callable[[], str] | None = None  # MyST: a number the package computes


def _kv_cache() -> str:
    from lmcourse.accounting import PRESETS, kv_cache_bytes_per_token

    llama2, llama3 = (kv_cache_bytes_per_token(PRESETS[name], "bf16") for name in ("llama2-7b", "llama3-8b"))
    return (f"Llama-2-7B (32 layers, 32 KV heads of 128) keeps {llama2:,} bytes per token in bf16, "
            f"{llama2 * 4096 / 1e9:.1f} GB for one 4,096-token sequence; Llama-3-8B's GQA (8 KV heads) "
            f"keeps {llama3:,}.")


def _ridge() -> str:
    from lmcourse.accounting import GPUS, ridge_point

    h100 = GPUS["H100-80GB"]
    return (f"An H100's ridge point in bf16 is {ridge_point(h100, 'bf16'):.0f} FLOPs per byte "
            f"({h100.peak('bf16') / 1e12:.1f} TFLOP/s over {h100.bandwidth / 1e12:.2f} TB/s).")


def _mixed() -> str:
    from lmcourse.accounting import model_state_bytes

    state = model_state_bytes(1, "bf16-mixed", "adamw")
    return (f"With AdamW, mixed precision keeps {state.total:g} bytes per parameter: {state.parameters:g} (bf16 "
            f"weights) + {state.gradients:g} (bf16 gradients) + {state.master_weights:g} (fp32 master) + "
            f"{state.optimizer_state:g} (fp32 m and v).")


def _gpt2_params() -> str:
    from lmcourse.accounting import PRESETS, count_parameters

    counts = count_parameters(PRESETS["gpt2-small"])
    return f"GPT-2 small: {counts.total:,} parameters, {counts.non_embedding:,} of them outside the embeddings."


def _six_nd() -> str:
    from lmcourse.accounting import training_flops

    return (f"Chinchilla (70B parameters, 1.4T tokens): 6 × 7e10 × 1.4e12 = {training_flops(7e10, 1.4e12):.2g} "
            f"FLOPs.")


def _chinchilla() -> str:
    from lmcourse.scaling import CHINCHILLA

    return (f"The published fit is L(N, D) = {CHINCHILLA.E} + {CHINCHILLA.A}/N^{CHINCHILLA.alpha} + "
            f"{CHINCHILLA.B}/D^{CHINCHILLA.beta}; by the rule of thumb a 7B model wants about "
            f"{20 * 7e9:.2g} tokens.")


def _zero() -> str:
    from lmcourse.accounting import zero_memory

    per_stage = ", ".join(f"{zero_memory(7.5e9, 64, s).total / 1e9:.1f}" for s in range(4))
    return f"7.5B parameters on 64 GPUs (the ZeRO paper's example), stages 0–3: {per_stage} GB per GPU."


def _bubble() -> str:
    from lmcourse.parallel import gpipe_bubble

    return (f"4 stages and 8 microbatches idle {gpipe_bubble(4, 8):.0%} of the time; 32 microbatches, "
            f"{gpipe_bubble(4, 32):.0%}.")


def _speculative() -> str:
    from lmcourse.accounting import expected_tokens_per_call

    return (f"With acceptance rate α = 0.8 and γ = 4 drafted tokens, each call of the big model yields "
            f"{expected_tokens_per_call(0.8, 4):.2f} tokens on average.")


def _lsh() -> str:
    from lmcourse.data import lsh_threshold

    return f"16 bands of 8 rows (128 hash functions) put the threshold at Jaccard ≈ {lsh_threshold(16, 8):.2f}."


def _bloom() -> str:
    from lmcourse.data import bits_for, optimal_num_hashes

    bits = bits_for(1_000_000, 0.01)
    return (f"A million items at a 1% false-positive rate need {bits:,} bits ({bits / 8e6:.1f} MB) and "
            f"{optimal_num_hashes(bits, 1_000_000)} hash functions.")


def _perplexity() -> str:
    import math

    return f"A loss of 3.0 nats per token is a perplexity of e³ = {math.exp(3.0):.1f}."


CH1, CH2, CH3, CH4 = "01_overview_tokenization", "02_pytorch_resource_accounting", \
    "03_architectures_hyperparameters", "04_mixture_of_experts"
CH5, CH6, CH7, CH8 = "05_gpus", "06_kernels_triton", "07_data_parallelism", "08_model_parallelism"
CH9, CH10, CH11, CH12 = "09_scaling_laws", "10_inference", "11_scaling_mup", "12_evaluation"
CH13, CH14, CH15, CH16, CH17 = "13_data_sources", "14_filtering_deduplication", "15_sft_rlhf", "16_rlvr_grpo", \
    "17_policy_gradient"

TERMS = [
    Term(("BPE", "byte-pair encoding"), CH1, "Why bytes, and why merge them",
         "A tokenizer trained by repeatedly merging the most frequent adjacent pair of tokens, starting from the "
         "256 bytes; the merges, applied in the order learned, encode new text. Training and encoding are "
         "different algorithms: encoding never recounts pairs."),
    Term(("pre-tokenization",), CH1, "Pre-tokenization and special tokens",
         "Splitting text into chunks (GPT-2's regex: words with their leading space, numbers, punctuation runs) "
         "before BPE, so no merge crosses a chunk boundary."),
    Term(("compression ratio", "bytes per token"), CH1, "How much does BPE compress?",
         "UTF-8 bytes of a text divided by the tokens it encodes to; higher means shorter sequences."),
    Term(("FLOPs", "FLOP/s"), CH2, "Counting FLOPs",
         "FLOPs count floating-point operations (work); FLOP/s is a rate (speed). A matmul of "
         "$(m \\times k)(k \\times n)$ costs $2mkn$ FLOPs."),
    Term(("6ND",), CH2, "Why the backward pass costs twice the forward",
         "Training FLOPs ≈ 6 × parameters N × tokens D: 2 per parameter per token forward, 4 backward.",
         _six_nd),
    Term(("MFU", "model FLOPs utilization"), CH2, "From FLOPs to seconds: FLOP/s and MFU",
         "The FLOP/s a training run's model arithmetic achieves divided by the hardware's peak; 40–50% is good "
         "for a large dense model."),
    Term(("mixed precision", "master weights"), CH2, "Mixed precision",
         "Matmuls and activations in bf16 (or fp16), with an fp32 master copy of the weights and fp32 optimizer "
         "state so small updates are not rounded away.", _mixed),
    Term(("parameter count",), CH2, "Parameters and initialisation",
         "Every weight the model learns; the book's `count_parameters` follows `TransformerLM` exactly.",
         _gpt2_params),
    Term(("activation checkpointing",), CH2, "Memory of a Transformer, and what fits on a GPU",
         "Keeping only each block's input during the forward pass and recomputing the rest in the backward "
         "pass: about a third more compute for much less activation memory."),
    Term(("pre-norm", "post-norm"), CH3, "Where the norm goes: pre-norm and post-norm",
         "Where the normalisation sits in a residual block: pre-norm $x + f(\\mathrm{norm}(x))$ (today's default, "
         "stable without warmup) or post-norm $\\mathrm{norm}(x + f(x))$ (the 2017 Transformer)."),
    Term(("RMSNorm", "LayerNorm"), CH3, "RMSNorm, LayerNorm and biases: FLOPs are not runtime",
         "LayerNorm without the mean subtraction and bias: $x / \\mathrm{rms}(x) \\cdot g$."),
    Term(("SwiGLU",), CH3, "The feed-forward network: activations and gates",
         "A gated feed-forward layer, $W_2(\\mathrm{SiLU}(W_1 x) \\odot W_3 x)$, with $d_{ff} \\approx "
         "\\tfrac{8}{3} d_\\text{model}$ so its three matrices cost what two would."),
    Term(("RoPE", "rotary position embeddings"), CH3, "Positions: from sinusoids to rotations",
         "Positions encoded by rotating each pair of query and key dimensions by an angle proportional to the "
         "position, so attention scores depend only on relative position."),
    Term(("z-loss",), CH3, "z-loss for the output softmax",
         "A penalty $10^{-4} \\log^2 Z$ on the output softmax's normaliser $Z$ that keeps $\\log Z$ near 0; "
         "its gradient, $2 \\log Z$ times the probabilities, lowers each logit in proportion to its "
         "probability, so it also flattens the softmax a little."),
    Term(("GQA", "MQA", "MHA", "grouped-query attention", "multi-query attention"), CH3, "Attention heads for inference: MQA, GQA and sliding windows",
         "Multi-head attention has a key and value head per query head; multi-query attention shares one; "
         "grouped-query attention shares each among a group. Fewer KV heads shrink the KV cache."),
    Term(("MoE", "mixture of experts"), CH4, "Why mixture of experts?",
         "A feed-forward layer made of many experts of which a router picks a few per token: more parameters "
         "at the same FLOPs per token."),
    Term(("top-k routing", "router"), CH4, "Routing: which experts does a token use?",
         "The router scores every expert for a token and keeps the $k$ best, weighting their outputs by the "
         "gate values."),
    Term(("load-balancing loss",), CH4, "The Switch load-balancing loss",
         "An auxiliary loss $N \\sum_i f_i P_i$ (fraction of tokens routed to expert $i$ times its mean router "
         "probability) that is smallest when tokens spread evenly."),
    Term(("expert parallelism", "all-to-all"), CH4, "Systems: expert parallelism and all-to-all",
         "Experts placed on different GPUs; an all-to-all sends each token to its experts' GPUs and back."),
    Term(("arithmetic intensity", "ridge point"), CH5, "Arithmetic intensity and the roofline",
         "FLOPs per byte moved to and from memory; below the GPU's ridge point an operation is memory-bound.",
         _ridge),
    Term(("roofline", "memory-bound", "compute-bound"), CH5, "Arithmetic intensity and the roofline",
         "Attainable FLOP/s = min(peak, intensity × bandwidth): a plot that says whether memory or compute "
         "bounds an operation."),
    Term(("tiling",), CH5, "Tiling: reuse what is already on chip",
         "Computing on blocks that fit in fast on-chip memory so each value read from HBM is reused many times."),
    Term(("kernel fusion", "fusion"), CH6, "Kernel fusion",
         "Doing several elementwise steps in one kernel, so intermediates stay in registers instead of making "
         "a round trip through HBM."),
    Term(("Triton",), CH6, "Triton's programming model",
         "A Python language for GPU kernels written per block of a tensor rather than per thread."),
    Term(("FlashAttention", "online softmax"), CH6, "FlashAttention-2",
         "Exact attention computed tile by tile with an online softmax, never writing the $n \\times n$ score "
         "matrix to HBM; the backward pass recomputes it."),
    Term(("DDP", "data parallelism"), CH7, "Data parallelism is SPMD",
         "Every GPU holds the whole model, runs a different slice of the batch, and all-reduces the gradients."),
    Term(("ZeRO", "FSDP"), CH7, "ZeRO: sharding the redundant state",
         "Sharding the optimizer state (stage 1), gradients (2) and parameters (3, FSDP) across the "
         "data-parallel GPUs instead of replicating them.", _zero),
    Term(("critical batch size",), CH7, "Batch size is a resource",
         "The batch size past which a larger batch stops saving optimisation steps, so more data-parallel GPUs "
         "stop helping."),
    Term(("all-reduce", "reduce-scatter", "all-gather", "collective"), CH8, "Processes, ranks and the collective vocabulary",
         "Collectives: all-reduce leaves every rank with the sum of all ranks' tensors; reduce-scatter leaves "
         "each rank one shard of the sum; all-gather collects every rank's shard on every rank. An all-reduce is "
         "a reduce-scatter followed by an all-gather."),
    Term(("tensor parallelism",), CH8, "Tensor parallelism",
         "Splitting each weight matrix across GPUs (columns, then rows) so a layer's matmuls run in pieces; "
         "needs fast links, as every layer communicates activations."),
    Term(("pipeline parallelism", "pipeline bubble"), CH8, "Pipeline parallelism",
         "Layers split into stages on different GPUs with microbatches flowing through; the bubble, "
         "$(p - 1)/(m + p - 1)$ of the time for $p$ stages and $m$ microbatches, is idle.", _bubble),
    Term(("scaling law", "power law"), CH9, "Why power laws?",
         "A power law $L = E + A x^{-\\alpha}$ fitted on small runs that predicts the loss of larger ones."),
    Term(("Chinchilla", "compute-optimal", "20 tokens per parameter"), CH9, "The published law and 20 tokens per parameter",
         "Hoffmann et al. (2022): for a fixed compute budget, grow parameters and tokens together, about 20 "
         "tokens per parameter.", _chinchilla),
    Term(("IsoFLOP", "IsoFLOP profile"), CH9, "Approach 2: IsoFLOP profiles",
         "Final loss against model size at a fixed compute budget: a valley whose minimum is that budget's "
         "best model size."),
    Term(("prefill", "decode"), CH10, "Prefill and decode on the roofline",
         "Prefill processes the prompt's tokens in parallel (compute-bound); decode generates one token at a "
         "time per sequence (memory-bound: every weight is read for a few tokens)."),
    Term(("KV cache",), CH10, "The KV cache",
         "The keys and values of past tokens, kept so each decode step attends to them without recomputing; "
         "$2 \\times$ layers $\\times$ KV heads $\\times$ head dimension values per token.", _kv_cache),
    Term(("speculative decoding", "speculative sampling"), CH10, "Speculative sampling",
         "A small draft model proposes γ tokens and the large model checks them in one pass, accepting each "
         "with probability $\\min(1, p/q)$: the output distribution is exactly the large model's.",
         _speculative),
    Term(("PagedAttention", "paged KV cache", "continuous batching"), CH10, "Serving many requests: paged KV cache and continuous batching",
         "The KV cache stored in fixed-size blocks allocated as a sequence grows, so memory is not reserved "
         "for the longest possible request."),
    Term(("μP", "muP", "maximal update parametrization"), CH11, "Why the best learning rate moves",
         "Scaling initialisation and per-layer learning rates with width so the best learning rate found on a "
         "small model carries over to a wide one."),
    Term(("WSD", "warmup-stable-decay"), CH11, "Warmup-stable-decay: many Chinchilla points from one run",
         "A schedule that holds the learning rate constant and decays it only at the end, so one run can be "
         "branched into several training lengths."),
    Term(("perplexity", "bits per byte"), CH12, "Perplexity and bits per byte",
         "$e^{\\text{loss}}$ for a loss in nats per token; bits per byte divides by the bytes instead, so "
         "tokenizers can be compared.", _perplexity),
    Term(("contamination",), CH12, "Train-test contamination",
         "Test examples that appear in the training data, inflating scores; found by n-gram overlap."),
    Term(("Common Crawl", "WARC", "WET"), CH13, "Common Crawl",
         "Common Crawl's monthly web snapshots: WARC files hold the raw HTTP responses, WET files their "
         "extracted text."),
    Term(("MinHash", "Jaccard similarity"), CH14, "MinHash",
         "A signature of a document's shingle set whose entries agree between two documents with probability "
         "equal to their Jaccard similarity."),
    Term(("LSH", "locality-sensitive hashing"), CH14, "Locality-sensitive hashing",
         "MinHash signatures cut into $b$ bands of $r$ rows; documents sharing any band become candidates, a "
         "sharp S-curve with threshold $(1/b)^{1/r}$.", _lsh),
    Term(("Bloom filter",), CH14, "Bloom filters",
         "A bit array with $k$ hash functions that answers set membership with no false negatives and a "
         "tunable false-positive rate.", _bloom),
    Term(("DSIR", "importance resampling"), CH14, "Importance resampling: DSIR",
         "Selecting raw documents with probability proportional to their likelihood ratio under target and raw "
         "n-gram models."),
    Term(("SFT", "supervised fine-tuning"), CH15, "Supervised fine-tuning in code",
         "Training on prompt–response pairs with the loss only on the response tokens."),
    Term(("RLHF", "PPO", "reward model"), CH15, "The RLHF objective and PPO",
         "Maximising a learned reward model's score minus a KL penalty to the reference model, classically "
         "with PPO."),
    Term(("DPO", "direct preference optimization", "Bradley–Terry"), CH15, "DPO, derived",
         "Fitting preference pairs directly with the loss $-\\log \\sigma(\\beta \\log \\frac{\\pi(y_w)}{\\pi_\\text{ref}"
         "(y_w)} - \\beta \\log \\frac{\\pi(y_l)}{\\pi_\\text{ref}(y_l)})$, the RLHF objective's closed-form policy "
         "plugged into the Bradley–Terry model."),
    Term(("GRPO", "group-normalized advantage"), CH16, "GRPO's group-normalized advantage",
         "Policy optimisation without a value model: sample a group of answers per prompt and use each answer's "
         "reward minus the group mean, divided by the group's standard deviation, as its advantage."),
    Term(("policy gradient", "REINFORCE"), CH17, "The log-derivative trick",
         "$\\nabla_\\theta \\mathbb{E}[R] = \\mathbb{E}[R \\, \\nabla_\\theta \\log \\pi_\\theta(y)]$: the gradient of "
         "an expected reward, estimated from samples."),
    Term(("baseline", "advantage"), CH17, "Variance and baselines",
         "A value subtracted from the reward in the policy gradient; one that does not depend on the sampled "
         "answer leaves the gradient unbiased and can cut its variance."),
]


class section_link(nodes.Inline, nodes.Element):
    """Placeholder for the link to (chapter, section), resolved once every chapter is read."""


class GlossaryDirective(SphinxDirective):
    has_content = False

    def run(self):
        lines = [":::{glossary}", ":sorted:", ""]
        for term in TERMS:
            example = f" {term.example()}" if term.example else ""
            lines += [*term.names,
                      f"  {term.text}{example} *Taught in:* {{lmcourse-section}}`{term.chapter}|{term.section}`", ""]
        lines.append(":::")
        box = nodes.container()
        self.state.nested_parse(StringList(lines, source="lmcourse_glossary"), self.content_offset, box)
        return box.children


def _section_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    chapter, _, title = text.partition("|")
    return [section_link(chapter=chapter, title=title)], []


def _plain(node) -> str:
    """A title's text as the chapter's source writes it (Sphinx's smart quotes undone)."""
    text = node.astext().translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'}))
    return " ".join(text.split())


def _resolve(app, doctree, docname) -> None:
    for link in list(doctree.findall(section_link)):
        target = f"book/{link['chapter']}"
        found = None
        if target in app.env.all_docs:
            for section in app.env.get_doctree(target).findall(nodes.section):
                if _plain(section[0]) == link["title"] and section["ids"]:
                    found = section["ids"][0]
                    break
        if found is None:
            logger.warning(f"glossary: no section {link['title']!r} in {target}", location=link)
            link.replace_self(nodes.Text(link["title"]))
            continue
        chapter_title = _plain(app.env.titles[target])
        uri = app.builder.get_relative_uri(docname, target) + "#" + found
        reference = nodes.reference("", "", refuri=uri, internal=True)
        reference += nodes.Text(f"{chapter_title}, “{link['title']}”")
        link.replace_self(reference)


def setup(app):
    app.add_node(section_link)
    app.add_role("lmcourse-section", _section_role)
    app.add_directive("lmcourse-glossary", GlossaryDirective)
    app.connect("doctree-resolved", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
