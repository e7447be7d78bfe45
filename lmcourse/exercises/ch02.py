"""Chapter 2 (PyTorch and resource accounting): the exercises' references and checks."""

from __future__ import annotations

import torch

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question


def views(grid: torch.Tensor) -> dict:
    # grid[1:, ::2]: rows still 6 apart, columns now 2 apart; it starts at row 1 (offset 6).
    # Skipping columns leaves gaps, so it is not contiguous: ((6, 2), 6, False).
    # grid.T[2]: the transpose has strides (1, 6); its row 2 is column 2 of grid, starting at
    # offset 2, its elements 6 apart. A 1-D tensor with stride 6 is not contiguous: ((6,), 2, False).
    return {expr: (view.stride(), view.storage_offset(), view.is_contiguous())
            for expr, view in (("grid[1:, ::2]", grid[1:, ::2]), ("grid.T[2]", grid.T[2]))}


def swiglu_training_flops(num_tokens: int, d_model: int, d_ff: int) -> int:
    # Three matrices of d_model * d_ff parameters; 2 FLOPs per parameter per token forward and 4
    # backward (the input gradient is needed, since x requires grad). The elementwise SiLU and
    # product are not matrix multiplications.
    return 6 * num_tokens * 3 * d_model * d_ff


def _check_swiglu_training_flops(answer) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    from lmcourse.nn import SwiGLU

    torch.manual_seed(2)
    for batch, seq, d_model, d_ff in [(2, 50, 64, 172), (1, 1, 16, 40), (3, 7, 32, 8)]:
        ffn = SwiGLU(d_model, d_ff)
        x = torch.randn(batch, seq, d_model, requires_grad=True)
        with FlopCounterMode(display=False) as counter:
            ffn(x).sum().backward()
        expect(answer(batch * seq, d_model, d_ff), counter.get_total_flops(),
               f"my_swiglu_training_flops({batch * seq}, {d_model}, {d_ff}) against FlopCounterMode")


