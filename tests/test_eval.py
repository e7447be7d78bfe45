"""lmcourse.eval: perplexity windows vs a full-context reference, harness scoring vs direct log-probs,
parsers (with property tests), generated tasks, file loaders, contamination."""

import json
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lmcourse.eval import (LETTERS, PROMPT_FORMATS, MathExample, MCExample, bits_per_byte, contamination_report,
                           continuation_log_likelihoods, evaluate_generative, evaluate_multiple_choice, evaluate_text,
                           format_math_prompt, format_mc_prompt, generate_completions, load_gsm8k_jsonl,
                           load_mmlu_csv, make_mc_questions, make_word_problems, parse_gsm8k_response,
                           parse_mmlu_response, sequence_nll, sliding_windows, split_of)
from lmcourse.nn import TransformerLM
from lmcourse.tokenizer import ByteTokenizer


def tiny_model(vocab_size=256, context_length=16, seed=0):
    torch.manual_seed(seed)
    return TransformerLM(vocab_size, context_length, 32, 2, 2, 64).eval()


def full_context_nll(model, ids):
    """Reference: every token t >= 1 scored with all of the tokens before it (no window)."""
    ids = torch.tensor(ids)[None]
    logits = model(ids[:, :-1])
    return F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item()


# --- perplexity -------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,L,s", [(2, 4, 4), (10, 4, 4), (10, 4, 1), (37, 8, 3), (9, 8, 8), (100, 16, 5)])
def test_windows_score_each_token_once(n, L, s):
    seen = []
    for begin, end, first in sliding_windows(n, L, s):
        assert 0 <= begin < end <= n - 1 and end - begin <= L and begin + 1 <= first <= end
        seen.extend(range(first, end + 1))
    assert seen == list(range(1, n))


def test_windows_errors():
    with pytest.raises(ValueError, match="stride"):
        sliding_windows(10, 4, 5)
    with pytest.raises(ValueError, match="num_tokens"):
        sliding_windows(1, 4, 2)
    with pytest.raises(ValueError, match="context_length"):
        sliding_windows(10, 0, 1)


def test_sequence_nll_matches_full_context_when_it_fits():
    model = tiny_model(context_length=16)
    ids = torch.randint(0, 256, (17,)).tolist()  # 16 inputs: one window covers everything
    nats, count = sequence_nll(model, ids)
    assert count == 16
    assert nats == pytest.approx(full_context_nll(model, ids), rel=1e-5)


@pytest.mark.slow
def test_stride_one_equals_per_token_reference():
    model = tiny_model(context_length=8)
    ids = torch.randint(0, 256, (30,)).tolist()
    expected = 0.0
    for t in range(1, 30):  # token t given the last min(t, 8) tokens
        ctx = torch.tensor(ids[max(0, t - 8):t])[None]
        expected -= F.log_softmax(model(ctx)[0, -1], -1)[ids[t]].item()
    for batch_size in (1, 4, 64):
        nats, count = sequence_nll(model, ids, stride=1, batch_size=batch_size)
        assert count == 29 and nats == pytest.approx(expected, rel=1e-5)


def test_bits_per_byte_and_text_score():
    assert bits_per_byte(math.log(2) * 10, 10) == pytest.approx(1.0)
    model = tiny_model(context_length=16)
    text = "héllo wörld, a small text of bytes"
    score = evaluate_text(model, ByteTokenizer(), text, bos_id=0, stride=4)
    assert score.bytes == len(text.encode()) == score.tokens  # bytes tokenizer: one token per byte
    nats, _ = sequence_nll(model, [0] + list(text.encode()), stride=4)
    assert score.nats == pytest.approx(nats)
    assert score.bits_per_byte == pytest.approx(score.nats_per_token / math.log(2))
    assert score.perplexity == pytest.approx(math.exp(score.nats / score.tokens))
    with pytest.raises(ValueError, match="bos_id"):
        evaluate_text(model, ByteTokenizer(), text, bos_id=256)
    with pytest.raises(ValueError, match="num_bytes"):
        bits_per_byte(1.0, 0)


# --- tasks and loaders ------------------------------------------------------------------------------

