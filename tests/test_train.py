"""lmcourse.train: optimizers and clipping against torch, schedules, batches, token files, the loop, the CLI."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lmcourse.nn import TransformerLM
from lmcourse.tokenizer import Tokenizer, train_bpe
from lmcourse.train import (SGD, AdaGrad, AdamW, TrainConfig, clip_grad_norm, cosine_lr, estimate_loss, get_batch,
                            load_checkpoint, load_tokens, read_checkpoint, save_tokens, token_dtype, tokenize_file,
                            train, wsd_lr)

ROOT = Path(__file__).resolve().parents[1]


# -- optimizers ------------------------------------------------------------------------------------
def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))


@pytest.mark.parametrize("ours, theirs", [
    (lambda p: SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
    (lambda p: SGD(p, lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (lambda p: AdaGrad(p, lr=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0, eps=1e-10)),
    (lambda p: AdamW(p), lambda p: torch.optim.AdamW(p, foreach=False)),
    (lambda p: AdamW(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.3),
     lambda p: torch.optim.AdamW(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.3, foreach=False)),
], ids=["sgd", "sgd-momentum", "adagrad", "adamw-defaults", "adamw"])
def test_optimizer_matches_torch_over_many_steps(ours, theirs):
    model, reference = _mlp(), _mlp()
    opt, ref_opt = ours(model.parameters()), theirs(reference.parameters())
    data = torch.randn(200, 16, 5, generator=torch.Generator().manual_seed(1))
    for step, x in enumerate(data):
        for m, o in ((model, opt), (reference, ref_opt)):
            for group in o.param_groups:  # a schedule changes lr between steps
                group["lr"] *= 0.99
            o.zero_grad()
            m(x).pow(2).mean().backward()
            o.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)  # the same operations in the same order: same bits


def test_optimizer_state_holds_what_the_lecture_says():
    for make, keys in ((lambda p: SGD(p, lr=0.1, momentum=0.9), {"momentum_buffer"}),
                       (lambda p: AdaGrad(p, lr=0.1), {"sum_sq"}), (lambda p: AdamW(p), {"m", "v", "step"})):
        model = _mlp()
        opt = make(model.parameters())
        for _ in range(3):
            opt.zero_grad()
            model(torch.ones(2, 5)).sum().backward()
            opt.step()
        state = opt.state[model[0].weight]
        assert set(state) == keys
        assert state.get("step", 3) == 3
    assert not SGD(_mlp().parameters(), lr=0.1).state  # plain SGD keeps nothing


def test_adamw_with_closure_and_params_without_grad():
    model = _mlp()
    model[2].weight.requires_grad_(False)
    opt = AdamW(model.parameters(), lr=0.1)
    before = model[2].weight.clone()

    def closure():
        opt.zero_grad()
        loss = model(torch.ones(1, 5)).sum()
        loss.backward()
        return loss

    assert torch.is_tensor(opt.step(closure))
    assert torch.equal(model[2].weight, before)


@pytest.mark.parametrize("make, match", [
    (lambda p: SGD(p, lr=-1), "SGD: lr=-1"),
    (lambda p: SGD(p, lr=0.1, momentum=1.0), "momentum=1.0"),
    (lambda p: AdaGrad(p, lr=0.1, eps=0), "AdaGrad: eps=0"),
    (lambda p: AdamW(p, lr=-0.1), "AdamW: lr=-0.1"),
    (lambda p: AdamW(p, betas=(0.9, 1.0)), r"betas=\(0.9, 1.0\)"),
    (lambda p: AdamW(p, betas=(-0.1, 0.9)), "betas"),
    (lambda p: AdamW(p, eps=0.0), "eps=0.0"),
    (lambda p: AdamW(p, weight_decay=-1), "weight_decay=-1"),
])
def test_bad_hyperparameters_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make(_mlp().parameters())


@pytest.mark.parametrize("max_norm", [1e-2, 1.0, 1e3])
def test_clip_grad_norm_matches_torch(max_norm):
    model, reference = _mlp(), _mlp()
    model[2].bias.requires_grad_(False)  # a parameter without a gradient is skipped
    reference[2].bias.requires_grad_(False)
    x = torch.randn(4, 5)
    for m in (model, reference):
        m(x).pow(2).sum().backward()
    norm = clip_grad_norm(model.parameters(), max_norm)
    ref_norm = torch.nn.utils.clip_grad_norm_([p for p in reference.parameters() if p.grad is not None], max_norm)
    torch.testing.assert_close(norm, ref_norm)
    for p, q in zip(model.parameters(), reference.parameters()):
        if p.grad is not None:
            torch.testing.assert_close(p.grad, q.grad)
    clipped = math.sqrt(sum(p.grad.pow(2).sum().item() for p in model.parameters() if p.grad is not None))
    assert clipped == pytest.approx(min(norm.item(), max_norm), rel=1e-4)
    with pytest.raises(ValueError, match="max_l2_norm=0"):
        clip_grad_norm(model.parameters(), 0)


# -- schedules -------------------------------------------------------------------------------------
def test_cosine_lr_matches_cs336_values():
    # The values of the CS336 assignment-1 test (max 1, min 0.1, warmup 7, cycle 21).
    expected = [0, 0.14285714285714285, 0.2857142857142857, 0.42857142857142855, 0.5714285714285714,
                0.7142857142857143, 0.8571428571428571, 1.0, 0.9887175604818206, 0.9554359905560885,
                0.9018241671106134, 0.8305704108364301, 0.7452476826029011, 0.6501344202803414, 0.55,
                0.44986557971965857, 0.3547523173970989, 0.26942958916356996, 0.19817583288938662,
                0.14456400944391146, 0.11128243951817937, 0.1, 0.1, 0.1, 0.1]
    got = [cosine_lr(it, 1.0, 0.1, 7, 21) for it in range(25)]
    assert got == pytest.approx(expected, abs=1e-12)
    assert cosine_lr(5, 1.0, 0.1, 0, 0) == 0.1  # no warmup, no cosine phase: the floor
    with pytest.raises(ValueError, match="cosine_cycle_iters=3 < warmup_iters=5"):
        cosine_lr(0, 1.0, 0.1, 5, 3)
    with pytest.raises(ValueError, match="it=-1"):
        cosine_lr(-1, 1.0, 0.1, 5, 10)


def test_wsd_lr_known_values():
    got = [wsd_lr(it, 1.0, 0.2, warmup_iters=2, stable_iters=3, decay_iters=4) for it in range(11)]
    assert got == pytest.approx([0, 0.5, 1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2, 0.2])
    with pytest.raises(ValueError, match="decay_iters=-1"):
        wsd_lr(0, 1.0, 0.2, 2, 3, -1)


# -- batches and token files -----------------------------------------------------------------------
def test_get_batch_shapes_shift_and_device():
    data = np.arange(100, dtype=np.uint16)
    x, y = get_batch(data, 8, 10, "cpu", np.random.default_rng(0))
    assert x.shape == y.shape == (8, 10) and x.dtype == y.dtype == torch.long and x.device.type == "cpu"
    assert torch.equal(y, x + 1)  # arange: the next token is the id plus one
    assert torch.equal(x - x[:, :1], torch.arange(10).expand(8, 10))  # contiguous windows


def test_get_batch_reaches_every_start_uniformly():
    data = np.arange(20)
    x, _ = get_batch(data, 6000, 5, "cpu", np.random.default_rng(0))
    counts = np.bincount(x[:, 0].numpy(), minlength=20)
    assert counts[:15].min() > 300 and counts[15:].sum() == 0  # 15 valid starts, 400 expected each
    assert np.abs(counts[:15] - 400).max() < 100


def test_get_batch_is_deterministic_with_a_seed_and_reads_memmaps(tmp_path):
    save_tokens(np.arange(1000) % 300, tmp_path / "t.bin")
    data = load_tokens(tmp_path / "t.bin")
    assert isinstance(data, np.memmap) and data.mode == "r" and len(data) == 1000
    a = get_batch(data, 4, 16, "cpu", np.random.default_rng(7))
    b = get_batch(data, 4, 16, "cpu", np.random.default_rng(7))
    c = get_batch(data, 4, 16, "cpu", np.random.default_rng(8))
    assert all(torch.equal(p, q) for p, q in zip(a, b)) and not torch.equal(a[0], c[0])
    assert torch.equal(a[0] % 300, a[0])


@pytest.mark.parametrize("data, kwargs, error, match", [
    (np.arange(10), dict(context_length=10), ValueError, "has 10 tokens; context_length=10 needs at least 11"),
    (np.arange(10).reshape(2, 5), {}, TypeError, "1-D integer"),
    (np.linspace(0, 1, 50), {}, TypeError, "float64"),
    ([1, 2, 3] * 10, {}, TypeError, "list"),
    (np.arange(50), dict(batch_size=0), ValueError, "batch_size=0"),
    (np.arange(50), dict(generator=3), TypeError, "generator=3"),
])
def test_get_batch_bad_input(data, kwargs, error, match):
    args = dict(batch_size=2, context_length=4, device="cpu") | kwargs
    with pytest.raises(error, match=match):
        get_batch(data, **args)


def test_token_files_round_trip_and_refuse_overflow(tmp_path):
    assert token_dtype(512) is np.uint16 and token_dtype(65536) is np.uint16 and token_dtype(100_277) is np.uint32
    save_tokens([0, 65535, 7], tmp_path / "a.bin")
    assert load_tokens(tmp_path / "a.bin").tolist() == [0, 65535, 7]
    assert os.path.getsize(tmp_path / "a.bin") == 6  # raw uint16, no header
    with pytest.raises(ValueError, match=r"\[0, 70000\].*uint16"):
        save_tokens([0, 70000], tmp_path / "b.bin")
    with pytest.raises(ValueError, match=r"\[-1, 3\]"):
        save_tokens([-1, 3], tmp_path / "b.bin", dtype=np.uint32)
    save_tokens(np.array([70000]), tmp_path / "b.bin", dtype=np.uint32)
    assert load_tokens(tmp_path / "b.bin", np.uint32).tolist() == [70000]
    with pytest.raises(ValueError, match="dtype=<class 'numpy.int8'>"):
        save_tokens([1], tmp_path / "c.bin", dtype=np.int8)
    (tmp_path / "odd.bin").write_bytes(b"abc")
    with pytest.raises(ValueError, match="3 bytes"):
        load_tokens(tmp_path / "odd.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.bin", "odd.bin"]  # no temp files left


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from lmcourse.corpus import write_corpus

    path = write_corpus(tmp_path_factory.mktemp("bpe") / "corpus.txt", 20_000, seed=3)
    return Tokenizer(*train_bpe(path, 300, ["<|endoftext|>"], show_progress=False), ["<|endoftext|>"])


def test_tokenize_file_streams_to_the_same_ids_as_encode(tmp_path, tokenizer):
    text = ("Once upon a time<|endoftext|>" * 30) + "the end.\n\nNew line " * 40
    (tmp_path / "t.txt").write_text(text, encoding="utf-8")
    # Tiny reads: the stream is cut inside words and special tokens, and ids must not change.
    count = tokenize_file(tokenizer, tmp_path / "t.txt", tmp_path / "t.bin", read_chars=7)
    assert load_tokens(tmp_path / "t.bin").tolist() == tokenizer.encode(text) and count == len(tokenizer.encode(text))


# -- the training loop -----------------------------------------------------------------------------
def _tiny_model(**overrides):
    torch.manual_seed(0)
    fields = dict(vocab_size=32, context_length=16, d_model=32, num_layers=2, num_heads=2, d_ff=64) | overrides
    return TransformerLM(**fields)


def _cfg(**overrides):
    fields = dict(batch_size=8, max_iters=40, max_lr=1e-2, min_lr=1e-3, warmup_iters=5, eval_interval=20,
                  eval_iters=2, log_interval=10, device="cpu", peak_flops=1e11) | overrides
    return TrainConfig(**fields)


PATTERN = np.tile(np.arange(10, dtype=np.uint16), 300)  # a sequence a model learns in a few dozen steps


@pytest.mark.slow
def test_train_learns_and_logs_rows():
    model = _tiny_model()
    seen = []
    history = train(model, PATTERN, PATTERN[:500], _cfg(log_interval=1), on_log=seen.append)
    assert seen == history and [row["iter"] for row in history] == list(range(1, 41))
    assert set(history[19]) == {"iter", "loss", "lr", "grad_norm", "tokens_per_s", "mfu", "val_loss"}
    assert [row["iter"] for row in history if "val_loss" in row] == [20, 40]
    assert history[0]["loss"] > 3  # about log(32) = 3.5, a uniform guess, at first
    assert history[-1]["val_loss"] < 0.1
    assert [row["lr"] for row in history] == [_cfg().lr_at(it) for it in range(40)]
    assert all(row["tokens_per_s"] > 0 and 0 < row["mfu"] for row in history)


def test_resume_continues_bit_for_bit(tmp_path, one_thread):
    n = 20
    straight = _tiny_model()
    cfg = _cfg(max_iters=2 * n, cosine_cycle_iters=2 * n)
    history = train(straight, PATTERN, PATTERN[:500], cfg)

    first = _tiny_model()
    ckpt = tmp_path / "ckpt.pt"
    part1 = train(first, PATTERN, PATTERN[:500], _cfg(max_iters=n, cosine_cycle_iters=2 * n, checkpoint_path=ckpt))
    resumed = _tiny_model()
    torch.manual_seed(123)  # a different initialization: the checkpoint must overwrite it all
    for p in resumed.parameters():
        torch.nn.init.normal_(p)
    optimizer = cfg.build_optimizer(resumed.parameters())
    checkpoint = read_checkpoint(ckpt)
    start = load_checkpoint(checkpoint, resumed, optimizer)
    assert start == n
    part2 = train(resumed, PATTERN, PATTERN[:500], cfg, optimizer, start_iter=start, rng_state=checkpoint["rng"])

    def strip(rows):
        return [{k: v for k, v in row.items() if k not in ("tokens_per_s", "mfu")} for row in rows]

    assert strip(part1 + part2) == strip(history)
    for (name, p), q in zip(straight.named_parameters(), resumed.parameters()):
        assert torch.equal(p, q), name


@pytest.mark.slow
def test_bf16_mixed_precision_and_moe_aux_loss_on_cpu():
    cfg = _cfg(max_iters=4, warmup_iters=1, precision="bf16-mixed", log_interval=2)
    history = train(_tiny_model(), PATTERN, None, cfg)
    assert all(math.isfinite(row["loss"]) for row in history)
    # A mixture-of-experts model adds model.aux_loss(): its router then learns from it too.
    routers = []
    for coef in (0.0, 1.0):
        model = _tiny_model(num_experts=4, top_k=2)
        train(model, PATTERN, None, _cfg(max_iters=3, warmup_iters=1, aux_loss_coef=coef))
        routers.append(model.layers[0].ffn.router.weight.detach().clone())
    assert not torch.equal(*routers)


def test_train_any_module_with_a_context_length():
    class Bigram(torch.nn.Module):  # no .config: no MFU, and the context length must come from cfg
        def __init__(self):
            super().__init__()
            self.table = torch.nn.Embedding(32, 32)

        def forward(self, ids):
            return self.table(ids)

    with pytest.raises(ValueError, match="TrainConfig.context_length"):
        train(Bigram(), PATTERN, None, _cfg(max_iters=2, warmup_iters=1))
    with pytest.raises(ValueError, match="val_tokens has 8 tokens; context_length=8 needs at least 9"):
        train(Bigram(), PATTERN, PATTERN[:8], _cfg(max_iters=2, warmup_iters=1, context_length=8))
    history = train(Bigram(), PATTERN, None, _cfg(max_iters=2, warmup_iters=1, context_length=8, log_interval=1))
    assert [row["mfu"] for row in history] == [None, None]


def test_estimate_loss_is_reproducible_and_restores_train_mode():
    model = _tiny_model()
    model.train()
    a = estimate_loss(model, PATTERN, 4, 16, 3, np.random.default_rng(0))
    b = estimate_loss(model, PATTERN, 4, 16, 3, np.random.default_rng(0))
    assert a == b and model.training and a == pytest.approx(math.log(32), rel=0.2)


@pytest.mark.parametrize("field, value, match", [
    ("batch_size", 0, "batch_size=0"), ("max_iters", 2.5, "max_iters=2.5"), ("min_lr", -1, "min_lr=-1"),
    ("max_lr", 1e-5, "max_lr=1e-05; expected a number >= min_lr"), ("betas", (0.9, 1.2), "betas"),
    ("eps", 0, "eps=0"), ("grad_clip", 0, "grad_clip=0"), ("precision", "fp16", "precision='fp16'"),
    ("warmup_iters", 50, "warmup_iters=50; expected at most cosine_cycle_iters"),
    ("checkpoint_interval", 0, "checkpoint_interval=0"), ("eval_iters", -1, "eval_iters=-1"),
])
def test_train_config_validation(field, value, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{"max_iters": 40, field: value})


def test_train_config_from_dict():
    cfg = TrainConfig.from_dict({"betas": [0.9, 0.99], "checkpoint_path": Path("x.pt")})
    assert cfg.betas == (0.9, 0.99) and cfg.checkpoint_path == "x.pt" and cfg.lr_at(0) == cfg.max_lr
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['lr'\]"):
        TrainConfig.from_dict({"lr": 1e-3})


# -- the command line ------------------------------------------------------------------------------
TINY = {
    "model": {"context_length": 16, "d_model": 32, "num_layers": 1, "num_heads": 2, "d_ff": 64},
    "train": {"batch_size": 4, "max_iters": 20, "max_lr": 3e-3, "min_lr": 3e-4, "warmup_iters": 2,
              "eval_interval": 10, "eval_iters": 2, "log_interval": 10, "device": "cpu"},
    "data": {"corpus_bytes": 20000, "vocab_size": 300, "seed": 1},
}


def _cli(tmp_path, config, *args):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(config))
    env = dict(os.environ, CI="true", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "lmcourse.train", "--config", str(path), *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path)


@pytest.mark.slow
def test_cli_end_to_end_and_resume(tmp_path, capsys):
    out = tmp_path / "run"
    done = _cli(tmp_path, TINY, "--out", str(out), "--sample", "2")
    assert done.returncode == 0, done.stderr
    assert {"train.txt", "val.txt", "vocab.json", "merges.txt", "train.bin", "val.bin", "ckpt.pt"} <= {
        p.name for p in out.iterdir()}
    assert "iter     20  loss" in done.stdout and "val" in done.stdout and "--- sample 2 ---" in done.stdout
    assert read_checkpoint(out / "ckpt.pt")["iteration"] == 20

    finished = _cli(tmp_path, TINY, "--out", str(out), "--resume", "--sample", "0")
    assert finished.returncode == 0 and "nothing to train" in finished.stdout and "iter " not in finished.stdout

    # The same entry point in this process (no second torch import): errors and training longer.
    from lmcourse.train.__main__ import main

    config = str(tmp_path / "cfg.json")
    assert main(["--config", config, "--out", str(out)]) == 2
    assert "pass --resume" in capsys.readouterr().err
    assert main(["--config", config, "--out", str(out), "--resume", "--max-iters", "30", "--sample", "0"]) == 0
    longer = capsys.readouterr().out
    assert "resumed" in longer and "iter     30" in longer and "iter     10" not in longer
    assert read_checkpoint(out / "ckpt.pt")["iteration"] == 30


@pytest.mark.slow
def test_cli_bad_config_fails_with_a_clear_message(tmp_path):
    bad = json.loads(json.dumps(TINY))
    bad["model"]["d_model"] = 33
    done = _cli(tmp_path, bad, "--out", str(tmp_path / "run"))
    assert done.returncode == 2 and "d_model=33 is not divisible by num_heads=2" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "run").exists()  # failed before any work


@pytest.mark.parametrize("change, match", [
    (lambda c: c["data"].update(bytes=5), r"data: unknown key\(s\) \['bytes'\]"),
    (lambda c: c.update(optim={}), r"unknown key\(s\) \['optim'\]"),
    (lambda c: c["model"].update(vocab_size=5), "data.vocab_size"),
    (lambda c: c["train"].update(lr=1), r"unknown field\(s\) \['lr'\]"),
    (lambda c: c["model"].update(dmodel=1), r"unknown field\(s\) \['dmodel'\]"),
    (lambda c: c["data"].update(corpus_bytes=0), "data.corpus_bytes=0"),
])
def test_cli_config_errors_name_the_key(tmp_path, change, match):
    from lmcourse.train.__main__ import load_config

    config = json.loads(json.dumps(TINY))
    change(config)
    (tmp_path / "c.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=match):
        load_config(tmp_path / "c.json")


def test_tiny_config_is_valid_and_shipped():
    from lmcourse.train.__main__ import load_config

    model, train_fields, data = load_config(ROOT / "lmcourse" / "train" / "tiny.json")
    assert data["vocab_size"] == 512 and train_fields["max_iters"] > 0 and "context_length" in model
