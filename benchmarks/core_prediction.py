"""Prediction speed: ``SegmentationModel`` (numpy arrays) against the sklearn pipeline per row.

One customer: ``predict_one`` (validation, memberships, the Prediction object) p50/p99 in
microseconds, beside the baseline ``pipeline.predict`` on a one-row array plus
``pipeline.transform`` for the distances a confidence needs (what a per-request sklearn
implementation calls). A batch: ``predict_batch`` of 1,000,000 validated customers, beside the
per-row baseline (extrapolated from its p50) and sklearn's own vectorised ``predict`` +
``transform`` on the same array (labels and distances, no probabilities).

    .venv/bin/python benchmarks/core_prediction.py          # full run
    .venv/bin/python benchmarks/core_prediction.py --quick  # smoke run
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from segmentation_core import DEFAULT_SPEC, generate_customers, train_model  # noqa: E402

FEATURES = list(DEFAULT_SPEC.columns)


def percentiles_us(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of durations in seconds, as microseconds."""
    arr = np.asarray(samples) * 1e6
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and a smaller batch")
    args = parser.parse_args()
    calls = 2_000 if args.quick else 20_000
    baseline_calls = 300 if args.quick else 3_000
    batch_n = 100_000 if args.quick else 1_000_000

    model = train_model(generate_customers(200, seed=42).frame)
    customers = generate_customers(max(calls, batch_n), seed=7).frame[FEATURES].to_numpy(float)
    rows = [list(map(float, r)) for r in customers[:calls]]

    for r in rows[:200]:  # warm-up
        model.predict_one(r)
    ours = []
    for r in rows:
        started = time.perf_counter()
        model.predict_one(r)
        ours.append(time.perf_counter() - started)

    pipeline = model.pipeline
    base = []
    for r in rows[:baseline_calls]:
        started = time.perf_counter()
        x = np.asarray([r])
        pipeline.predict(x)
        pipeline.transform(x)  # distances to every centre, needed for any confidence
        base.append(time.perf_counter() - started)

    X = customers[:batch_n]
    batch_times, base_batch = [], []
    for _ in range(3):
        started = time.perf_counter()
        model.predict_batch(X)
        batch_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        pipeline.predict(X)
        pipeline.transform(X)
        base_batch.append(time.perf_counter() - started)

    o50, o99 = percentiles_us(ours)
    b50, b99 = percentiles_us(base)
    ob, bb = min(batch_times), min(base_batch)
    print(f"CPU cores: {os.cpu_count()}; model: k={model.info.k}, 4 features\n")
    print("| operation | ours | sklearn pipeline per row | speed-up | sklearn vectorised |")
    print("|---|---:|---:|---:|---:|")
    print(f"| one customer, p50 | {o50:.1f} us | {b50:.0f} us | {b50 / o50:.0f}x | - |")
    print(f"| one customer, p99 | {o99:.1f} us | {b99:.0f} us | {b99 / o99:.0f}x | - |")
    per_row = b50 * 1e-6 * batch_n
    print(
        f"| batch of {batch_n:,} (best of 3) | {ob:.3f} s | {per_row:.0f} s (p50 x n) "
        f"| {per_row / ob:.0f}x | {bb:.3f} s (labels + distances) |"
    )
    print(
        f"\nOurs: validation + segment + confidence + every probability. One customer: {calls:,} "
        f"calls (baseline {baseline_calls:,}); batch: predict_batch incl. validation."
    )


if __name__ == "__main__":
    main()