def test_generated_tasks_are_deterministic_and_valid():
    a, b = make_mc_questions(30, seed=3), make_mc_questions(30, seed=3)
    assert a == b and a != make_mc_questions(30, seed=4)
    for e in a:
        assert len(set(e.options)) == 4 and e.answer in LETTERS
        if e.subject == "addition":
            x, y = (int(t) for t in e.question[len("What is "):-1].split(" + "))
            assert e.options[e.answer_index] == str(x + y)
    assert {e.answer for e in make_mc_questions(200)} == set(LETTERS)
    for p in make_word_problems(50, seed=1):
        assert p.solution.endswith(f"#### {p.answer}") and int(p.answer) >= 0
    with pytest.raises(ValueError, match="subjects"):
        make_mc_questions(3, subjects=("physics",))
    with pytest.raises(ValueError, match="n="):
        make_word_problems(0)
    with pytest.raises(ValueError, match="n="):
        make_word_problems(None)
    with pytest.raises(ValueError, match="split"):
        make_mc_questions(3, split="dev")
    with pytest.raises(TypeError, match="question"):
        split_of(3)


def test_train_and_test_splits_share_no_question():
    everything = {e.question for e in make_mc_questions(None)}
    test, train = make_mc_questions(None, seed=5, split="test"), make_mc_questions(None, seed=5, split="train")
    assert len(everything) == 100 + 99 + 58 == len(test) + len(train)  # each question once, on one side
    assert {e.question for e in test} | {e.question for e in train} == everything
    assert {e.question for e in test}.isdisjoint(e.question for e in train)
    assert 0.3 < len(test) / len(everything) < 0.7
    assert all(split_of(e.question) == "test" for e in test)
    drawn = make_mc_questions(600, seed=1, split="train")  # draws with replacement stay on their side
    assert {e.question for e in drawn} <= {e.question for e in train}
    # The package's contamination check agrees: no test question in training text built from the train
    # split, most of them in text drawn from the whole space.
    items = [e.question for e in test]
    assert contamination_report(items, [format_mc_prompt(e) for e in drawn], n=8).contaminated == []
    assert contamination_report(items, [format_mc_prompt(e) for e in make_mc_questions(600, seed=1)], n=8).fraction > 0.5
    problems = make_word_problems(300, seed=1, split="test")
    assert len(problems) == 300 and all(split_of(p.question) == "test" for p in problems)
    assert {p.question for p in problems}.isdisjoint(p.question for p in make_word_problems(3000, seed=2, split="train"))


def test_loaders_read_the_real_formats(tmp_path):
    csv_path = tmp_path / "astronomy_test.csv"
    csv_path.write_text('"What orbits the Earth?",The Moon,Mars,"Venus, maybe",The Sun,A\nQ2,a,b,c,d,d\n')
    rows = load_mmlu_csv(csv_path)
    assert rows[0] == MCExample("astronomy", "What orbits the Earth?", ("The Moon", "Mars", "Venus, maybe", "The Sun"), "A")
    assert rows[1].answer == "D"
    jsonl = tmp_path / "gsm8k.jsonl"
    jsonl.write_text(json.dumps({"question": "How many?", "answer": "2 + 2 = <<2+2=4>>4\n#### 1,004"}) + "\n\n")
    assert load_gsm8k_jsonl(jsonl) == [MathExample("How many?", "2 + 2 = <<2+2=4>>4\n#### 1,004", "1004")]
    bad = tmp_path / "bad.csv"
    bad.write_text("q,a,b,c\n")
    with pytest.raises(ValueError, match="columns"):
        load_mmlu_csv(bad)
    with pytest.raises(FileNotFoundError):
        load_gsm8k_jsonl(tmp_path / "missing.jsonl")
    (tmp_path / "nohash.jsonl").write_text(json.dumps({"question": "q", "answer": "4"}))
    with pytest.raises(ValueError, match="####"):
        load_gsm8k_jsonl(tmp_path / "nohash.jsonl")


# --- parsers ----------------------------------------------------------------------------------------

EXAMPLE = {"subject": "virology", "question": "What replicates?", "options": ["DNA", "RNA", "Proteins", "Lipids"],
           "answer": "B"}


@pytest.mark.parametrize("output,expected", [
    ("The correct answer is B. Tomatoes are fruits.", "B"),
    ("The correct answer is 10000 polymerases.", None),
    ("Answer: (C)", "C"),
    ("A. DNA is the right one", "A"),
    ("(D)", "D"),
    ("A dog ate my homework", None),
    ("I think the answer is a mystery", None),
    ("Options A and B look wrong; the answer is C", "C"),
    ("rna", "B"),
    ("", None),
])
def test_parse_mmlu_examples(output, expected):
    assert parse_mmlu_response(EXAMPLE, output) == expected


@given(st.sampled_from(LETTERS), st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,", max_size=40),
       st.sampled_from(["The correct answer is {}", "answer: {}", "So the answer is ({}).", "The answer is {}."]))
