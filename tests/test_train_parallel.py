"""One process to many: the course's DDP / ZeRO / FSDP as training-loop strategies, and the CLI under torchrun.

Real processes with gloo on CPU, tiny models, a few steps. Each multi-process test is bounded by a
timeout (spawn's, or subprocess's), so a hang fails instead of stalling CI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import torch

from lmcourse.nn import TransformerLM
from lmcourse.parallel.launch import spawn
from lmcourse.parallel.strategies import STRATEGIES, make_strategy
from lmcourse.train import TrainConfig, read_checkpoint, train

ROOT = Path(__file__).resolve().parents[1]
MODEL = dict(vocab_size=64, context_length=16, d_model=32, num_layers=2, num_heads=2, d_ff=64)
MULTI = [s for s in STRATEGIES if s != "none"]


def _config(**changes) -> TrainConfig:
    return TrainConfig(**{**dict(batch_size=4, max_iters=6, max_lr=1e-2, min_lr=1e-3, log_interval=1, eval_interval=3,
                                 eval_iters=2, device="cpu", peak_flops=1e9, grad_clip=0.5), **changes})


def _tokens() -> np.ndarray:
    return np.random.default_rng(0).integers(0, MODEL["vocab_size"], 4000).astype(np.uint16)


def _model() -> TransformerLM:
    torch.manual_seed(0)
    return TransformerLM(**MODEL)


def _train_each(rank, world_size, names):
    """Each strategy in turn on this rank: its logged rows and its gathered (model, optimizer) state."""
    out = {}
    for name in names:
        model = _model()
        strategy = make_strategy(name, model, _config().optimizer_kwargs())
        rows = train(model, _tokens(), _tokens()[:800], _config(), strategy=strategy)
        state = strategy.full_state()
        # Loading the gathered state back into this rank's shards, then gathering again, must
        # give it back unchanged: the path a resumed checkpoint takes.
        strategy.base_optimizer.state.clear()
        strategy.load_optimizer_state(state[1])
        reloaded = strategy.full_state()[1]
        for index, entry in state[1]["state"].items():
            for key in ("m", "v"):
                torch.testing.assert_close(reloaded["state"][index][key], entry[key], atol=0, rtol=0,
                                           msg=f"{name}: state {index} {key} after a reload")
        out[name] = (rows, state)
    return out


def test_every_strategy_trains_like_one_process_on_the_same_global_batch(one_thread):
    model = _model()
    optimizer = _config().build_optimizer(model.parameters())
    reference = train(model, _tokens(), _tokens()[:800], _config(), optimizer)  # clipping is active: grad_clip=0.5
    single = optimizer.state_dict()
    results = spawn(_train_each, 2, args=(MULTI,), timeout=120)
    for name in MULTI:
        (rows, (model_state, optimizer_state)), (rows_1, _) = results[0][name], results[1][name]
        timeless = [[{k: v for k, v in row.items() if k not in ("tokens_per_s", "mfu")} for row in r] for r in (rows, rows_1)]
        assert timeless[0] == timeless[1], f"{name}: the ranks logged different rows"
        for ours, theirs in zip(rows, reference, strict=True):
            for key in ("loss", "grad_norm", "val_loss"):
                assert (key in ours) == (key in theirs)
                if key in ours:
                    assert ours[key] == pytest.approx(theirs[key], abs=1e-5), f"{name} {key} at {ours['iter']}"
        for key, value in model.state_dict().items():
            torch.testing.assert_close(model_state[key], value, atol=1e-5, rtol=1e-5, msg=f"{name} {key}")
        # The gathered optimizer state is the single-process AdamW's: a checkpoint of any world size.
        assert optimizer_state["param_groups"][0]["params"] == single["param_groups"][0]["params"]
        assert sorted(optimizer_state["state"]) == sorted(single["state"])
        for index, state in single["state"].items():
            assert optimizer_state["state"][index]["step"] == state["step"]
            for key in ("m", "v"):
                torch.testing.assert_close(optimizer_state["state"][index][key], state[key], atol=1e-5, rtol=1e-4)


def test_parallel_strategies_refuse_what_they_cannot_do():
    with pytest.raises(ValueError, match="needs several processes: start them with torchrun"):
        make_strategy("zero2", _model(), {})
    with pytest.raises(ValueError, match="expected one of"):
        make_strategy("zero4", _model(), {})


# -- the CLI under torchrun ------------------------------------------------------------------------------
CLI_CONFIG = {
    "model": {"context_length": 16, "d_model": 32, "num_layers": 2, "num_heads": 2, "d_ff": 64},
    "train": {"batch_size": 4, "max_iters": 12, "cosine_cycle_iters": 12, "max_lr": 1e-2, "min_lr": 1e-3, "warmup_iters": 2, "eval_interval": 6,
              "eval_iters": 2, "log_interval": 2, "checkpoint_interval": 6, "seed": 0, "peak_flops": 1e9},
    "data": {"corpus_bytes": 40_000, "vocab_size": 300, "seed": 0},
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A run directory with the data prepared once (corpus, BPE, token files), copied into each test's runs."""
    from lmcourse.train.prepare import check_config, prepare_data

    where = tmp_path_factory.mktemp("prepared")
    (where / "cfg.json").write_text(json.dumps(CLI_CONFIG))
    prepare_data(where / "data", check_config(CLI_CONFIG, "test")[2], num_workers=1)
    return where


