"""Real data for the CLI, offline: verified downloads from a local HTTP server, parallel resumable
tokenization into token files, `--data PATH | tinystories`, the metrics files and `plot`, the presets."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest

import lmcourse.train.encode as encode_module
from lmcourse.corpus import write_corpus
from lmcourse.data import download, loaders
from lmcourse.tokenizer import Tokenizer, train_bpe
from lmcourse.train import load_tokens, read_checkpoint
from lmcourse.train.encode import encode_file
from lmcourse.train.presets import PRESETS, preset
from lmcourse.train.prepare import check_config

EOT = "<|endoftext|>"


# -- downloads: progress, cache, checks ---------------------------------------------------------------------
class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):  # /short/NAME claims more bytes than it sends, as a dropped connection does
        if self.path.startswith("/short/"):
            body = b"only part of it"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 100))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_checks_the_checksum_and_keeps_only_good_files(server, tmp_path):
    import hashlib

    served, url = server
    (served / "corpus.txt").write_bytes(b"once upon a time" * 1000)
    good = hashlib.sha256((served / "corpus.txt").read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=f"has SHA-256 {good}, expected {'0' * 64}"):
        download(f"{url}/corpus.txt", cache, sha256="0" * 64)
    assert not cache.exists() or not any(cache.iterdir())  # nothing half-written, nothing wrong kept
    path = download(f"{url}/corpus.txt", cache, sha256=good)
    assert path.read_bytes() == (served / "corpus.txt").read_bytes()
    with pytest.raises(OSError, match="ended after 15 of 115 bytes"):
        download(f"{url}/short/cut.txt", cache)
    assert sorted(p.name for p in cache.iterdir()) == ["corpus.txt"]
    with pytest.raises(ValueError, match="sha256='abc'; expected 64 hexadecimal digits"):
        download(f"{url}/corpus.txt", cache, sha256="abc")


# -- parallel tokenization -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus_and_tokenizer(tmp_path_factory):
    where = tmp_path_factory.mktemp("encode")
    write_corpus(where / "corpus.txt", 300_000, seed=0, separator=EOT)
    return where / "corpus.txt", Tokenizer(*train_bpe(where / "corpus.txt", 400, [EOT], num_workers=1,
                                                      show_progress=False), [EOT])


@pytest.mark.parametrize("specials", [[EOT], []], ids=["documents", "plain-text"])
def test_parallel_encoding_equals_encoding_the_whole_text(corpus_and_tokenizer, tmp_path, specials):
    path, tokenizer = corpus_and_tokenizer
    tokenizer = Tokenizer(tokenizer.vocab, tokenizer.merges, specials)
    count = encode_file(tokenizer, path, tmp_path / "out.bin", num_workers=2, piece_bytes=20_000)
    expected = tokenizer.encode(path.read_text(encoding="utf-8"))
    assert count == len(expected) and load_tokens(tmp_path / "out.bin").tolist() == expected
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # the parts are gone


_REAL_ENCODE_PIECE = encode_module._encode_piece


def _dies_after_the_first_piece(text_path, start, end, part, dtype):  # module level: the pool pickles it by name
    if start > 0:
        raise RuntimeError("power cut")
    return _REAL_ENCODE_PIECE(text_path, start, end, part, dtype)


def test_an_interrupted_encoding_resumes_from_its_finished_pieces(corpus_and_tokenizer, tmp_path, monkeypatch):
    path, tokenizer = corpus_and_tokenizer
    monkeypatch.setattr(encode_module, "_encode_piece", _dies_after_the_first_piece)
    with pytest.raises(RuntimeError, match="power cut"):
        encode_file(tokenizer, path, tmp_path / "out.bin", num_workers=1, piece_bytes=50_000)
    parts = tmp_path / ".out.bin.parts"
    assert sorted(p.name for p in parts.glob("*.bin")) == ["000000.bin"] and not (tmp_path / "out.bin").exists()

    monkeypatch.setattr(encode_module, "_encode_piece", _REAL_ENCODE_PIECE)
    encode_file(tokenizer, path, tmp_path / "out.bin", num_workers=1, piece_bytes=50_000)
    assert load_tokens(tmp_path / "out.bin").tolist() == tokenizer.encode(path.read_text(encoding="utf-8"))
    assert not parts.exists()


def test_encode_file_bad_input(corpus_and_tokenizer, tmp_path):
    path, tokenizer = corpus_and_tokenizer
    with pytest.raises(FileNotFoundError, match="is not a file"):
        encode_file(tokenizer, tmp_path / "missing.txt", tmp_path / "out.bin")
    with pytest.raises(ValueError, match="end=10000000; expected 0 <= start <= end <= 300"):
        encode_file(tokenizer, path, tmp_path / "out.bin", end=10_000_000)
    with pytest.raises(TypeError, match="expected a lmcourse Tokenizer"):
        encode_file("gpt2", path, tmp_path / "out.bin")
    assert not any(tmp_path.iterdir())


# -- the CLI on real data --------------------------------------------------------------------------------------
TINY = {"model": {"context_length": 16, "d_model": 32, "num_layers": 1, "num_heads": 2, "d_ff": 64},
        "train": {"batch_size": 4, "max_iters": 4, "eval_interval": 2, "eval_iters": 1, "log_interval": 1,
                  "peak_flops": 1e9},
        "data": {"vocab_size": 300}}


def _main(tmp_path, *args, config=TINY):
    from lmcourse.train.__main__ import main

    (tmp_path / "cfg.json").write_text(json.dumps(config))
    return main(["--config", str(tmp_path / "cfg.json"), "--workers", "1", *args])


def test_cli_trains_on_a_text_file_and_holds_out_its_end(tmp_path, capsys):
    text = tmp_path / "my_corpus.txt"
    write_corpus(text, 60_000, seed=3, separator=EOT)
    out = tmp_path / "run"
    assert _main(tmp_path, "--out", str(out), "--data", str(text), "--sample", "1") == 0
    tokenizer = Tokenizer.from_files(out / "vocab.json", out / "merges.txt", [EOT])
    whole = tokenizer.encode(text.read_text(encoding="utf-8"))
    train_ids, val_ids = load_tokens(out / "train.bin").tolist(), load_tokens(out / "val.bin").tolist()
    assert train_ids + val_ids == whole and 0 < len(val_ids) < len(whole) // 20
    assert json.loads((out / "data.json").read_text())["source"] == str(text.resolve())
    assert read_checkpoint(out / "ckpt.pt")["iteration"] == 4 and (out / "samples.txt").read_text().startswith("---")


def test_cli_downloads_tinystories_once_offline(tmp_path, monkeypatch, capsys):
    served = tmp_path / "hub"
    served.mkdir()
    for split, seed in (("train", 1), ("valid", 2)):
        write_corpus(served / f"TinyStories-{split}.txt", 30_000 if split == "train" else 3_000, seed=seed, separator=EOT)
    monkeypatch.setattr(loaders, "TINYSTORIES_URL", served.as_uri() + "/TinyStories-{split}.txt")
    cache = tmp_path / "cache"
    args = ["--data", "tinystories", "--cache-dir", str(cache), "--sample", "0"]
    assert _main(tmp_path, "--out", str(tmp_path / "a"), *args) == 0
    assert sorted(p.name for p in cache.iterdir()) == ["TinyStories-train.txt", "TinyStories-valid.txt"]
    (served / "TinyStories-train.txt").unlink()  # a second run must not download again
    assert _main(tmp_path, "--out", str(tmp_path / "b"), *args) == 0


@pytest.mark.parametrize("data, message", [
    ("no/such/file.txt", "data source 'no/such/file.txt' is neither one of"),
    ("EMPTY", "the text is empty"),
    ("FOLDER", "a folder with no *.txt files"),
])
def test_cli_bad_data_source_is_one_clear_line(tmp_path, capsys, data, message):
    if data == "EMPTY":
        data = str(tmp_path / "empty.txt")
        Path(data).write_text("")
    elif data == "FOLDER":
        data = str(tmp_path / "folder")
        Path(data).mkdir()
    assert _main(tmp_path, "--out", str(tmp_path / "run"), "--data", data) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


# -- logs and plots ---------------------------------------------------------------------------------------------
def test_metrics_files_and_plot(tmp_path, capsys):
    from lmcourse.train.__main__ import main
    from lmcourse.train.log import COLUMNS, read_metrics

    config = {**TINY, "data": {"corpus_bytes": 20_000, "vocab_size": 300}}
    for name in ("a", "b"):
        assert _main(tmp_path, "--out", str(tmp_path / name), "--sample", "0", config=config) == 0
    printed = capsys.readouterr().out
    assert "iter      4  loss" in printed and "tok/s  MFU" in printed and " GB" in printed
    rows = read_metrics(tmp_path / "a")
    assert [r["iter"] for r in rows] == [1, 2, 3, 4] and set(rows[0]) == set(COLUMNS)
    assert rows[-1]["tokens"] == 4 * 4 * 16 and rows[1]["val_loss"] is not None and rows[0]["val_loss"] is None
    header = (tmp_path / "a" / "metrics.csv").read_text().splitlines()[0]
    assert header == ",".join(COLUMNS)
    with open(tmp_path / "a" / "metrics.jsonl", "a") as f:
        f.write('{"iter": 5, "loss"')  # a row cut off by a crash
    assert len(read_metrics(tmp_path / "a")) == 4

    assert main(["plot", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "loss.png")]) == 0
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", str(tmp_path)]) == 2
    assert "no metrics.jsonl" in capsys.readouterr().err

    # plot_loss draws on a given axes (what the book's appendix uses): a train line and a validation line per run
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lmcourse.train import plot_loss

    fig, ax = plt.subplots()
    assert plot_loss([tmp_path / "a", tmp_path / "b"], ax, x="iter", labels=["one", "two"]) is ax
    assert [line.get_label() for line in ax.lines] == ["one train", "one validation", "two train", "two validation"]
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="1 labels for 2 runs"):
        plot_loss([tmp_path / "a", tmp_path / "b"], ax, labels=["one"])
    with pytest.raises(ValueError, match="x='loss'"):
        plot_loss([tmp_path / "a"], ax, x="loss")
    plt.close(fig)


# -- presets ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_configs_with_a_note(name):
    model, train_fields, data = check_config(preset(name), name)
    assert PRESETS[name]["note"] and data["vocab_size"] > 0


def test_h100_preset_is_the_cs336_assignment_one_configuration():
    model, train_fields, data = check_config(preset("h100"), "h100")
    assert (model["d_model"], model["d_ff"], model["num_layers"], model["num_heads"], model["context_length"]) == (
        512, 1344, 4, 16, 256)
    assert data == {**data, "source": "tinystories", "vocab_size": 10_000}
    assert train_fields["batch_size"] * model["context_length"] * train_fields["max_iters"] == 327_680_000
    with pytest.raises(ValueError, match="preset='h200'; expected one of"):
        preset("h200")
