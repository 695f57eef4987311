"""What several benchmarks share: the customer file they all measure, and /proc readings.

The file is "the core issue's" 1,000,000-row, 7-column customer CSV: ``customer_id, age,
annual_income, spending_score, purchase_frequency`` from the project's generator (seed 7) plus
two text columns ``gender`` and ``region`` (about 36 MB). Import, scoring, training on an
imported dataset and the API's upload and ``POST /score`` benchmarks all use it, so their figures
describe the same file.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from segmentation_core import generate_customers  # noqa: E402

GENDERS = np.array(["Female", "Male", "Non-binary"])
REGIONS = np.array(["Northeast", "Southwest", "Midwest", "Pacific", "Mountain"])


def write_customer_csv(path: Path, rows: int = 1_000_000, seed: int = 7) -> Path:
    """Write the benchmark customer CSV (see the module doc) to ``path`` and return it."""
    frame = generate_customers(rows, seed).frame
    rng = np.random.default_rng(seed)
    frame["gender"] = GENDERS[rng.integers(0, len(GENDERS), rows)]
    frame["region"] = REGIONS[rng.integers(0, len(REGIONS), rows)]
    frame.to_csv(path, index=False)
    return path


def proc_status(key: str) -> int:
    """A byte figure of this process from /proc/self/status, e.g. ``VmHWM`` (peak RSS)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
