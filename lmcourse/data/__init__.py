"""The pipeline that turns the web into training data (chapters 13 and 14), and real corpora.

The book's own generated stories live one floor down, in `lmcourse.corpus`.
- `loaders`: TinyStories and the CS336 OpenWebText sample for readers who are online.
- Sources and extraction: `warc` (WARC/WET records via FastWARC), `extract` (HTML bytes in any
  encoding to text via Resiliparse), `webgen` (generated web pages and documents for the chapters).
- Filtering: `normalize`, `pii` (masking), `quality` (Gopher and C4 rules), `ngram_lm` (Kneser-Ney),
  `dsir` (importance resampling); `classifier` (a fastText-style model, in torch, so import it as
  `lmcourse.data.classifier` — importing `lmcourse.data` does not import torch).
- Deduplication: `dedup` (exact line/document dedup, MinHash dedup of files), `bloom`, `minhash`,
  `lsh`, `neardup` (corpora with planted near-duplicates); `pipeline` / `python -m lmcourse.data`.
"""

from lmcourse.data.bloom import (BloomFilter, bits_for, measured_false_positive_rate, optimal_num_hashes,
                                 theoretical_false_positive_rate)
from lmcourse.data.dedup import (DedupReport, exact_document_deduplication, exact_line_deduplication,
                                 minhash_deduplication)
from lmcourse.data.dsir import (dsir_resample, gumbel_top_k, hashed_kl, hashed_ngrams, importance_log_weights,
                                ngram_distribution)
from lmcourse.data.extract import decode_html, detect_html_encoding, extract_text_from_html_bytes, looks_binary
from lmcourse.data.loaders import download, iter_documents, openwebtext, tinystories
from lmcourse.data.lsh import (UnionFind, empirical_candidate_rate, lsh_candidate_pairs, lsh_candidate_probability,
                               lsh_threshold)
from lmcourse.data.minhash import (bag_of_shingles, estimate_jaccard, jaccard, minhash_signatures,
                                   permutation_minhash, shingle_hashes, shingles, word_ngrams)
from lmcourse.data.neardup import (NearDuplicateCorpus, exact_clusters, generate_near_duplicates,
                                   labels_from_clusters, near_duplicate, pair_precision_recall, write_documents)
from lmcourse.data.ngram_lm import KneserNeyLM
from lmcourse.data.normalize import (normalize_punctuation, normalize_text, normalize_unicode, normalize_whitespace,
                                     remove_punctuation, strip_accents, word_tokens)
from lmcourse.data.pii import mask_emails, mask_ips, mask_phone_numbers, mask_pii
from lmcourse.data.pipeline import STAGES, StageSummary, english_score, format_summary, run_pipeline
from lmcourse.data.quality import c4_clean, gopher_quality_filter, gopher_violations
from lmcourse.data.warc import WarcRecord, iter_warc, warc_to_wet, write_warc
from lmcourse.data.webgen import WebPage, generate_documents, html_page, pii_documents, web_pages

__all__ = [
    "download", "iter_documents", "openwebtext", "tinystories",
    "WarcRecord", "iter_warc", "warc_to_wet", "write_warc",
    "decode_html", "detect_html_encoding", "extract_text_from_html_bytes", "looks_binary",
    "WebPage", "generate_documents", "html_page", "pii_documents", "web_pages",
    "normalize_punctuation", "normalize_text", "normalize_unicode", "normalize_whitespace",
    "remove_punctuation", "strip_accents", "word_tokens",
    "mask_emails", "mask_ips", "mask_phone_numbers", "mask_pii",
    "c4_clean", "gopher_quality_filter", "gopher_violations",
    "KneserNeyLM",
    "dsir_resample", "gumbel_top_k", "hashed_kl", "hashed_ngrams", "importance_log_weights", "ngram_distribution",
    "DedupReport", "exact_document_deduplication", "exact_line_deduplication", "minhash_deduplication",
    "BloomFilter", "bits_for", "measured_false_positive_rate", "optimal_num_hashes",
    "theoretical_false_positive_rate",
    "bag_of_shingles", "estimate_jaccard", "jaccard", "minhash_signatures", "permutation_minhash",
    "shingle_hashes", "shingles", "word_ngrams",
    "UnionFind", "empirical_candidate_rate", "lsh_candidate_pairs", "lsh_candidate_probability", "lsh_threshold",
    "NearDuplicateCorpus", "exact_clusters", "generate_near_duplicates", "labels_from_clusters", "near_duplicate",
    "pair_precision_recall", "write_documents",
    "STAGES", "StageSummary", "english_score", "format_summary", "run_pipeline",
]
