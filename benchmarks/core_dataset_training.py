"""Training on an imported dataset: AUTO transforms, automatic k, stability, stored and active.

The file is the shared 1,000,000-row, 7-column customer CSV (benchmarks/common.py). It is
imported into a fresh dataset store, then ``Workspace.train`` runs the whole training a user
starts: read the feature and categorical columns from Parquet, resolve AUTO transforms, scan
k = 2..10 on a 4,000-row sample, fit the winner on every row, 20 bootstrap resamples for
stability, profiles, drivers, categorical profiles, names, and the signed save that activates it.

The baseline, measured in the same process on the same rows: what a data scientist would write
first for ONE k chosen in advance: ``pd.read_csv``, ``StandardScaler``, ``KMeans(k=5,
n_init=10)`` on every row (no scan, no stability, no profiles, nothing stored).

    PYTHONPATH=. .venv/bin/python benchmarks/core_dataset_training.py [--rows N] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import own_cpu_seconds, proc_status, write_customer_csv  # noqa: E402
from segmentation_core import ModelStore  # noqa: E402
from segmentation_core.datasets import DatasetStore  # noqa: E402
from segmentation_core.workspace import Workspace  # noqa: E402

FEATURES = ("age", "annual_income", "spending_score", "purchase_frequency")


def baseline(path: Path) -> float:
    """Seconds for read_csv + StandardScaler + KMeans(k=5, n_init=10) on every row."""
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    started = time.perf_counter()
    frame = pd.read_csv(path)
    X = StandardScaler().fit_transform(frame[list(FEATURES)].to_numpy(float))
    KMeans(n_clusters=5, n_init=10, random_state=42).fit(X)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="trainings timed (median shown)")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 1 run (smoke)")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.runs = 100_000, 1
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        folder = Path(tmp)
        csv = write_customer_csv(folder / "customers.csv", args.rows)
        ws = Workspace(
            DatasetStore(folder / "datasets", bundled_path=ROOT / "data" / "customers.csv"),
            ModelStore(folder / "models", folder / "secrets" / "key"),
        )
        started = time.perf_counter()
        dataset = ws.import_dataset(csv).dataset
        import_s = time.perf_counter() - started
        ours, cpu, model = [], [], None
        for _ in range(args.runs):
            cpu0, started = own_cpu_seconds(), time.perf_counter()
            model = ws.train(dataset.id)
            ours.append(time.perf_counter() - started)
            cpu.append(own_cpu_seconds() - cpu0)
        base = [baseline(csv) for _ in range(args.runs)]
        assert model is not None
        info = model.info
        load = os.getloadavg()[0]
        print(f"\n{args.rows:,} rows, {dataset.bytes / 1e6:.1f} MB CSV, imported in "
              f"{import_s:.2f} s; load average {load:.1f} on {os.cpu_count()} cores\n")
        print("| step | median (s) | runs (s) | target |")
        print("|---|---:|---:|---|")
        print(f"| `Workspace.train` (AUTO, k=2..10, stability, profiles, signed save) | "
              f"{statistics.median(ours):.2f} | {', '.join(f'{s:.2f}' for s in ours)} | <= 1.5 s |")
        print(f"| baseline: read_csv + StandardScaler + KMeans(k=5, n_init=10) | "
              f"{statistics.median(base):.2f} | {', '.join(f'{s:.2f}' for s in base)} | |")
        print(f"\nours: k={info.k}, silhouette {info.silhouette:.4f}, stability "
              f"{info.stability:.3f}, transforms "
              f"{', '.join(f'{f.column}:{f.transform.value}' for f in model.spec.features)}; "
              f"CPU {statistics.median(cpu):.2f} s per training; "
              f"peak RSS of this process {proc_status('VmHWM') / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
