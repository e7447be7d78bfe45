from collections import Counter


def _right_to_left(pieces, pair):  # scans from the end: [a, a, a] with (a, a) gives [a, aa]
    out, i = [], len(pieces) - 1
    while i >= 0:
        if i > 0 and (pieces[i - 1], pieces[i]) == pair:
            out.insert(0, pieces[i - 1] + pieces[i])
            i -= 2
        else:
            out.insert(0, pieces[i])
            i -= 1
    return out


def _pretokens(tokenizer):  # confuses the pre-tokenizer's pieces with tokens
    from lmcourse.tokenizer import pretokenize

    return pretokenize("<|endoftext|>")


def _greedy_context():
    from lmcourse.corpus import generate_text
    from lmcourse.tokenizer import Tokenizer, pretokenize, train_bpe_from_counts

    vocab, merges = train_bpe_from_counts(Counter(pretokenize(generate_text(60_000, seed=0))), 600)
    pieces = list(Counter(pretokenize(generate_text(30_000, seed=1))))
    return {"tokenizer": Tokenizer(vocab, merges), "pieces": pieces}


def _sentences_context():
    from lmcourse.corpus import generate_text
    from lmcourse.tokenizer import Tokenizer, pretokenize, train_bpe_from_counts

    vocab, merges = train_bpe_from_counts(Counter(pretokenize(generate_text(30_000, seed=0))), 500)
    sentences = {
        "English": "The little cat found a red apple in the garden.",
        "French": "Le petit chat a trouvé une pomme rouge dans le jardin.",
        "Russian": "Маленькая кошка нашла красное яблоко в саду.",
        "Chinese": "小猫在花园里找到了一个红苹果。",
    }
    return {"tokenizer": Tokenizer(vocab, merges), "sentences": sentences}


def _marker_context():
    from lmcourse.corpus import generate_text
    from lmcourse.tokenizer import Tokenizer, pretokenize, train_bpe_from_counts

    vocab, merges = train_bpe_from_counts(Counter(pretokenize(generate_text(30_000, seed=0))), 500)
    return {"tokenizer": Tokenizer(vocab, merges)}


WRONG = {
    "merge_pieces": _right_to_left,
    "first_merge": (b" ", b"t"),  # the tie broken towards the smallest pair
    "no_compression": {"Chinese"},  # forgets that Cyrillic letters are two bytes no merge joins
    "no_merge_applies": "c",
    "greedy_pieces": (" both", " grandma"),  # the two swapped: greedy is shorter on the first
    "marker_tokens": _pretokens,
}

CONTEXT = {
    "first_merge": {"text": "the three trees there"},
    "no_compression": _sentences_context,
    "greedy_pieces": _greedy_context,
    "marker_tokens": _marker_context,
}
