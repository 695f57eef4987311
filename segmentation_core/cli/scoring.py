"""``score``: a whole file (or a stored dataset) in, a scored CSV out."""

from __future__ import annotations

import argparse
from pathlib import Path

from segmentation_core.cli.output import print_json
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
    source.add_argument("--in", dest="source", type=Path, help="CSV or Parquet file to score")
    source.add_argument("--dataset", help="id of a stored dataset to score")
    score.add_argument("--out", type=Path, required=True, help="the scored CSV to write")
    score.add_argument("--version", help="model version (default: the active one)")
    score.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace, ws: Workspace) -> int:
    """Score and print the segment counts."""
    if args.dataset is not None:
        job = ws.score_dataset(args.dataset, args.version)
    else:
        job = ws.score_file(args.source, args.version)
    summary = write_scored(job, args.out)
    if args.json:
        print_json(summary)
        return 0
    print(f"Scored {summary.scored_rows} of {summary.rows} rows with model {summary.version} "
          f"into {args.out}")
    for s in summary.segments:
        print(f"  {s.cluster_id:>2}  {s.segment_name:<40} {s.customers:>9}")
    return 0
