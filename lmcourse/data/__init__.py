"""Text for the book: the generated story corpus the chapters train on, and loaders for real corpora.

`corpus` writes simple English stories offline (seeded, any size); `loaders` downloads and streams
TinyStories and the CS336 OpenWebText sample for readers who are online. `atomic_write` (from
`lmcourse.files`) is re-exported for readers who write their own corpora.
"""

from lmcourse.data.corpus import generate_stories, generate_text, write_corpus
from lmcourse.data.loaders import download, iter_documents, openwebtext, tinystories
from lmcourse.files import atomic_write

__all__ = [
    "generate_stories", "generate_text", "write_corpus",
    "download", "iter_documents", "openwebtext", "tinystories", "atomic_write",
]
