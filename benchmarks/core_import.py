"""Dataset import: a generated customer CSV into the dataset store, against pandas.read_csv.

The file: ``generate_customers(n, seed=7)`` (customer_id, age, annual_income, spending_score,
purchase_frequency) plus a ``gender`` and a ``region`` text column, 7 columns, written once into
a temporary folder (1,000,000 rows: about 35 MB).

Ours: ``DatasetStore.import_file(path)`` on an empty store: hash the bytes, sniff, read every
cell as text with pyarrow, roles and summaries of every column, write ``data.parquet`` and the
manifest (fsynced), rename into place. The baseline: ``pandas.read_csv(path)`` of the same file,
which only parses (no roles, summaries or storage).

Every run is a fresh interpreter with the libraries already imported, timing the one call, so
the figure is what the first upload after a start costs (memory pools not yet warm). Peak memory
is that process's own high-water RSS (VmHWM; see core_training.py for why not ru_maxrss),
interpreter and libraries included; "libraries" is its RSS just before the call. The same
process then deletes the dataset and imports the file again ("warm").

    .venv/bin/python benchmarks/core_import.py                 # 1,000,000 rows, 3 runs each
    .venv/bin/python benchmarks/core_import.py --quick         # 100,000 rows
    .venv/bin/python benchmarks/core_import.py --rows 2000000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from segmentation_core.generator import generate_customers  # noqa: E402

REGIONS = ("North East", "North West", "South East", "South West", "Midlands", "London", "Wales")

_STATUS = """
def _status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
"""

_OURS = (
    """
import json, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from segmentation_core.datasets import DatasetStore
"""
    + _STATUS
    + """
store = DatasetStore(Path({store!r}))
libraries = _status("VmRSS")
started, cpu = time.perf_counter(), time.process_time()
result = store.import_file(Path({path!r}))
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = _status("VmHWM")
store.delete(result.dataset.id)
started = time.perf_counter()
store.import_file(Path({path!r}))
warm = time.perf_counter() - started
roles = {{c.name: c.role.value for c in result.dataset.columns}}
print(json.dumps({{"seconds": seconds, "cpu": cpu, "warm": warm, "peak_mb": peak,
                  "libraries_mb": libraries, "rows": result.dataset.rows, "roles": roles}}))
"""
)

_PANDAS = (
    """
import json, sys, time
import pandas as pd
"""
    + _STATUS
    + """
libraries = _status("VmRSS")
started, cpu = time.perf_counter(), time.process_time()
frame = pd.read_csv({path!r})
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({{"seconds": seconds, "cpu": cpu, "peak_mb": _status("VmHWM"),
                  "libraries_mb": libraries, "rows": len(frame)}}))
"""
)


def write_file(path: Path, n: int) -> None:
    """The benchmark's CSV: generated customers plus two text columns."""
    frame = generate_customers(n, seed=7).frame
    rng = np.random.default_rng(7)
    frame["gender"] = np.where(rng.random(n) < 0.5, "Female", "Male")
    frame["region"] = np.asarray(REGIONS)[rng.integers(0, len(REGIONS), n)]
    frame.to_csv(path, index=False)


def run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter and return the JSON it printed last."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--rows", type=int, default=None, help="rows of the file (1,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each (median reported)")
    args = parser.parse_args()
    n = args.rows or (100_000 if args.quick else 1_000_000)

    with tempfile.TemporaryDirectory(prefix="core-import-") as tmp:
        path = Path(tmp) / "customers.csv"
        write_file(path, n)
        size_mb = path.stat().st_size / 1e6
        ours: list[dict[str, object]] = []
        theirs: list[dict[str, object]] = []
        for i in range(args.runs):  # interleaved, so both meet the same machine load
            store = Path(tmp) / f"store-{i}"
            ours.append(run(_OURS.format(root=str(ROOT), store=str(store), path=str(path))))
            theirs.append(run(_PANDAS.format(path=str(path))))
        assert all(r["rows"] == n for r in ours + theirs)

    def median(results: list[dict[str, object]], key: str) -> float:
        return statistics.median(float(str(r[key])) for r in results)

    def runs(results: list[dict[str, object]], key: str) -> str:
        return ", ".join(f"{float(str(r[key])):.3f}" for r in results)

    print(
        f"CPU cores: {os.cpu_count()}; file: {n:,} rows, 7 columns, {size_mb:.1f} MB; "
        f"{args.runs} runs each, fresh interpreter per run\n"
    )
    print(
        "| operation | median (s) | runs (s) | CPU, all threads (s) | peak RSS (MB) "
        "| of which libraries (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| DatasetStore.import_file (hash, parse, roles, summaries, Parquet, fsync) "
        f"| {median(ours, 'seconds'):.3f} | {runs(ours, 'seconds')} | {median(ours, 'cpu'):.3f} "
        f"| {median(ours, 'peak_mb'):.0f} | {median(ours, 'libraries_mb'):.0f} |"
    )
    print(
        f"| the same, second import in the process (warm) | {median(ours, 'warm'):.3f} "
        f"| {runs(ours, 'warm')} | - | - | - |"
    )
    print(
        f"| pandas.read_csv (baseline: parsing only) | {median(theirs, 'seconds'):.3f} "
        f"| {runs(theirs, 'seconds')} | {median(theirs, 'cpu'):.3f} "
        f"| {median(theirs, 'peak_mb'):.0f} | {median(theirs, 'libraries_mb'):.0f} |"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nLoad average at the end (1, 5, 15 min): {load}")
    print(f"\nRoles: {ours[0]['roles']}")
    print(
        f"Target: import <= 1.5 s at 1,000,000 rows; ours / pandas = "
        f"{median(ours, 'seconds') / median(theirs, 'seconds'):.2f}"
    )


if __name__ == "__main__":
    main()