def _run_dir(prepared: Path, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    shutil.copytree(prepared / "data", out)
    return out


def _env() -> dict:
    return dict(os.environ, CI="true", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def _torchrun(*args) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            "-m", "lmcourse.train", *args]


def _losses(out: Path) -> list[tuple]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [(r["iter"], r["loss"], r["val_loss"], r["grad_norm"]) for r in rows]


def _close(got, expected):
    assert [r[0] for r in got] == [r[0] for r in expected]
    for ours, theirs in zip(got, expected):
        for a, b in zip(ours[1:], theirs[1:]):
            assert (a is None) == (b is None) and (a is None or a == pytest.approx(b, abs=1e-5)), (ours, theirs)


@pytest.mark.slow
def test_torchrun_run_equals_one_process_and_checkpoints_move_between_world_sizes(prepared, tmp_path, capsys):
    from lmcourse.train.__main__ import main

    config = str(prepared / "cfg.json")
    straight = _run_dir(prepared, tmp_path, "straight")
    assert main(["--config", config, "--out", str(straight), "--sample", "0"]) == 0

    # 2 ranks (ZeRO-2) for 6 steps, then 1 process resumes to 12: the checkpoint is world-size free.
    two_then_one = _run_dir(prepared, tmp_path, "two_then_one")
    done = subprocess.run(_torchrun("--config", config, "--out", str(two_then_one), "--parallel", "zero2",
                                    "--max-iters", "6", "--sample", "1"),
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 ranks, parallel zero2" in done.stdout and done.stdout.count("--- sample 1 ---") == 1  # rank 0 alone
    assert read_checkpoint(two_then_one / "ckpt.pt")["extra"]["world_size"] == 2
    assert main(["--config", config, "--out", str(two_then_one), "--resume", "--sample", "0"]) == 0
    assert "saved by 2 rank(s), zero2" in capsys.readouterr().out
    _close(_losses(two_then_one), _losses(straight))

    # 1 process for 6 steps, then 2 ranks (FSDP) resume to 12.
    one_then_two = _run_dir(prepared, tmp_path, "one_then_two")
    assert main(["--config", config, "--out", str(one_then_two), "--max-iters", "6", "--sample", "0"]) == 0
    done = subprocess.run(_torchrun("--config", config, "--out", str(one_then_two), "--parallel", "fsdp",
                                    "--resume", "--sample", "0"),
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    _close(_losses(one_then_two), _losses(straight))


@pytest.mark.slow
def test_two_nodes_started_with_torchruns_multi_node_flags_train_like_one_process(prepared, tmp_path):
    """torchrun's usual multi-node flags (--nnodes, --node_rank, --master_addr/port), two "nodes" of
    one process each on this machine, sharing the run folder as a cluster's shared filesystem would:
    the loss curve is the single-process one."""
    import socket

    from lmcourse.train.__main__ import main

    config = str(prepared / "cfg.json")
    straight = _run_dir(prepared, tmp_path, "straight")
    assert main(["--config", config, "--out", str(straight), "--sample", "0"]) == 0
    out = _run_dir(prepared, tmp_path, "two_nodes")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    nodes = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=1",
                               f"--node_rank={node}", "--master_addr=127.0.0.1", f"--master_port={port}",
                               "-m", "lmcourse.train", "--config", config, "--out", str(out), "--parallel", "ddp",
                               "--sample", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
             for node in range(2)]
    try:
        results = [node.communicate(timeout=120) for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
                node.wait()
    for node, (stdout, stderr) in zip(nodes, results):
        assert node.returncode == 0, stderr[-3000:]
    assert "2 ranks, parallel ddp" in results[0][0] and "2 ranks" not in results[1][0]  # rank 0 alone logs
    _close(_losses(out), _losses(straight))


@pytest.mark.slow
def test_a_killed_rank_stops_the_job_with_an_error_instead_of_a_hang(prepared, tmp_path):
    out = _run_dir(prepared, tmp_path, "killed")
    job = subprocess.Popen(_torchrun("--config", str(prepared / "cfg.json"), "--out", str(out), "--parallel", "ddp",
                                     "--max-iters", "1000000", "--timeout", "30"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                           start_new_session=True)
    try:
        while "iter " not in (line := job.stdout.readline()):  # training is under way on both ranks
            assert line, "the job ended before training: " + job.stderr.read()[-3000:]
        rank_1 = next(p for p in psutil.Process(job.pid).children(recursive=True)
                      if p.environ().get("RANK") == "1" and p.environ().get("LOCAL_RANK") == "1")
        rank_1.send_signal(signal.SIGKILL)
        _, stderr = job.communicate(timeout=90)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
    assert job.returncode != 0
    assert "rank      : 1 (local_rank: 1)" in stderr and "Signal 9 (SIGKILL)" in stderr, stderr[-3000:]


@pytest.mark.slow
def test_without_torchrun_the_survivor_of_a_killed_rank_says_so_and_exits(prepared, tmp_path):
    """Ranks started by hand (as a scheduler might), no torchrun agent to stop the others: rank 0's
    next collective fails, and it exits with one line naming what happened instead of waiting."""
    import socket

    out = _run_dir(prepared, tmp_path, "by_hand")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ranks = [subprocess.Popen([sys.executable, "-m", "lmcourse.train", "--config", str(prepared / "cfg.json"),
                               "--out", str(out), "--parallel", "zero2", "--max-iters", "1000000", "--timeout", "30"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**_env(), "RANK": str(r), "LOCAL_RANK": str(r), "WORLD_SIZE": "2",
                                   "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}) for r in range(2)]
    try:
        while "iter " not in (line := ranks[0].stdout.readline()):
            assert line, "rank 0 ended before training: " + ranks[0].stderr.read()[-3000:]
        ranks[1].kill()
        _, stderr = ranks[0].communicate(timeout=90)
    finally:
        for rank in ranks:
            if rank.poll() is None:
                rank.kill()
                rank.wait()
    assert ranks[0].returncode == 3, stderr[-3000:]
    assert "error: rank 0 lost contact with the other ranks" in stderr and "Traceback" not in stderr


def test_world_size_must_divide_the_batch(prepared, tmp_path, monkeypatch, capsys):
    from lmcourse.train.__main__ import main

    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "0")
    assert main(["--config", str(prepared / "cfg.json"), "--out", str(tmp_path / "run"), "--parallel", "ddp"]) == 2
    assert "batch_size=4 is not divisible by the world size 3" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # refused before writing anything


def test_parallel_strategy_without_torchrun_is_a_clear_error(prepared, tmp_path, capsys):
    from lmcourse.train.__main__ import main

    out = _run_dir(prepared, tmp_path, "alone")
    assert main(["--config", str(prepared / "cfg.json"), "--out", str(out), "--parallel", "fsdp"]) == 2
    assert "needs several processes: start them with torchrun" in capsys.readouterr().err


def test_a_checkpoint_of_another_model_is_refused_before_training(prepared, tmp_path, capsys):
    from lmcourse.train.__main__ import main

    out = _run_dir(prepared, tmp_path, "other")
    config = str(prepared / "cfg.json")
    assert main(["--config", config, "--out", str(out), "--max-iters", "2", "--sample", "0"]) == 0
    wider = json.loads(json.dumps(CLI_CONFIG))
    wider["model"]["d_ff"] = 96
    (tmp_path / "wider.json").write_text(json.dumps(wider))
    capsys.readouterr()
    assert main(["--config", str(tmp_path / "wider.json"), "--out", str(out), "--resume", "--max-iters", "4"]) == 2
    assert "d_ff: checkpoint 64, model 96" in capsys.readouterr().err
    assert read_checkpoint(out / "ckpt.pt")["iteration"] == 2  # untouched
