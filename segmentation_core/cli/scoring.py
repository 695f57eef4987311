"""``score``: a whole file (or a stored dataset) in, a scored CSV out; on Spark, a table URI in,
a scored Parquet table out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segmentation_core.cli.output import print_json
from segmentation_core.cli.training import EXIT_BAD_INPUT, spark_engine
from segmentation_core.scoring import write_scored
from segmentation_core.workspace import Workspace


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``score``."""
    score = sub.add_parser(
        "score",
        help="score every row of a CSV/Parquet file or a dataset into a scored CSV",
        description="Writes every original column unchanged, then segment_id, segment_name, "
        "confidence and score_problem (the reason a row could not be scored).",
    )
    source = score.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--in",
        dest="source",
        help="CSV or Parquet file to score; with --engine spark, a table URI Spark reads",
    )
    source.add_argument("--dataset", help="id of a stored dataset to score")
    score.add_argument(
        "--out",
        required=True,
        help="the scored CSV to write; with --engine spark, the URI of the scored Parquet table "
        "(replaced if it exists)",
    )
    score.add_argument("--version", help="model version (default: the active one)")
    score.add_argument("--json", action="store_true", help="print the summary as JSON")
    score.add_argument(
        "--engine",
        choices=["local", "spark"],
        default="local",
        help="local (default), or spark: score on Apache Spark with mapInArrow, write Parquet",
    )


def run(args: argparse.Namespace, ws: Workspace) -> int:
    """Score and print the segment counts."""
    if args.engine == "spark":
        if args.source is None:
            print("score --engine spark needs --in URI (the table Spark reads)", file=sys.stderr)
            return EXIT_BAD_INPUT
        with spark_engine():
            summary = ws.score_spark(args.source, args.out, args.version)
    else:
        if args.dataset is not None:
            job = ws.score_dataset(args.dataset, args.version)
        else:
            job = ws.score_file(Path(args.source), args.version)
        summary = write_scored(job, Path(args.out))
    if args.json:
        print_json(summary)
        return 0
    print(f"Scored {summary.scored_rows} of {summary.rows} rows with model {summary.version} "
          f"into {args.out}")
    for s in summary.segments:
        print(f"  {s.cluster_id:>2}  {s.segment_name:<40} {s.customers:>9}")
    return 0
