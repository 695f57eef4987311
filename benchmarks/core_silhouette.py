"""How close the sampled scan stays to the exact method: k and silhouette, several data sets.

For each data set: the k the original method picks (every row, n_init=10, exact silhouette for
every k) against ours, and the silhouette we report against the exact silhouette of our own
final model over every pair of points. Data: the generator at 20,000 rows with five seeds, and the
real Online Retail RFM table (4,338 customers, log-transformed as its published reference does),
which is just above the 4,000-row sample and so takes the sampled path.

    .venv/bin/python benchmarks/core_silhouette.py          # all data sets (a few minutes)
    .venv/bin/python benchmarks/core_silhouette.py --quick  # two generator seeds, 6,000 rows
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from core_training import original_auto_k  # noqa: E402

from segmentation_core import DEFAULT_SPEC, Segmenter, generate_customers  # noqa: E402


def shared_dataset(name: str) -> Path | None:
    """A file from the shared data sets, next to the repository or on this machine."""
    for folder in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")):
        if (folder / name).is_file():
            return folder / name
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, seeds = (6_000, (0, 1)) if args.quick else (20_000, (0, 1, 2, 3, 4))
    sets: list[tuple[str, np.ndarray]] = [
        (
            f"generator n={n:,} seed {s}",
            generate_customers(n, seed=s).frame[list(DEFAULT_SPEC.columns)].to_numpy(float),
        )
        for s in seeds
    ]
    rfm = shared_dataset("online_retail_rfm.csv")
    if rfm is not None and not args.quick:
        frame = pd.read_csv(rfm)
        sets.append(
            ("Online Retail RFM (log), n=4,338", np.log1p(frame.iloc[:, 1:4].to_numpy(float)))
        )

    print("| data | k original / ours | silhouette ours | exact of ours | difference |")
    print("|---|:---:|---:|---:|---:|")
    worst = 0.0
    for name, X in sets:
        k_orig, _ = original_auto_k(X)
        seg = Segmenter().fit(X)
        exact = float(silhouette_score(seg.pipeline_[0].transform(X), seg.labels_))
        diff = seg.silhouette_ - exact
        worst = max(worst, abs(diff))
        print(
            f"| {name} | {k_orig} / {seg.k_} | {seg.silhouette_:.4f} | {exact:.4f} | {diff:+.4f} |",
            flush=True,
        )
    print(f"\nLargest |difference|: {worst:.4f} (tolerance 0.005)")


if __name__ == "__main__":
    main()
