"""lmcourse.train.checkpoint: round trips, RNG states, and refusing bad files without touching the model."""

import io

import numpy as np
import pytest
import torch

from lmcourse.nn import TransformerLM
from lmcourse.train import AdamW, SGD, load_checkpoint, read_checkpoint, restore_rng_state, save_checkpoint


def _model(**overrides):
    torch.manual_seed(0)
    fields = dict(vocab_size=40, context_length=8, d_model=16, num_layers=2, num_heads=2, d_ff=32) | overrides
    return TransformerLM(**fields)


def _trained(steps=2, **overrides):
    """A model and an AdamW with some state, so the optimizer's m, v and step are worth saving."""
    model = _model(**overrides)
    optimizer = AdamW(model.parameters(), lr=1e-2)
    ids = torch.randint(0, 40, (2, 8), generator=torch.Generator().manual_seed(1))
    for _ in range(steps):
        optimizer.zero_grad()
        model(ids).logsumexp(-1).mean().backward()
        optimizer.step()
    return model, optimizer


def _snapshot(model, optimizer):
    """Copies of every tensor in the model's and the optimizer's state (optimizer state by parameter index)."""
    state = optimizer.state_dict()["state"]
    return ({k: v.clone() for k, v in model.state_dict().items()},
            {i: {k: v.clone() if torch.is_tensor(v) else v for k, v in s.items()} for i, s in state.items()})


def _same(snapshot, model, optimizer):
    """Bit-identical to the snapshot (torch.equal on every tensor)."""
    params, state = snapshot
    now_params, now_state = _snapshot(model, optimizer)
    return (params.keys() == now_params.keys() and all(torch.equal(params[k], now_params[k]) for k in params)
            and state.keys() == now_state.keys()
            and all(torch.equal(state[i]["m"], now_state[i]["m"]) and torch.equal(state[i]["v"], now_state[i]["v"])
                    and state[i]["step"] == now_state[i]["step"] for i in state))


@pytest.mark.parametrize("to_file", [False, True], ids=["path", "file-object"])
def test_round_trip_restores_model_and_optimizer(tmp_path, to_file):
    model, optimizer = _trained()
    out = io.BytesIO() if to_file else tmp_path / "ckpt.pt"
    save_checkpoint(model, optimizer, 7, out, generator=np.random.default_rng(3), note="hello", losses=[3.5, 2.0])
    if to_file:
        out.seek(0)
    fresh = _model()
    torch.nn.init.zeros_(fresh.lm_head.weight)
    fresh_optimizer = AdamW(fresh.parameters(), lr=1e-2)
    assert load_checkpoint(out, fresh, fresh_optimizer) == 7
    assert _same(_snapshot(model, optimizer), fresh, fresh_optimizer)
    if to_file:
        out.seek(0)
    checkpoint = read_checkpoint(out)
    assert checkpoint["config"] == model.config.to_dict() and checkpoint["format_version"] == 1
    assert checkpoint["extra"] == {"note": "hello", "losses": [3.5, 2.0]}
    assert checkpoint["optimizer_class"] == "AdamW" and checkpoint["iteration"] == 7


