"""An n-gram language model with interpolated modified Kneser-Ney smoothing, scored the way KenLM does.

Model-based filtering in its generative form (CCNet, Wenzek et al. 2020): fit an n-gram model on target
text (CCNet used Wikipedia), score every raw document, keep the ones with low perplexity. KenLM is the
tool everyone uses for that; this module is the same estimator written out in Python for small corpora.

The estimator (Chen & Goodman 1998, section 3; KenLM's `lmplz`), for order N:
- counts: every n-gram (n <= N) ending at a predicted token of "<s> w1 ... wk </s>". An n-gram of the
  highest order, or one starting with <s>, keeps its raw count; any other keeps its *continuation count*,
  the number of distinct words seen just before it. That is Kneser-Ney's idea: "Francisco" is frequent but
  follows only "San", so as a unigram it should be rare.
- discounts: for each order, D1, D2, D3+ from the count-of-counts n1..n4 of that order's (adjusted) counts:
  Y = n1 / (n1 + 2 n2),  D_k = k - (k + 1) Y n_{k+1} / n_k  (clipped to [0, k]).
- interpolation: p(w | h) = max(c(hw) - D(c(hw)), 0) / c(h.) + gamma(h) p(w | h'),  where h' drops h's
  oldest word and gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3+ N3+(h.)) / c(h.), the mass the discounts freed
  (N_k(h.) = number of words following h with count k). An unseen context passes everything to h'.
  The recursion ends at the uniform distribution over the vocabulary, which includes </s> and <unk> but not
  <s> (never predicted), so every p(. | h) sums to 1 over the vocabulary and unseen words get probability > 0.

Scores are log10 probabilities and perplexity is 10 ** (-total log10 prob / number of predicted tokens,
</s> included), as in KenLM's `query`. Tokens are `normalize.word_tokens`; each text is one sequence.

Leaves out: pruning, the ARPA file format and backoff (non-interpolated) queries, KenLM's binary
data structures and speed (this is dictionaries; fine for a few MB), and sentence splitting.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

from lmcourse.data.normalize import word_tokens

__all__ = ["KneserNeyLM", "BOS", "EOS", "UNK"]

BOS, EOS, UNK = "<s>", "</s>", "<unk>"


def _discounts(counts: Iterable[int]) -> tuple[float, float, float]:
    """(D1, D2, D3+) from the count-of-counts n1..n4, Chen & Goodman's estimates as KenLM computes them.

    Where they are undefined or not positive (tiny corpora; KenLM refuses such data) all three fall back
    to Y = n1 / (n1 + 2 n2), plain interpolated Kneser-Ney with Ney's discount (0.5 with no singletons).
    """
    n = Counter(c for c in counts if c <= 4)
    n1, n2, n3, n4 = (n[k] for k in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2) if n1 else 0.5
    if n1 and n2 and n3 and n4:
        d = tuple(min(k - (k + 1) * y * n_next / n_k, float(k))
                  for k, n_k, n_next in ((1, n1, n2), (2, n2, n3), (3, n3, n4)))
        if min(d) > 0:
            return d
    return (y, y, y)


class KneserNeyLM:
    """An interpolated modified Kneser-Ney n-gram model of order `order`, trained by `fit`."""

    def __init__(self, order: int = 3):
        if not isinstance(order, int) or isinstance(order, bool) or order < 1:
            raise ValueError(f"KneserNeyLM: order={order!r}; expected an int >= 1")
        self.order = order
        self.vocab: frozenset[str] = frozenset()
        self.counts: list[dict[tuple[str, ...], int]] = []  # counts[n-1][ngram] = adjusted count
        self.discount: list[tuple[float, float, float]] = []
        # context_stats[n-1][context] = [total adjusted count of context + w, N1, N2, N3+] over words w
        self.context_stats: list[dict[tuple[str, ...], list[float]]] = []

    def _tokens(self, text: str) -> list[str]:
        return [BOS] + word_tokens(text) + [EOS]

    def fit(self, texts: Iterable[str]) -> KneserNeyLM:
        """Count, adjust, discount. Returns self. Raises ValueError if `texts` holds no words at all."""
        raw: list[Counter] = [Counter() for _ in range(self.order)]
        vocab = {EOS, UNK}
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"KneserNeyLM.fit: got {text!r:.80}; expected texts to be str")
            tokens = self._tokens(text)
            vocab.update(tokens[1:])
            for i in range(1, len(tokens)):  # position 0 is <s>: never predicted
                for n in range(1, min(self.order, i + 1) + 1):
                    raw[n - 1][tuple(tokens[i - n + 1:i + 1])] += 1
        if not raw[0]:  # every text, even "", contributes at least </s>
            raise ValueError("KneserNeyLM.fit: texts is empty; expected at least one text")
        self.vocab = frozenset(vocab)
        # Continuation counts: how many distinct words precede each n-gram (from the (n+1)-grams seen).
        left_extensions: list[Counter] = [Counter() for _ in range(self.order)]
        for n in range(2, self.order + 1):
            for gram in raw[n - 1]:
                left_extensions[n - 2][gram[1:]] += 1
        self.counts = [
            {gram: (c if n == self.order or gram[0] == BOS else left_extensions[n - 1][gram])
             for gram, c in raw[n - 1].items()}
            for n in range(1, self.order + 1)]
        self.discount = [_discounts(level.values()) for level in self.counts]
        self.context_stats = []
        for level in self.counts:
            stats: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0, 0, 0, 0])
            for gram, c in level.items():
                s = stats[gram[:-1]]
                s[0] += c
                s[min(c, 3)] += 1
            self.context_stats.append(dict(stats))
        return self

    def prob(self, word: str, context: tuple[str, ...] | list[str] = ()) -> float:
        """p(word | context); only the last order-1 context words matter, unknown words count as <unk>."""
        if not self.counts:
            raise RuntimeError("KneserNeyLM.prob: the model is not trained; call fit first")
        word = word if word in self.vocab else UNK
        context = tuple(w if w in self.vocab or w == BOS else UNK for w in context)
        context = context[len(context) - self.order + 1:] if self.order > 1 else ()
        p = 1.0 / len(self.vocab)  # order 0: uniform over the vocabulary
        for n in range(1, len(context) + 2):  # lowest order first, each interpolating with the one below
            h = context[len(context) - n + 1:]
            stats = self.context_stats[n - 1].get(h)
            if stats is None:  # unseen context: all of its mass goes to the lower order
                continue
            total, n1, n2, n3 = stats
            d1, d2, d3 = self.discount[n - 1]
            c = self.counts[n - 1].get(h + (word,), 0)
            d = (0.0, d1, d2, d3)[min(c, 3)]
            p = max(c - d, 0.0) / total + (d1 * n1 + d2 * n2 + d3 * n3) / total * p
        return p

    def score(self, text: str) -> float:
        """log10 p(text </s> | <s>), KenLM's `score(text, bos=True, eos=True)`."""
        tokens = self._tokens(text)
        return sum(math.log10(self.prob(tokens[i], tokens[max(0, i - self.order + 1):i]))
                   for i in range(1, len(tokens)))

    def perplexity(self, text: str) -> float:
        """10 ** (-score / number of predicted tokens), </s> counted, as in KenLM."""
        return 10 ** (-self.score(text) / (len(word_tokens(text)) + 1))

    def corpus_perplexity(self, texts: Iterable[str]) -> float:
        """Perplexity of many texts together: total log10 probability over total predicted tokens."""
        total, count = 0.0, 0
        for text in texts:
            total += self.score(text)
            count += len(word_tokens(text)) + 1
        if count == 0:
            raise ValueError("KneserNeyLM.corpus_perplexity: texts is empty")
        return 10 ** (-total / count)