@settings(max_examples=200, deadline=None)
def test_parse_mmlu_finds_a_stated_commitment(letter, filler, template):
    assert parse_mmlu_response(EXAMPLE, filler + " " + template.format(letter)) == letter


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ,.!?", max_size=60))
@settings(max_examples=200, deadline=None)
def test_parse_mmlu_without_a_capital_letter_is_none_unless_it_is_an_option(text):
    options = ["10 apples", "dna", "x", "y"]
    parsed = parse_mmlu_response({"options": options}, text)
    stripped = text.strip().rstrip(".").strip().lower()
    assert parsed == (LETTERS[options.index(stripped)] if stripped in options else None)


@pytest.mark.parametrize("output,expected", [
    ("The total is $1,234.", "1234"), ("3 + 4 = 7", "7"), ("no numbers here", None), ("It is 3.5.", "3.5"),
    ("Temperature fell to -7 degrees", "-7"), ("5-3", "3"), ("#### 42\n", "42"),
    ("she counted 1,2,3", "3"), ("12,3456 apples", "3456"), ("paid 1,000,000.50, then 7,", "7"),
])
def test_parse_gsm8k_examples(output, expected):
    assert parse_gsm8k_response(output) == expected


@given(st.integers(-10**9, 10**9), st.text(alphabet="abcdefghij xyz!?$#=\n", max_size=30),
       st.text(alphabet="abcdefghij xyz!?$#=\n", max_size=30), st.booleans())
@settings(max_examples=300, deadline=None)
def test_parse_gsm8k_reads_the_last_number(n, before, after, commas):
    written = f"{n:,}" if commas else str(n)
    assert parse_gsm8k_response(f"{before} 12 {written} {after}") == str(n)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz .,!?$#\n-", max_size=80))
def test_parse_gsm8k_without_digits_is_none(text):
    assert parse_gsm8k_response(text) is None


def test_parser_errors():
    with pytest.raises(TypeError, match="example"):
        parse_mmlu_response(["A", "B"], "A")
    with pytest.raises(TypeError, match="output"):
        parse_gsm8k_response(None)


# --- harness ----------------------------------------------------------------------------------------

def test_prompt_formats():
    e = MCExample("addition", "What is 1 + 1?", ("1", "2", "3", "4"), "B")
    prompt = format_mc_prompt(e)
    assert prompt.startswith("The following are multiple choice questions (with answers) about addition.\n\n")
    assert prompt.endswith("What is 1 + 1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:")
    shot = format_mc_prompt(e, "mmlu", shots=[e])
    assert shot.count("Answer: B\n\n") == 1 and shot.count("The following") == 1
    assert "A. 1" not in format_mc_prompt(e, "cloze")
    assert format_mc_prompt(e, "(A) labels").count("(C) 3") == 1
    m = make_word_problems(2)
    assert format_math_prompt(m[1], [m[0]]) == f"Question: {m[0].question}\nAnswer: {m[0].solution}\n\n" \
                                                 f"Question: {m[1].question}\nAnswer:"
    with pytest.raises(ValueError, match="fmt"):
        format_mc_prompt(e, "nope")


@pytest.mark.slow
def test_continuation_log_likelihoods_match_direct_computation():
    model = tiny_model(context_length=16)
    contexts = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18], [7]]
    conts = [[9], [20, 21], [30, 31, 32]]
    got = continuation_log_likelihoods(model, contexts, conts, batch_size=2)
    for (ctx, cont), value in zip(zip(contexts, conts), got):
        full = (ctx + cont)[-17:]
        lp = F.log_softmax(model(torch.tensor([full[:-1]])), -1)[0]
        expected = sum(lp[len(full) - len(cont) - 1 + i, tok].item() for i, tok in enumerate(cont))
        assert value.item() == pytest.approx(expected, rel=1e-5, abs=1e-5)
    with pytest.raises(ValueError, match="continuation"):
        continuation_log_likelihoods(model, [[1]], [[]])


