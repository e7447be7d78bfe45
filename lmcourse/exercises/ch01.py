"""Chapter 1 (overview and tokenization): the exercises' references and checks."""

from __future__ import annotations

import random

from lmcourse.exercises import Mismatch, choice_exercise, expect, function_exercise, value_exercise
from lmcourse.exercises.study import choice, open_question

EOT = "<|endoftext|>"


def merge_pieces(pieces: list[bytes], pair: tuple[bytes, bytes]) -> list[bytes]:
    out, i = [], 0
    while i < len(pieces):
        if tuple(pieces[i:i + 2]) == pair:  # take the pair and jump over both halves, so that
            out.append(pair[0] + pair[1])   # [a, a, a] with (a, a) gives [aa, a]: no overlaps
            i += 2
        else:
            out.append(pieces[i])
            i += 1
    return out


def _check_merge_pieces(answer) -> None:
    from lmcourse.tokenizer.naive import merge_pieces as package_merge_pieces

    a, b, ab = b"a", b"b", b"ab"
    edge = [([a, a, a], (a, a)), ([a, a, a, a], (a, a)), ([], (a, b)), ([a], (a, a)), ([b, a, b], (a, b)),
            ([a, b, a, b], (a, b)), ([ab, b], (ab, b))]
    rng = random.Random(1)
    randomized = [([rng.choice([a, b, ab]) for _ in range(rng.randrange(9))],
                   (rng.choice([a, b]), rng.choice([a, b, ab]))) for _ in range(300)]
    for pieces, pair in edge + randomized:
        got = answer(list(pieces), pair)
        expect(got, package_merge_pieces(pieces, pair), f"my_merge_pieces({pieces!r}, {pair!r})")


def first_merge(text: str) -> tuple[bytes, bytes]:
    # Pieces of "the three trees there": "the", " three", " trees", " there". Inside them "th",
    # " t" and "re" each occur three times, every other pair at most twice. Among the tied pairs
    # the greatest as byte strings wins: (b"t", b"h"), because b"t" > b"r" > b" ".
    from lmcourse.tokenizer import bpe_steps

    return bpe_steps(text, 1)[0].merge


def no_compression(tokenizer, sentences: dict[str, str]) -> set[str]:
    # Exactly 1.0 bytes per token means one token per byte: no learned merge applies anywhere in the
    # sentence. Merges learned on English stories join Latin letters, so French and German still
    # compress a little; Cyrillic letters (2 bytes) and Chinese characters (3 bytes) never occurred
    # in training, so none of their byte pairs was ever merged.
    return {lang for lang, text in sentences.items()
            if len(text.encode("utf-8")) / len(tokenizer.encode(text)) == 1.0}


def greedy_longest_match(tokenizer, piece: str) -> list[int]:
    # the chapter's wrong encoder: repeatedly the longest vocabulary token that starts here
    data, ids, i = piece.encode(), [], 0
    while i < len(data):
        j = max(j for j in range(i + 1, len(data) + 1) if data[i:j] in tokenizer.id_of)
        ids.append(tokenizer.id_of[data[i:j]])
        i = j
    return ids


def greedy_pieces(tokenizer, pieces: list[str]) -> tuple[str, str]:
    # Longer: greedy grabs a long token early and leaves a remainder that splits badly; merge order
    # built the word from its most frequent pairs and avoided it. Shorter: merge order committed
    # early to a frequent small pair that blocks a longer token further on. Neither minimises the
    # token count; merge order is kept because its ids are the ones the model saw in training.
    longer = next(p for p in pieces if len(greedy_longest_match(tokenizer, p)) > len(tokenizer.encode(p)))
    shorter = next(p for p in pieces if len(greedy_longest_match(tokenizer, p)) < len(tokenizer.encode(p)))
    return longer, shorter


def _check_greedy_pieces(answer, tokenizer, pieces) -> None:
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2 and all(isinstance(p, str) for p in answer)):
        raise Mismatch(f"my_greedy_pieces: expected a pair (longer, shorter) of pieces (str), got {answer!r}")
    known = set(pieces)
    for piece, word, sign in zip(answer, ("longer", "shorter"), (1, -1)):
        if piece not in known:
            raise Mismatch(f"my_greedy_pieces: expected held-out pieces; {piece!r} is not one of them "
                           "(a piece is one pre-token, usually with its leading space)")
        greedy, merged = len(greedy_longest_match(tokenizer, piece)), len(tokenizer.encode(piece))
        if (greedy - merged) * sign <= 0:
            raise Mismatch(f"my_greedy_pieces: expected a {word} greedy encoding for {piece!r}; greedy gives "
                           f"{greedy} tokens, merge order {merged}")


def marker_tokens(tokenizer) -> list[str]:
    # undeclared, the marker is ordinary text: pre-tokenized ("<|", "endoftext", "|>") and each
    # piece merged as far as the learned merges allow
    return [tokenizer.decode([i]) for i in tokenizer.encode(EOT)]


