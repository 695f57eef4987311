"""Why the scan runs single-threaded: auto-k with and without ``threadpool_limits(1)``.

Times ``Segmenter(n_threads=1)`` (our default) and ``Segmenter(n_threads=None)`` (BLAS/OpenMP use
every core, the libraries' default) on a quiet machine and while other processes keep every core
busy (one pure-Python busy loop per core, as another build or test run on the same box would).

    .venv/bin/python benchmarks/core_threads.py          # 20,000 and 100,000 customers
    .venv/bin/python benchmarks/core_threads.py --quick  # 20,000 only, fewer repeats
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from segmentation_core import DEFAULT_SPEC, Segmenter, generate_customers  # noqa: E402


def best_of(X: np.ndarray, n_threads: int | None, repeats: int) -> float:
    """Median wall time of ``repeats`` auto-k fits."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        Segmenter(n_threads=n_threads).fit(X)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = (20_000,) if args.quick else (20_000, 100_000)
    repeats = 2 if args.quick else 5
    cores = os.cpu_count() or 1
    data = {
        n: generate_customers(n, seed=42).frame[list(DEFAULT_SPEC.columns)].to_numpy(float)
        for n in sizes
    }
    Segmenter().fit(data[sizes[0]])  # warm-up

    results: dict[tuple[str, int], tuple[float, float]] = {}
    for load in ("quiet", "loaded"):
        hogs = []
        if load == "loaded":
            hogs = [
                subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)
            ]
            time.sleep(0.5)
        try:
            for n in sizes:
                results[(load, n)] = (
                    best_of(data[n], 1, repeats),
                    best_of(data[n], None, repeats),
                )
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()

    print(f"CPU cores: {cores}; median of {repeats} auto-k fits (k = 2..10)\n")
    print("| machine | n | 1 thread (s) | library default threads (s) | default / 1 thread |")
    print("|---|---:|---:|---:|---:|")
    for (load, n), (one, default) in results.items():
        label = "quiet" if load == "quiet" else f"{cores} busy processes"
        print(f"| {label} | {n:,} | {one:.3f} | {default:.3f} | {default / one:.1f}x |")


if __name__ == "__main__":
    main()