def test_rng_states_are_saved_and_restored(tmp_path):
    model, optimizer = _trained(steps=0)
    generator = np.random.default_rng(5)
    generator.integers(0, 10, 3)
    torch.manual_seed(11)
    save_checkpoint(model, optimizer, 0, tmp_path / "c.pt", generator=generator)
    expected = (torch.rand(4), generator.integers(0, 1000, 4))
    checkpoint = read_checkpoint(tmp_path / "c.pt")
    other = np.random.default_rng(99)
    restore_rng_state(checkpoint["rng"], other)
    assert torch.equal(torch.rand(4), expected[0]) and np.array_equal(other.integers(0, 1000, 4), expected[1])
    assert ("cuda" in checkpoint["rng"]) == torch.cuda.is_available()


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "empty", "not a checkpoint"])
@pytest.mark.parametrize("as_file", [False, True], ids=["path", "file-object"])
def test_damaged_file_is_refused_and_leaves_model_untouched(tmp_path, damage, as_file):
    saved, saved_optimizer = _trained()
    buffer = io.BytesIO()
    save_checkpoint(saved, saved_optimizer, 3, buffer)
    data = bytearray(buffer.getvalue())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped byte":  # inside the tensor data, which torch.load alone would not notice
        data[len(data) // 3] ^= 0xFF
    elif damage == "empty":
        data = b""
    else:
        data = b"this is some text, not a zip archive" * 10
    (tmp_path / "bad.pt").write_bytes(bytes(data))
    src = io.BytesIO(bytes(data)) if as_file else tmp_path / "bad.pt"

    model, optimizer = _trained(steps=1)  # a different state from the saved one
    before = _snapshot(model, optimizer)
    with pytest.raises(ValueError, match="is truncated or corrupt"):
        load_checkpoint(src, model, optimizer)
    assert _same(before, model, optimizer)


def test_config_mismatch_names_the_fields_and_changes_nothing(tmp_path):
    saved, saved_optimizer = _trained()
    save_checkpoint(saved, saved_optimizer, 2, tmp_path / "c.pt")
    model, optimizer = _trained(d_ff=48, num_kv_heads=1)
    before = _snapshot(model, optimizer)
    with pytest.raises(ValueError, match=r"d_ff: checkpoint 32, model 48; num_kv_heads: checkpoint None, model 1"):
        load_checkpoint(tmp_path / "c.pt", model, optimizer)
    assert _same(before, model, optimizer)


def test_parameter_names_and_shapes_are_checked_first(tmp_path):
    small = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))  # no config: keys and shapes
    save_checkpoint(small, None, 1, tmp_path / "c.pt")
    wider = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 2))
    before = [p.clone() for p in wider.parameters()]
    with pytest.raises(ValueError, match=r"0.weight: checkpoint \(3, 4\), model \(5, 4\); 0.bias"):
        load_checkpoint(tmp_path / "c.pt", wider)
    assert all(torch.equal(p, q) for p, q in zip(before, wider.parameters()))
    with pytest.raises(ValueError, match=r"missing \['2.weight', '2.bias'\]"):
        load_checkpoint(tmp_path / "c.pt", torch.nn.Sequential(small[0], small[1], torch.nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="no optimizer state"):
        load_checkpoint(tmp_path / "c.pt", small, SGD(small.parameters(), lr=0.1))
    assert load_checkpoint(tmp_path / "c.pt", small) == 1


def test_optimizer_mismatch_is_refused(tmp_path):
    model, optimizer = _trained()
    save_checkpoint(model, optimizer, 2, tmp_path / "c.pt")
    with pytest.raises(ValueError, match="optimizer is AdamW, but the optimizer given is SGD"):
        load_checkpoint(tmp_path / "c.pt", model, SGD(model.parameters(), lr=0.1))
    params = list(model.parameters())
    split = AdamW([{"params": params[:3]}, {"params": params[3:]}])
    with pytest.raises(ValueError, match=r"groups of sizes \[\d+\], the optimizer given \[3, \d+\]"):
        load_checkpoint(tmp_path / "c.pt", model, split)


def test_a_failed_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    model, optimizer = _trained()
    save_checkpoint(model, optimizer, 1, tmp_path / "c.pt")

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(model, optimizer, 2, tmp_path / "c.pt")
    monkeypatch.undo()
    assert read_checkpoint(tmp_path / "c.pt")["iteration"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


class _Payload:  # any class: unpickling it would call arbitrary code, so weights_only refuses
    pass


def test_unsafe_and_foreign_files_are_refused(tmp_path):
    torch.save({"format_version": 1, "payload": _Payload()}, tmp_path / "unsafe.pt")
    with pytest.raises(ValueError, match="objects other than tensors"):
        read_checkpoint(tmp_path / "unsafe.pt")
    torch.save(_model().state_dict(), tmp_path / "bare.pt")
    with pytest.raises(ValueError, match="not an lmcourse checkpoint"):
        read_checkpoint(tmp_path / "bare.pt")
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        read_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="iteration=-1"):
        save_checkpoint(_model(), None, -1, tmp_path / "c.pt")
