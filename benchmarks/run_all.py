"""Run every benchmark script in this folder, one after the other, and print their tables.

Usage: ``python benchmarks/run_all.py [--quick]`` (``make bench`` runs it). Each script measures its
baseline in the same run, so the tables compare like with like on whatever machine runs them.
Left out because they take long and prove one thing each: ``core_silhouette.py`` (the sampled
silhouette against the exact one) and ``spark_large.py`` (30,000,000 rows on a 1 GiB driver,
about 15 minutes on two cores); run them by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "core_training.py",
    "core_prediction.py",
    "core_threads.py",
    "core_import.py",
    "core_scoring.py",
    "core_dataset_training.py",
    "api_throughput.py",
    "api_v2.py",
    "web_dashboard.py",
    "spark_vs_local.py",
)


def main(argv: list[str]) -> int:
    """Run each script with the given arguments; return the first non-zero exit code, else 0."""
    status = 0
    for name in SCRIPTS:
        print(f"\n## {name}\n", flush=True)
        code = subprocess.call([sys.executable, str(HERE / name), *argv], cwd=HERE.parent)
        status = status or code
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
