"""The CLI's GPU options where they can run on a CPU: the fused cross-entropy's fallback, MFU's
datasheet peaks by device name, and the combinations refused with a reason."""

from __future__ import annotations

import json

import pytest
import torch

from lmcourse.train.loop import datasheet_peak_flops, gpu_named

CONFIG = {"model": {"context_length": 16, "d_model": 32, "num_layers": 1, "num_heads": 2, "d_ff": 64},
          "train": {"batch_size": 4, "max_iters": 3, "eval_interval": 3, "eval_iters": 1, "log_interval": 1,
                    "peak_flops": 1e9},
          "data": {"corpus_bytes": 20_000, "vocab_size": 300}}


def _main(tmp_path, *args):
    from lmcourse.train.__main__ import main

    (tmp_path / "cfg.json").write_text(json.dumps(CONFIG))
    return main(["--config", str(tmp_path / "cfg.json"), "--workers", "1", "--sample", "0", *args])


def test_kernels_flag_trains_the_same_curve_through_the_fused_loss(tmp_path, capsys, one_thread):
    from lmcourse.train.log import read_metrics

    assert _main(tmp_path, "--out", str(tmp_path / "plain")) == 0
    assert _main(tmp_path, "--out", str(tmp_path / "kernels"), "--kernels") == 0
    if not torch.cuda.is_available():
        assert "kernels run their PyTorch references" in capsys.readouterr().out
    plain, fused = read_metrics(tmp_path / "plain"), read_metrics(tmp_path / "kernels")
    assert [r["loss"] for r in fused] == pytest.approx([r["loss"] for r in plain], abs=1e-5)


@pytest.mark.parametrize("name, gpu", [("NVIDIA H100 80GB HBM3", "H100-80GB"), ("NVIDIA A100-SXM4-40GB", "A100-40GB"),
                                       ("NVIDIA H200", "H200-141GB"), ("Tesla T4", None)])
def test_gpus_are_recognised_by_their_cuda_names(name, gpu):
    found = gpu_named(name)
    assert (found.name if found else None) == gpu


def test_no_datasheet_peak_on_a_cpu():
    assert datasheet_peak_flops("cpu", torch.bfloat16) is None


def test_compile_with_our_fsdp_is_refused_with_the_reason(tmp_path, capsys):
    assert _main(tmp_path, "--out", str(tmp_path / "run"), "--compile", "--parallel", "fsdp") == 2
    assert "--compile with --parallel fsdp" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_the_gpu_check_script_parses_and_refuses_unknown_options():
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / ".ci" / "gpu"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    done = subprocess.run(["bash", str(script), "--fast"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage: bash .ci/gpu [--dry-run]" in done.stderr