@pytest.mark.slow
def test_evaluate_multiple_choice_and_normalization():
    model, tok = tiny_model(context_length=128), ByteTokenizer()
    examples = make_mc_questions(8, seed=5)
    for name in PROMPT_FORMATS:
        result = evaluate_multiple_choice(model, tok, examples, name)
        assert result.scores.shape == (8, 4) and result.n == 8 and 0 <= result.accuracy <= 1
        assert result.predictions == [LETTERS[i] for i in result.scores.argmax(1).tolist()]
    raw = evaluate_multiple_choice(model, tok, examples, "cloze")
    per_byte = evaluate_multiple_choice(model, tok, examples, "cloze", normalize="bytes")
    lengths = torch.tensor([[len((" " + o).encode()) for o in e.options] for e in examples], dtype=torch.float32)
    assert torch.allclose(per_byte.scores, raw.scores / lengths, atol=1e-6)
    # The harness's score for the right letter is the model's log-prob of " B" (two bytes) after the prompt.
    e = examples[0]
    ids = tok.encode(format_mc_prompt(e) + " " + e.answer)
    lp = F.log_softmax(model(torch.tensor([ids[:-1]])), -1)[0]
    direct = lp[-2, ids[-2]].item() + lp[-1, ids[-1]].item()
    score = evaluate_multiple_choice(model, tok, [e]).scores[0, e.answer_index].item()
    assert score == pytest.approx(direct, rel=1e-5)
    with pytest.raises(ValueError, match="normalize"):
        evaluate_multiple_choice(model, tok, examples, normalize="words")
    with pytest.raises(ValueError, match="examples"):
        evaluate_multiple_choice(model, tok, [])


def test_generation_matches_model_generate_and_parses():
    model, tok = tiny_model(context_length=64), ByteTokenizer()
    prompts = ["ab", "cd", "xyz"]  # two share a length and are batched together
    outs = generate_completions(model, tok, prompts, 5)
    for p, o in zip(prompts, outs):
        ids = model.generate(torch.tensor(tok.encode(p)), 5, temperature=0)
        assert o == tok.decode(ids[len(p):].tolist())
    problems = make_word_problems(4, seed=0)
    result = evaluate_generative(model, tok, problems, max_new_tokens=3)
    assert result.n == 4 and result.predictions == [parse_gsm8k_response(o) for o in result.outputs]
    assert result.accuracy == sum(p == e.answer for p, e in zip(result.predictions, problems)) / 4
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate_completions(model, tok, prompts, 0)


class _Oracle(torch.nn.Module):
    """A fake LM over bytes that always predicts a fixed continuation string, to test the plumbing."""

    def __init__(self, text: str, context_length=256):
        super().__init__()
        self.text = text.encode()
        self.config = type("C", (), {"context_length": context_length, "vocab_size": 256})()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def generate(self, ids, max_new_tokens, temperature=0, eos_id=None):
        new = torch.tensor(list(self.text[:max_new_tokens]))[None].expand(ids.shape[0], -1)
        return torch.cat([ids, new], 1)


def test_generative_accuracy_with_an_oracle():
    problems = [MathExample("q1", "#### 7", "7"), MathExample("q2", "#### 8", "8")]
    result = evaluate_generative(_Oracle(" so 3 + 4 = 7\n\nQuestion: more 99"), ByteTokenizer(), problems, max_new_tokens=40)
    assert result.outputs == [" so 3 + 4 = 7"] * 2 and result.accuracy == 0.5 and result.parse_failures == 0


# --- contamination ----------------------------------------------------------------------------------

def test_contamination_finds_planted_items():
    problems = make_word_problems(40, seed=11)
    items = [p.question for p in problems]
    corpus = ["Once upon a time there was a cat who liked to nap in the sun all day long."] * 3
    planted = [3, 17, 29]
    corpus.append("A story. " + items[3].upper() + " And then more words followed it.")  # case and punctuation differ
    corpus.append(items[17] + " " + items[29])
    report = contamination_report(items, corpus, n=13)
    clean = [i for i in range(40) if items[i] not in {items[j] for j in planted}]
    assert set(planted) <= set(report.contaminated) and not set(report.contaminated) & set(clean)
    assert report.overlaps[3] == 1.0 and report.fraction == len(report.contaminated) / 40
    # A short item (fewer than n words) counts when its whole text occurs.
    short = contamination_report(["a cat who liked", "dog dog"], corpus, n=13)
    assert short.overlaps == [1.0, 0.0]
    with pytest.raises(ValueError, match="n="):
        contamination_report(items, corpus, n=0)
    with pytest.raises(TypeError, match="documents"):
        contamination_report(items, "one string")


def test_contamination_overlap_fraction_matches_a_direct_count():
    item = " ".join(f"w{i}" for i in range(20))  # 20 words -> 8 distinct 13-grams
    doc = " ".join(f"w{i}" for i in range(5, 20))  # contains the 13-grams starting at w5, w6, w7
    report = contamination_report([item], [doc], n=13, threshold=0.5)
    assert report.overlaps == [pytest.approx(3 / 8)] and report.contaminated == []
