"""Automatic-k training: our sampled scan against the original method, in the same process.

The original method (the first design of this product): StandardScaler, then for every k in
2..10 K-Means (k-means++, n_init=10, max_iter=300, random_state=42) on every row and the exact
silhouette over every pair of points; the highest silhouette wins. Ours: ``Segmenter`` (a seeded
4,000-row sample scanned for every k with one shared distance matrix, then one full fit of the
winner seeded from the sample's centres, single-threaded BLAS/OpenMP).

Data: the project's generator (five planted segments, seed 42), 4 features.
The 1,000,000-row run happens in a fresh subprocess so its peak memory (ru_maxrss) is its own.

    .venv/bin/python benchmarks/core_training.py            # full run (the original takes minutes)
    .venv/bin/python benchmarks/core_training.py --quick    # smoke run, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from segmentation_core import DEFAULT_SPEC, Segmenter, generate_customers  # noqa: E402

FEATURES = list(DEFAULT_SPEC.columns)


def customers(n: int) -> np.ndarray:
    """``n`` generated customers as a float matrix in spec order."""
    return generate_customers(n, seed=42).frame[FEATURES].to_numpy(dtype=np.float64)


def original_auto_k(X: np.ndarray) -> tuple[int, float]:
    """The original method: every row, every restart, exact silhouette, for every k."""
    Xs = StandardScaler().fit_transform(X)
    best_k, best_s = 0, -2.0
    for k in range(2, 11):
        km = KMeans(n_clusters=k, init="k-means++", n_init=10, max_iter=300, random_state=42)
        labels = km.fit_predict(Xs)
        s = float(silhouette_score(Xs, labels))
        if s > best_s:
            best_k, best_s = k, s
    return best_k, best_s


def compare(n: int) -> dict[str, float]:
    """Time both methods on the same data; the exact silhouette of our final model too."""
    X = customers(n)
    Segmenter().fit(X[:5000])  # warm-up: imports, OpenMP pools, page faults of the first fit
    started = time.perf_counter()
    ours = Segmenter().fit(X)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    k_orig, s_orig = original_auto_k(X)
    orig_s = time.perf_counter() - started
    exact = float(silhouette_score(ours.pipeline_[0].transform(X), ours.labels_))
    return {
        "n": n,
        "orig_s": orig_s,
        "ours_s": ours_s,
        "k_orig": k_orig,
        "k_ours": ours.k_,
        "sil_orig": s_orig,
        "sil_ours": ours.silhouette_,
        "sil_exact": exact,
    }


# Peak memory: the kernel's high-water mark of this process's own address space (VmHWM, the
# figure ru_maxrss reports for a process that was not forked from a bigger one). ru_maxrss itself
# is not used because Linux carries the parent's peak into a forked/exec'd child's ru_maxrss, so
# the child would report this benchmark's own 600 MB instead of its own peak.
_MILLION = """
import json, sys, time
import numpy as np
import pandas as pd
sys.path.insert(0, {root!r})
from segmentation_core import DEFAULT_SPEC, Segmenter, train_model
X = np.load({path!r})
started = time.perf_counter()
seg = Segmenter().fit(X)
seconds = time.perf_counter() - started
status = open("/proc/self/status").read().split("\\n")
peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
# the whole train_model on the same rows: validation, auto-k, profiles and names
frame = pd.DataFrame(X, columns=list(DEFAULT_SPEC.columns))
frame.insert(0, "customer_id", np.arange(1, len(X) + 1))
started = time.perf_counter()
train_model(frame)
train_seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "k": seg.k_, "silhouette": seg.silhouette_,
                  "peak_mb": peak_kb / 1024, "train_seconds": train_seconds}}))
"""


def large_run(n: int) -> dict[str, float]:
    """Auto-k on ``n`` rows in a fresh interpreter: wall time of the fit and the process's peak RSS.

    The data is handed over as a .npy file, so the peak is the interpreter, the libraries, the
    data itself (n x 4 float64) and the training, not the generator's temporaries.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "customers.npy")
        np.save(path, customers(n))
        code = _MILLION.format(root=str(ROOT), path=path)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]), n=n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    compared = (3_000, 8_000) if args.quick else (20_000, 100_000)
    large = 200_000 if args.quick else 1_000_000

    print(
        f"CPU cores: {os.cpu_count()}; data: generator, 5 planted segments, 4 features; k = 2..10\n"
    )
    print(
        "| n | original (s) | ours (s) | speed-up | k original / ours "
        "| silhouette original / ours / exact of ours |"
    )
    print("|---:|---:|---:|---:|:---:|:---:|")
    for n in compared:
        r = compare(n)
        print(
            f"| {n:,} | {r['orig_s']:.2f} | {r['ours_s']:.3f} | {r['orig_s'] / r['ours_s']:.0f}x "
            f"| {r['k_orig']} / {r['k_ours']} "
            f"| {r['sil_orig']:.4f} / {r['sil_ours']:.4f} / {r['sil_exact']:.4f} |",
            flush=True,
        )
    r = large_run(large)
    print(
        f"| {large:,} | - | {r['seconds']:.3f} | - | - / {r['k']} | - / {r['silhouette']:.4f} / - |"
    )
    print(
        f"\nPeak memory of the {large:,}-row auto-k process (its own high-water RSS, VmHWM; "
        f"interpreter + libraries + data + training): {r['peak_mb']:.0f} MB"
    )
    print(
        f"The whole train_model at {large:,} rows (DataFrame validation, auto-k, profiles, "
        f"names): {r['train_seconds']:.2f} s"
    )


if __name__ == "__main__":
    main()