class RMSProp(torch.optim.Optimizer):
    """One value of state per parameter, like AdaGrad: the moving average of g^2."""

    def __init__(self, params, lr: float, alpha: float = 0.99, eps: float = 1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:  # a parameter the loss did not use
                    continue
                state = self.state[p]
                if "square_avg" not in state:
                    state["square_avg"] = torch.zeros_like(p)
                # The same operations, in the same order, as torch.optim.RMSprop; eps is added
                # after the square root.
                state["square_avg"].mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                p.addcdiv_(p.grad, state["square_avg"].sqrt().add_(group["eps"]), value=-group["lr"])


def _fit(make_optimizer, steps: int = 25) -> list[torch.Tensor]:
    """Least squares on a fixed problem; a third parameter is never used, so its grad stays None."""
    gen = torch.Generator().manual_seed(2)
    features, true_w = torch.randn(256, 8, generator=gen), torch.randn(8, 1, generator=gen)
    labels = features @ true_w + 0.1 * torch.randn(256, 1, generator=gen)
    weight = torch.zeros(8, 1, requires_grad=True)
    bias, unused = torch.zeros(1, requires_grad=True), torch.ones(3, requires_grad=True)
    optimizer = make_optimizer([weight, bias, unused])
    for step in range(steps):
        rows = torch.arange(step * 32, (step + 1) * 32) % 256
        loss = ((features[rows] @ weight + bias - labels[rows]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [weight.detach(), bias.detach(), unused.detach()]


def _check_rmsprop(answer) -> None:
    for hyper in [dict(lr=0.05), dict(lr=0.01, alpha=0.9), dict(lr=0.05, alpha=0.95, eps=1e-2)]:
        got = _fit(lambda params: answer(params, **hyper))
        want = _fit(lambda params: torch.optim.RMSprop(params, **hyper))
        for name, g, w in zip(("weight", "bias", "unused parameter"), got, want):
            expect(g, w, f"the {name} after 25 steps of my RMSProp({hyper})", rel_tol=1e-5, abs_tol=1e-6)


def max_params() -> float:
    # 8 GPUs x 80 GB = 640 GB, at 16 bytes per parameter with bf16 mixed precision and AdamW:
    # 2 (bf16 weights) + 2 (bf16 gradients) + 4 (fp32 master weights) + 8 (fp32 m and v).
    from lmcourse.accounting import GPUS

    return 8 * GPUS["H100-80GB"].memory_bytes / 16  # 40 billion parameters


def _fits_and_is_largest(got, want) -> None:
    expect(got, want, "my_max_params", rel_tol=0.005)  # within half a percent of the largest
    if float(got) > want * (1 + 1e-9):
        raise Mismatch(f"my_max_params: {float(got):.4g} parameters do not fit; expected at most {want:.4g}")


def max_batches() -> tuple[int, int]:
    # Without checkpointing every block keeps its intermediate tensors, attention's (seq x seq)
    # scores included, so activations grow fast with the batch. With checkpointing each block keeps
    # only its input, and one block's intermediates are recomputed at a time during backward.
    from lmcourse.accounting import GPUS, PRESETS, training_memory

    def largest(checkpointing: bool) -> int:
        capacity, batch = GPUS["A100-40GB"].memory_bytes, 0
        while training_memory(PRESETS["gpt2-small"], batch + 1, 1024, "bf16-mixed", "adamw",
                              checkpointing).total <= capacity:
            batch += 1
        return batch

    return largest(False), largest(True)


EXERCISES = [
    value_exercise("views", "strides", views),
    function_exercise("swiglu_training_flops", "FLOPs of a SwiGLU", swiglu_training_flops,
                      check=_check_swiglu_training_flops),
    function_exercise("rmsprop", "RMSProp from scratch", RMSProp, check=_check_rmsprop),
    value_exercise("max_params", "the largest model on eight GPUs", max_params, compare=_fits_and_is_largest),
    value_exercise("max_batches", "the batch that fits", max_batches),
    choice_exercise(
        "checkpointing", "what checkpointing trades",
        {"a": "it stores activations in bf16 instead of fp32, at the cost of some precision",
         "b": "each block keeps only its input and recomputes its intermediates during the backward "
              "pass, at the cost of a second forward pass (about a third more compute per step)",
         "c": "it moves the optimiser state to CPU memory, at the cost of PCIe transfers every step",
         "d": "it drops the attention scores, which the backward pass never needs, so it costs nothing"},
        "b", "Activations, not the model state, grow with the batch; keeping one tensor per block instead "
             "of all its intermediates frees most of them. The recomputed forward makes a step cost "
             "2 + 4 + 2 = 8 instead of 6 FLOPs per parameter per token."),
]

# The study devices (lmcourse.exercises.study): before the chapter, and after its summary.
WARM_UP = [
    choice("About how many FLOPs does it take to train a 10-billion-parameter model on 1 trillion tokens?",
           ["1e22", "6e22", "2e21", "6e25"],
           "b", "Six FLOPs per parameter per token (2 forward, 4 backward): 6 x 1e10 x 1e12. The chapter "
                "derives the 6 and checks it against PyTorch's FLOP counter."),
    choice("A 1-billion-parameter model is trained in fp32 with Adam. How much memory do the parameters, "
           "gradients and optimiser state take, before any activation?",
           ["about 4 GB", "about 8 GB", "about 12 GB", "about 16 GB"],
           "d", "4 bytes of weight, 4 of gradient and 8 for Adam's two moments: 16 bytes per parameter."),
    open_question("`x = torch.zeros(2, 3)`, `y = x.T`, then `x[0, 1] = 5`. What is `y[1, 0]` now, and why?",
                  "5. A transpose is a view: `y` has its own shape and strides over the same storage, "
                  "so a write through `x` shows through `y`."),
]

QUIZ = [
    choice("For a dense layer, how do the FLOPs of the backward pass compare with those of the forward pass?",
           ["about the same", "about twice", "about three times", "about half"],
           "b", "The backward pass multiplies by the weights once for the input gradient and once more for "
                "the weight gradient: 4 FLOPs per parameter per token against 2, hence 6ND."),
    choice("bf16 and fp16 both take two bytes. Why is bf16 the usual choice for training?",
           ["it has more mantissa bits, so it rounds less",
            "it keeps fp32's eight exponent bits, so small gradients do not flush to zero and large "
            "values do not overflow",
            "GPUs have no fp16 matrix units",
            "it needs no fp32 master weights"],
           "b", "bf16 trades precision for fp32's range; fp16 has more precision but underflows without "
                "loss scaling. bf16 still rounds away small updates, hence master weights."),
    choice("In bf16 mixed precision with AdamW (bf16 weights and gradients, fp32 master weights and "
           "moments), how many bytes of model state does each parameter cost?",
           ["8", "12", "16", "20"],
           "c", "2 + 2 + 4 + 4 + 4 = 16, the same as fp32: mixed precision saves time and activation "
                "memory, not model state."),
    choice("A 1-billion-parameter model trains at 50,000 tokens/s on one GPU whose dense bf16 peak is "
           "1,000 TFLOP/s. What is its MFU, by the 6N rule?",
           ["3%", "15%", "30%", "60%"],
           "c", "6 x 1e9 x 5e4 = 3e14 FLOP/s achieved, over 1e15 peak: 30%."),
    choice("You switch from SGD to AdaGrad, all in fp32. How much more memory does each parameter need?",
           ["none", "4 bytes, the running sum of squared gradients",
            "8 bytes, a momentum and a variance", "12 bytes"],
           "b", "AdaGrad keeps one value per parameter; Adam keeps two; plain SGD keeps none."),
    choice("The model state of a 7B model in bf16 mixed precision with AdamW does not fit on an 80 GB GPU. "
           "Which change makes it fit?",
           ["train in pure bf16 mixed precision instead of fp32",
            "halve the batch size",
            "split the model state evenly over two GPUs",
            "checkpoint the activations"],
           "c", "112 GB of state needs two 80 GB GPUs (ZeRO, chapter 7); batch size and checkpointing "
                "change only the activations, and mixed precision already is the 16-byte case."),
]
