"""The Spark engine (local[2]) against the local engine: train and score, side by side.

The table is the shared customer file of the other benchmarks (benchmarks/common.py: generator
seed 7 plus ``gender`` and ``region``), written as Parquet (Spark's native format) at each size.

* local engine: the dataset import (once), ``Workspace.train`` (AUTO transforms, k = 2..10 on a
  4,000-row sample, the full fit, stability, profiles, the signed save), and
  ``Workspace.score_file`` + ``write_scored`` (a scored CSV);
* Spark engine: the session start (once), ``train_spark`` on the Parquet URI (read, summaries,
  recipe, scaler, sample, pyspark.ml KMeans, profiles; the same decisions) and ``score_spark``
  (mapInArrow, a scored Parquet table).

Each step runs ``--runs`` times; the table shows the median and every run, and how busy the
machine was (load average, and the share of all cores busy during the whole run, every
process counted: the machine is shared).

    PYTHONPATH=. .venv/bin/python benchmarks/spark_vs_local.py [--rows 1000000 5000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from common import ROOT, machine_busy_seconds, write_customer_csv

from segmentation_core import ModelStore
from segmentation_core.datasets import DatasetStore
from segmentation_core.scoring import write_scored
from segmentation_core.settings import get_settings
from segmentation_core.workspace import Workspace


def timed(runs: int, step: object) -> tuple[list[float], object]:
    """Seconds of each of ``runs`` calls of ``step()``, and its last result."""
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = step()  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
    return seconds, result


def cell(seconds: list[float]) -> str:
    runs = ", ".join(f"{s:.1f}" for s in seconds)
    return f"{statistics.median(seconds):.2f} ({runs})"


def one_size(rows: int, folder: Path, spark: object, runs: int) -> list[str]:
    """The table's lines for one size (and a line of what each engine found, printed)."""
    from segmentation_core.spark import score_spark, train_spark

    csv = write_customer_csv(folder / f"customers-{rows}.csv", rows)
    parquet = folder / f"customers-{rows}.parquet"
    pq.write_table(pacsv.read_csv(csv), parquet)
    csv.unlink()
    ws = Workspace(
        DatasetStore(folder / f"datasets-{rows}", bundled_path=ROOT / "data" / "customers.csv"),
        ModelStore(folder / f"models-{rows}", folder / "secrets" / "key"),
    )
    started = time.perf_counter()
    dataset = ws.import_dataset(parquet).dataset
    import_s = time.perf_counter() - started
    local_train, local_model = timed(runs, lambda: ws.train(dataset.id))
    out_csv = folder / "scored.csv"
    local_score, _ = timed(runs, lambda: write_scored(ws.score_file(parquet), out_csv))
    spark_train, spark_model = timed(
        runs,
        lambda: train_spark(str(parquet), spark=spark),  # type: ignore[arg-type]
    )
    out = str(folder / "scored.parquet")
    spark_score, _ = timed(
        runs,
        lambda: score_spark(spark_model, str(parquet), out, spark=spark),  # type: ignore[arg-type]
    )
    a, b = local_model.info, spark_model.info  # type: ignore[attr-defined]
    print(f"{rows:,} rows: local import {import_s:.1f} s; local k={a.k} silhouette "
          f"{a.silhouette:.4f}; spark k={b.k} silhouette {b.silhouette:.4f}", flush=True)
    train_ratio = statistics.median(spark_train) / statistics.median(local_train)
    score_ratio = statistics.median(spark_score) / statistics.median(local_score)
    return [
        f"| {rows:,} | train | {cell(local_train)} | {cell(spark_train)} | {train_ratio:.0f}x |",
        f"| {rows:,} | score | {cell(local_score)} | {cell(spark_score)} | {score_ratio:.0f}x |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 1 run (smoke)")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.runs = [100_000], 1

    from segmentation_core.spark import get_session

    busy0, wall0, load0 = machine_busy_seconds(), time.perf_counter(), os.getloadavg()
    started = time.perf_counter()
    settings = dataclasses.replace(get_settings(), spark_master=args.master, spark_remote=None)
    spark = get_session(settings)
    session_s = time.perf_counter() - started
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        for rows in args.rows:
            lines += one_size(rows, Path(tmp), spark, args.runs)
    wall = time.perf_counter() - wall0
    busy = (machine_busy_seconds() - busy0) / wall / (os.cpu_count() or 1)
    print(f"\nSpark session ({args.master}) started in {session_s:.1f} s (once). Median seconds "
          f"of {args.runs} runs (every run in brackets).\n")
    print("| rows | step | local engine (s) | Spark local[2] (s) | Spark / local |")
    print("|---:|---|---:|---:|---:|")
    for line in lines:
        print(line)
    print(f"\nmachine: {os.cpu_count()} cores; during the {wall / 60:.0f} min run all cores were "
          f"{busy:.0%} busy on average (every process counted); load average {load0[0]:.1f} at "
          f"the start, {os.getloadavg()[0]:.1f} at the end. Local training: Workspace.train on "
          "the imported dataset; local scoring writes CSV, Spark scoring Parquet.")
    spark.stop()


if __name__ == "__main__":
    main()
