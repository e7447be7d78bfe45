"""Chapter 3 (architectures and hyperparameters): the exercises' references and checks."""

from __future__ import annotations

import torch

from lmcourse.exercises import choice_exercise, expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question


def glu_d_ff(d_model: int) -> int:
    # 2 matrices of d x 4d = 8 d^2 parameters; 3 matrices of d x d_ff: d_ff = 8d/3. FLOPs are
    # 2 per weight per token for every matmul, so equal parameters mean equal FFN FLOPs too.
    return 8 * d_model // 3


def _check_glu_d_ff(answer) -> None:
    from lmcourse.accounting import count_parameters, flops_breakdown
    from lmcourse.config import TransformerConfig

    for width in (192, 384, 768, 1536, 3072):
        dense = TransformerConfig(vocab_size=1000, context_length=64, d_model=width, num_layers=2,
                                  num_heads=width // 64, d_ff=4 * width, ffn="gelu")
        d_ff = answer(width)
        expect(d_ff, glu_d_ff(width), f"my_glu_d_ff({width})")
        gated = dense.replace(ffn="swiglu", d_ff=d_ff)
        expect(count_parameters(gated).ffn, count_parameters(dense).ffn, f"FFN parameters at d_model={width}")


def kv_cache() -> tuple[int, float]:
    # Llama-3-8B: 2 (K and V) x 32 layers x 8 KV heads x 128 dimensions x 2 bytes = 131,072 bytes
    # (128 KiB) per token; full multi-head attention would keep all 32 heads: 4 times more.
    # 16e9 / 131,072 is about 122,000 tokens of context.
    from lmcourse.accounting import PRESETS

    llama3 = PRESETS["llama3-8b"]
    return 2 * llama3.num_layers * llama3.kv_heads * llama3.head_dim * 2, llama3.num_heads / llama3.kv_heads


def rope_scores(rope, q: torch.Tensor, k: torch.Tensor, m: int, n: int, shift: int) -> tuple[float, float]:
    # Each pair of dimensions is rotated by an orthogonal 2x2 matrix, so |R x| = |x|. The relative
    # property is R_m^T R_n = R_(n-m): rotations compose by adding angles and R^T = R^-1, the same
    # properties that make them keep lengths; a map that rescaled vectors by position would break it.
    def score(a: int, b: int) -> float:
        return (rope(q[None], torch.tensor([a])) @ rope(k[None], torch.tensor([b])).T).item()

    return score(m, n), score(m + shift, n + shift)


def _check_rope_scores(answer) -> None:
    from lmcourse.nn import RotaryEmbedding

    gen = torch.Generator().manual_seed(3)
    for rope, limit in ((RotaryEmbedding(10000.0, 64, 2048), 1000), (RotaryEmbedding(500.0, 16, 64), 32)):
        cases = [(0, 0, 0), (5, 2, limit - 1), (2, 5, 7)]  # same position, a long shift, and m < n
        cases += [tuple(int(v) for v in torch.randint(0, limit, (3,), generator=gen)) for _ in range(10)]
        for m, n, s in cases:
            q, k = torch.randn(2, rope.d_k, generator=gen).unbind(0)
            got = answer(rope, q, k, m, n, s)
            expect(got, rope_scores(rope, q, k, m, n, s), f"my_rope_scores(rope with d_k={rope.d_k}, q, k, "
                   f"m={m}, n={n}, shift={s})", rel_tol=1e-4, abs_tol=1e-4)


def z_loss_grad(logits: torch.Tensor) -> torch.Tensor:
    # d log Z / d l_i = exp(l_i) / Z = p_i, so by the chain rule d (log Z)^2 / d l_i = 2 log Z p_i:
    # proportional to the probabilities, not the same for every logit. A step against it lowers
    # every logit when log Z > 0, the likelier ones more, so the softmax flattens a little.
    return 2 * torch.logsumexp(logits, dim=-1) * torch.softmax(logits, dim=-1)


def _check_z_loss_grad(answer) -> None:
    gen = torch.Generator().manual_seed(4)
    rows = [torch.randn(50, generator=gen) + 5,  # log Z > 0
            torch.randn(50, generator=gen) * 3 - 10,  # log Z < 0: the gradient raises the logits
            torch.tensor([2.0, 2.0, 2.0, 2.0]),  # uniform: here the gradient is the same for all
            torch.tensor([10.0, 0.0, -3.0]),  # one dominant logit
            torch.tensor([1.5])]  # a single logit: p = 1
    for row in rows:
        logits = row.double().requires_grad_()
        torch.logsumexp(logits, dim=-1).pow(2).backward()
        got = answer(row.double().clone())
        expect(got, logits.grad, f"my_z_loss_grad on a row of {len(row)} logits with log Z = "
               f"{torch.logsumexp(row, -1):.2f}, against autograd", rel_tol=1e-5, abs_tol=1e-8)


def param_count(cfg) -> int:
    d, kv_dim = cfg.d_model, cfg.kv_heads * cfg.head_dim
    attention = 2 * d * d + 2 * d * kv_dim  # q and output projections, smaller k and v with GQA
    ffn = 3 * d * cfg.d_ff  # w1, w2, w3
    norms = 2 * d  # ln1, ln2
    # For Llama-2-70B the blocks (80 x ~0.86B) dwarf the two 0.26B vocabulary matrices; for a small
    # model the embedding and the output head are about half of everything.
    return 2 * cfg.vocab_size * d + cfg.num_layers * (attention + ffn + norms) + d  # + ln_final


def _check_param_count(answer) -> None:
    from lmcourse.accounting import PRESETS, count_parameters
    from lmcourse.config import TransformerConfig
    from lmcourse.nn import TransformerLM

    for name in ("llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b", "mistral-7b"):
        expect(answer(PRESETS[name]), count_parameters(PRESETS[name]).total, f"my_param_count({name!r})")
    for kv_heads in (None, 2, 1):  # MHA, GQA, MQA, counted on a real model
        cfg = TransformerConfig(vocab_size=97, context_length=16, d_model=32, num_layers=3, num_heads=4,
                                d_ff=88, num_kv_heads=kv_heads)
        expect(answer(cfg), TransformerLM.from_config(cfg).num_parameters(),
               f"my_param_count on a small model with num_kv_heads={kv_heads}")


EXERCISES = [
    function_exercise("glu_d_ff", "equal-parameter gated FFN", glu_d_ff, check=_check_glu_d_ff),
    value_exercise("kv_cache", "the KV cache of Llama 3", kv_cache),
    function_exercise("rope_scores", "RoPE, relative and norm-preserving", rope_scores, check=_check_rope_scores),
    function_exercise("z_loss_grad", "the z-loss gradient", z_loss_grad, check=_check_z_loss_grad),
    choice_exercise(
        "z_loss_effect", "what the z-loss does to the prediction",
        {"a": "it lowers every logit by the same amount, so log Z shrinks and the softmax is unchanged",
         "b": "it lowers every logit in proportion to its probability: log Z shrinks, and the likelier "
              "tokens move down more, so the softmax flattens a little",
         "c": "it raises the likeliest logit and lowers the others, so the softmax sharpens",
         "d": "nothing: the gradient sums to zero over the vocabulary"},
        "b", "The gradient 2 log Z * p is not constant across the vocabulary. Only its component along the "
             "all-ones vector (2 log Z / V on every logit) lowers log Z without touching the softmax; the "
             "rest, proportional to p_i - 1/V, narrows the gaps to the likeliest token. With the small "
             "weight (1e-4) and the cross-entropy pulling the other way, the side effect stays small."),
    function_exercise("param_count", "count a model by hand", param_count, check=_check_param_count),
]

# The study devices (lmcourse.exercises.study): before the chapter, and after its summary.
WARM_UP = [
    choice("In a *pre-norm* Transformer block, where does the normalisation sit?",
           ["after the residual addition, on the stream itself",
            "on the input of the attention and feed-forward branches, leaving the stream a plain sum",
            "only once, after the last block",
            "on the output of the branch, before it is added"],
           "b", "Post-norm normalises the sum after each addition; pre-norm normalises only what enters "
                "each branch, so the embeddings reach the final norm untouched."),
    choice("How does RoPE put the position of a token into attention?",
           ["it adds a learned vector to the token's embedding",
            "it rotates each pair of query and key coordinates by an angle proportional to the position",
            "it adds a bias that depends on the distance to each attention score",
            "it multiplies the value vectors by the position"],
           "b", "Rotating both the query and the key makes their dot product depend only on the difference "
                "of the two positions."),
    open_question("A SwiGLU feed-forward network usually takes `d_ff` of about 8/3 x `d_model`, where a GeLU "
                  "one takes 4 x `d_model`. Why that ratio?",
                  "A gated FFN has three weight matrices instead of two; 3 x 8/3 = 2 x 4 = 8, so the "
                  "parameters and FLOPs stay those of the ungated network."),
]

QUIZ = [
    choice("Training a deep model with a high learning rate and no warmup, which norm position would "
           "you expect to stall, and why?",
           ["pre-norm, because its residual stream grows with depth",
            "post-norm, because its top-layer gradients do not shrink with depth, so early steps are large",
            "neither: the norm position only changes the speed of inference",
            "both equally, since they have the same parameters"],
           "b", "The worked problem trains both from the same start: pre-norm keeps learning, post-norm "
                "learns far less in the same steps."),
    choice("A model has `d_model = 4096` and a SwiGLU feed-forward network. Which `d_ff` keeps its "
           "parameters close to those of a GeLU FFN with `d_ff = 16384`?",
           ["4,096", "about 11,000", "16,384", "24,576"],
           "b", "8/3 x 4096 is about 10,923; Llama rounds it up to 11,008, a multiple of 256."),
    choice("RMSNorm saves only a tiny fraction of a Transformer's FLOPs against LayerNorm. Why does it "
           "still make training measurably faster?",
           ["it has more parameters to learn",
            "normalisations are memory-bound, so an operation with fewer reads and writes saves time out of "
            "proportion to its FLOPs",
            "it removes the need for a final norm",
            "it runs on the GPU's matrix units"],
           "b", "Elementwise operations spend their time moving data, not computing; FLOPs are not runtime."),
    choice("Llama 2 70B uses 64 query heads and 8 key/value heads (GQA). How large is its KV cache "
           "relative to full multi-head attention with 64 key/value heads?",
           ["the same", "one half", "one eighth", "one sixty-fourth"],
           "c", "The cache stores one key and one value per key/value head: 8 heads instead of 64."),
    choice("What does the z-loss penalise?",
           ["the squared log of the output softmax's normaliser, so the logits do not drift upward together",
            "the squared weights of the output head",
            "the entropy of the attention weights",
            "the difference between training and validation loss"],
           "a", "Softmax ignores a shift of all logits, so nothing else stops them drifting; "
                "a penalty of 1e-4 x (log Z)^2 keeps log Z near zero."),
    choice("Pretraining runs now drop dropout but keep weight decay. What does weight decay do for them?",
           ["it prevents overfitting, as dropout did",
            "it shapes the optimisation: the decay per step is the learning rate times lambda, so it acts "
            "with the schedule and pays off as the learning rate anneals",
            "nothing measurable; it is kept out of habit",
            "it compresses the weights to bf16"],
           "b", "With data seen about once there is little to overfit; the decoupled decay works through the "
                "schedule, as the section on regularisation computes."),
]
