"""`python -m lmcourse.data run --input DIR --output DIR [--stages extract,lang,...]`: the data pipeline.

Runs `lmcourse.data.pipeline.run_pipeline` and prints its per-stage summary. The stages and what each
removes are described in `pipeline`; options not given keep the defaults of `run_pipeline`.
"""

from __future__ import annotations

import argparse
import sys

from lmcourse.data.pipeline import STAGES, format_summary, run_pipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lmcourse.data",
                                     description="The data pipeline of chapters 13-14 (see lmcourse.data.pipeline).")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="filter and deduplicate a folder of documents (one per file)")
    run.add_argument("--input", required=True, help="folder of input files (.html/.htm are extracted)")
    run.add_argument("--output", required=True, help="folder to write the kept documents to (atomically)")
    run.add_argument("--stages", default=",".join(STAGES),
                     help=f"comma-separated subset of {','.join(STAGES)}, run in that order (default: all)")
    run.add_argument("--min-english", type=float, default=0.2, help="lang: minimum english_score")
    run.add_argument("--num-hashes", type=int, default=128, help="minhash: signature length")
    run.add_argument("--num-bands", type=int, default=16, help="minhash: LSH bands (must divide --num-hashes)")
    run.add_argument("--ngrams", type=int, default=5, help="minhash: words per shingle")
    run.add_argument("--jaccard-threshold", type=float, default=0.8, help="minhash: similarity to merge at")
    args = parser.parse_args(argv)
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    try:
        rows = run_pipeline(args.input, args.output, stages, min_english=args.min_english,
                            num_hashes=args.num_hashes, num_bands=args.num_bands, ngrams=args.ngrams,
                            jaccard_threshold=args.jaccard_threshold)
    except (ValueError, TypeError, OSError) as error:
        parser.error(str(error))  # exits with status 2 and the message, as for a bad option
    print(format_summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