def _check_marker_tokens(answer, tokenizer) -> None:
    from lmcourse.tokenizer import Tokenizer

    # The chapter's tokenizer, and a BPE tokenizer with no merges at all (every byte its own token).
    # Both are `Tokenizer`s with a `.vocab`, so an answer that reads `tokenizer.vocab[i]` works on both.
    bytes_only = Tokenizer({i: bytes([i]) for i in range(256)}, [])
    for tok, shown in ((tokenizer, "plain_tok"), (bytes_only, "a tokenizer with no merges")):
        expect(answer(tok), marker_tokens(tok), f"my_marker_tokens({shown})")


EXERCISES = [
    function_exercise("merge_pieces", "merge a pair", merge_pieces, check=_check_merge_pieces),
    value_exercise("first_merge", "predict a merge", first_merge),
    value_exercise("no_compression", "which languages do not compress", no_compression),
    choice_exercise(
        "no_merge_applies", "why some languages do not compress",
        {"a": "Cyrillic and Chinese characters are one byte each in UTF-8",
         "b": "the training stories contain none of their bytes side by side, so no learned merge ever "
              "applies and every byte stays a token",
         "c": "the tokenizer maps characters it never saw in training to an unknown token",
         "d": "the pre-tokenizer cuts non-Latin text into one piece per byte"},
        "b", "A byte-level BPE never has unknown tokens; it falls back to bytes. Merges learned on English "
             "stories only join byte pairs that occur there, so 2- and 3-byte characters stay 2 and 3 tokens. "
             "A multilingual tokenizer must be trained on multilingual text."),
    value_exercise("greedy_pieces", "is greedy at least shorter?", greedy_pieces, check=_check_greedy_pieces),
    function_exercise("marker_tokens", "undeclared special tokens", marker_tokens, check=_check_marker_tokens),
]

# The study devices (lmcourse.exercises.study): before the chapter, and after its summary.
WARM_UP = [
    choice("When BPE is *trained*, what decides which pair of tokens becomes the next new token?",
           ["the pair that comes first in alphabetical order",
            "the adjacent pair that occurs most often in the training text",
            "the pair whose merged token is longest",
            "a fixed list of common English subwords"],
           "b", "Training is greedy on frequency: count every adjacent pair, merge the most frequent one, "
                "repeat. Ties need a rule; the book's is the greater pair."),
    open_question("A tokenizer that makes every UTF-8 byte a token has how many ids, and what does that "
                  "cost a Transformer?",
                  "256 ids, and nothing is ever unknown; but a sequence is as long as the text in bytes, "
                  "about four times longer than with GPT-2's tokenizer on English, and attention's cost "
                  "grows with that length."),
    open_question("Merge the pair (`u`, `s`) once in the characters of `unusual_users`. What is left?",
                  "`u n us u a l _ us e r s`: 11 tokens from 13. The chapter's cell runs it, and shows "
                  "why a real BPE would have merged another pair first."),
]

QUIZ = [
    choice("A model is served to a chat user. Which phase of generating the answer is limited by "
           "memory bandwidth rather than arithmetic?",
           ["prefill: all prompt tokens go through the model at once",
            "decode: one new token per step, each step reading all weights and the KV cache",
            "both equally", "neither; inference is always compute-bound"],
           "b", "Prefill multiplies matrices by many tokens at once; decode does little arithmetic per "
                "byte it reads. Chapters 5 and 10 measure both."),
    choice("Llama 3's weights can be downloaded, its training data cannot. Which level of openness is that?",
           ["closed", "open-weight", "open-source"],
           "b", "Open-source (e.g. OLMo) also publishes data and code; closed models are reachable only "
                "through an API."),
    choice("What does the bitter lesson, read correctly, say?",
           ["scale is all you need; algorithms no longer matter",
            "methods that turn more compute into better models win, so efficiency matters most at scale",
            "hand-designed features beat learned ones when data is scarce"],
           "b", "The lesson is about methods that scale; wasted compute costs the most at the largest scale."),
    choice("How does a *trained* BPE tokenizer encode a new piece of text?",
           ["it counts the pairs in the new text and merges the most frequent, as in training",
            "it applies the learned merges in the order they were learned, inside each pre-token",
            "it takes the longest vocabulary token at each position"],
           "b", "Encoding re-learns nothing; greedy longest match is a different tokenizer that the "
                "chapter shows disagreeing with it."),
    choice("You grow a BPE vocabulary from 32,000 to 64,000 tokens. What happens?",
           ["sequences get shorter, and the embedding and output matrices get bigger",
            "sequences get longer, and the model gets smaller",
            "nothing changes but the training time of the tokenizer"],
           "a", "Vocabulary size trades sequence length against the parameters of the two vocab-sized "
                "matrices; the chapter measures both sides."),
    choice("By the Chinchilla rule of thumb, about how many training tokens is compute-optimal for a "
           "1-billion-parameter model?",
           ["1 billion", "20 billion", "1 trillion"],
           "b", "About 20 tokens per parameter; chapter 9 fits the rule itself. Models meant to be served "
                "a lot are trained on far more."),
]
