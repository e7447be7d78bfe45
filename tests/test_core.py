"""lmcourse's top level: the device choice and quiet progress bars."""

import pytest
import torch

import lmcourse


def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv("LMCOURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu")
    assert lmcourse.device().type == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert lmcourse.device().type == "cuda"


def test_device_can_be_forced(monkeypatch):
    assert lmcourse.device("cpu") == torch.device("cpu")
    monkeypatch.setenv("LMCOURSE_DEVICE", "cpu")
    assert lmcourse.device() == torch.device("cpu")
    with pytest.raises(ValueError, match="prefer='tpu'"):
        lmcourse.device("tpu")


def test_progress_is_quiet_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert lmcourse.progress(range(3)).disable
    monkeypatch.delenv("CI")
    monkeypatch.delenv("LMCOURSE_QUIET", raising=False)
    assert lmcourse.progress(range(3), disable=True).disable
    assert list(lmcourse.progress(range(3))) == [0, 1, 2]
