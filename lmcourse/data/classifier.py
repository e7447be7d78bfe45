"""A fastText-style quality classifier (Joulin et al. 2017) in torch: hashed word n-grams, averaged
embeddings, one linear layer, softmax.

Model-based filtering in its discriminative form: train a classifier to tell target text from raw crawl
text, then keep the raw documents it scores as target-like. The targets were WebText, books and
Wikipedia for GPT-3, pages cited by Wikipedia for LLaMA, instruction data and ELI5 answers for DCLM.
fastText's recipe is what made that cheap enough for a whole crawl: each document is a bag of word
unigrams and bigrams, each n-gram is hashed into one of `num_buckets` rows of an embedding table (the
hashing trick: no vocabulary to build or store, unseen n-grams still land somewhere), the rows are
averaged, and a linear layer maps the average to class logits. Collisions cost a little accuracy and buy
a fixed memory budget.

The features are `dsir.hashed_ngrams`, which DSIR uses for its importance weights too (it lives there so
that DSIR needs numpy only, not torch).
`train_classifier` trains with SGD and a linearly decaying learning rate, as fastText does (mini-batches
instead of its lock-free per-example updates, so it is deterministic given `seed`).

Leaves out: fastText's hierarchical softmax and negative sampling (two classes need neither),
character n-grams (subword features), quantization of the trained model, and loading fastText .bin files.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from lmcourse.data.dsir import hashed_ngrams

__all__ = ["HashedNgramClassifier", "train_classifier"]

class HashedNgramClassifier(nn.Module):
    """Average of hashed n-gram embeddings -> linear -> class logits; `labels` names the classes."""

    def __init__(self, labels: Sequence[str], *, num_buckets: int = 2**18, d_model: int = 16, ngrams: int = 2):
        super().__init__()
        self.labels, self.num_buckets, self.ngrams = tuple(labels), num_buckets, ngrams
        self.embedding = nn.EmbeddingBag(num_buckets, d_model, mode="mean", sparse=True)
        self.output = nn.Linear(d_model, len(self.labels), bias=False)  # weight (num_classes, d_model)
        # fastText's initialization: small uniform input rows, zero output weights (every class starts at 1/k).
        nn.init.uniform_(self.embedding.weight, -1 / d_model, 1 / d_model)
        nn.init.zeros_(self.output.weight)

    def features(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each document's bucket ids (computed once, reused every epoch)."""
        return [hashed_ngrams(t, ngrams=self.ngrams, num_buckets=self.num_buckets) for t in texts]

    def forward(self, features: Sequence[np.ndarray]) -> torch.Tensor:
        """Logits (batch, num_classes). A document with no words averages nothing: zero vector, equal logits."""
        offsets = np.cumsum([0] + [len(f) for f in features[:-1]])  # each document's start, as EmbeddingBag wants
        bags = self.embedding(torch.from_numpy(np.concatenate(features)), torch.from_numpy(offsets))
        return self.output(bags)

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (batch, num_classes), columns in the order of `labels`."""
        return torch.softmax(self(self.features(texts)), dim=-1).numpy()

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def accuracy(self, texts: Sequence[str], labels: Sequence[str]) -> float:
        return float(np.mean([p == y for p, y in zip(self.predict(texts), labels)]))


def train_classifier(texts: Sequence[str], labels: Sequence[str], *, epochs: int = 5, lr: float = 0.1,
                     batch_size: int = 16, num_buckets: int = 2**18, d_model: int = 16, ngrams: int = 2,
                     seed: int = 0) -> HashedNgramClassifier:
    """Train a `HashedNgramClassifier` on (text, label) pairs with SGD, the learning rate decaying
    linearly from `lr` to 0 over all steps (fastText's schedule and default rate). Deterministic given `seed`."""
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels) or not texts:
        raise ValueError(f"train_classifier: got {len(texts)} texts and {len(labels)} labels; "
                         "expected as many of each, at least one")
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("train_classifier: texts must all be str")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"train_classifier: labels={classes!r}; expected at least two classes")
    with torch.random.fork_rng():  # seed the initialization without disturbing the caller's RNG
        torch.manual_seed(seed)
        model = HashedNgramClassifier(classes, num_buckets=num_buckets, d_model=d_model, ngrams=ngrams)
    features, targets = model.features(texts), torch.tensor([classes.index(y) for y in labels])
    steps, step = epochs * -(-len(texts) // batch_size), 0
    order_rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = order_rng.permutation(len(texts))
        for start in range(0, len(texts), batch_size):
            batch = order[start:start + batch_size]
            logits = model([features[i] for i in batch])
            # Summed, not averaged: a batch step then moves as far as fastText's per-example steps would.
            nn.functional.cross_entropy(logits, targets[batch], reduction="sum").backward()
            with torch.no_grad():  # plain SGD, written out: it is one line, and torch.optim takes seconds to import
                for param in model.parameters():
                    # The embedding's gradient is sparse: only the rows of this batch's n-grams change.
                    param.add_(param.grad, alpha=-lr * (1 - step / steps))
                    param.grad = None
            step += 1
    return model.eval()
