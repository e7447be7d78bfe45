"""The book's own text: seeded, offline, generated children's stories of any size (every chapter that
trains a tokenizer or a model uses them), and the word lists they are made of.

- `stories`: `generate_stories`, `generate_text`, `write_corpus` (the public side);
- `grammar`: how one story is told (plots, slots, Zipf-like draws); `templates`: its sentence templates;
- `lexicon`: the public word lists (names, nouns, verbs, ...) that the generated web pages of
  `lmcourse.data.webgen` and the evaluation tasks of `lmcourse.eval.tasks` draw from too.

Real corpora (TinyStories, OpenWebText) and the web-data pipeline are `lmcourse.data`'s.
"""

from lmcourse.corpus import lexicon
from lmcourse.corpus.stories import generate_stories, generate_text, write_corpus

__all__ = ["generate_stories", "generate_text", "write_corpus", "lexicon"]
