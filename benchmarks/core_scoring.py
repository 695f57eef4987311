"""Bulk scoring speed: ``score_file`` + ``write_scored`` against the obvious pandas way.

Data: a 1,000,000-row, 7-column customer CSV (``customer_id, gender, age, annual_income,
spending_score, purchase_frequency, region``; the numbers from the project's generator, seed 7;
about 37 MB), generated here. Model: trained on the bundled ``data/customers.csv`` (4 features).

* ours: ``write_scored(score_file(model, csv), out)``: every original cell kept as it was read,
  ``segment_id, segment_name, confidence, score_problem`` appended, the file fsync'ed and renamed
  into place;
* pandas way (the baseline): ``pd.read_csv``, the model pipeline's ``predict``, ``to_csv`` (it
  appends only ``segment_id``, writes cells as pandas re-renders them, and does not fsync);
* the floor: pyarrow's own multi-threaded ``read_csv`` with every column as text, then
  ``write_csv`` (no scoring at all, and it quotes every text cell).

Every run is a fresh subprocess (the approaches take turns), timed from just before reading to
just after writing; its peak RSS is the process's VmHWM, its start RSS (interpreter, libraries,
model) is shown beside it. The machine is shared: each run also records how many cores other
processes kept busy meanwhile (from /proc/stat minus our own CPU time).

    PYTHONPATH=. .venv/bin/python benchmarks/core_scoring.py              # full run, 5 rounds
    PYTHONPATH=. .venv/bin/python benchmarks/core_scoring.py --rounds 3
    PYTHONPATH=. .venv/bin/python benchmarks/core_scoring.py --quick      # 100,000 rows, smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from segmentation_core import SegmentationModel, generate_customers, train_model  # noqa: E402

APPROACHES = ("ours", "pandas", "floor")
GENDERS = np.array(["Female", "Male", "Non-binary"])
REGIONS = np.array(["Northeast", "Southwest", "Midwest", "Pacific", "Mountain"])


def make_csv(path: Path, rows: int) -> None:
    """The benchmark file: the generator's customers plus two text columns."""
    frame = generate_customers(rows, 7).frame
    rng = np.random.default_rng(7)
    frame.insert(1, "gender", GENDERS[rng.integers(0, len(GENDERS), rows)])
    frame["region"] = REGIONS[rng.integers(0, len(REGIONS), rows)]
    frame.to_csv(path, index=False)


# -- one run, in its own process -------------------------------------------------------------


def _status(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def _cpu_ticks() -> tuple[float, float]:
    """Seconds of CPU time the whole machine spent busy and in total since boot."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]
    return (sum(values) - idle) / tick, sum(values) / tick


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _ours(model: SegmentationModel, source: Path, out: Path) -> None:
    from segmentation_core.scoring import score_file, write_scored

    write_scored(score_file(model, source), out)


def _pandas(model: SegmentationModel, source: Path, out: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(source)
    frame["segment_id"] = model.pipeline.predict(frame[list(model.spec.columns)].to_numpy(float))
    frame.to_csv(out, index=False)


def _floor(model: SegmentationModel, source: Path, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(source, encoding="utf-8") as fh:
        names = fh.readline().rstrip("\n").split(",")
    table = pacsv.read_csv(
        source,
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}),
    )
    pacsv.write_csv(table, out)


def run_once(approach: str, model_path: Path, source: Path, out: Path) -> dict[str, float]:
    """Time one approach in this process; the numbers as a dict."""
    import pandas  # noqa: F401 - every approach starts with the same libraries loaded
    import pyarrow.csv  # noqa: F401

    import segmentation_core.scoring  # noqa: F401

    with open(model_path, "rb") as fh:
        model = pickle.load(fh)  # our own file, written by this script
    work = {"ours": _ours, "pandas": _pandas, "floor": _floor}[approach]
    start_rss = _status("VmRSS:")
    busy0, _ = _cpu_ticks()
    own0 = _own_cpu()
    started = time.perf_counter()
    work(model, source, out)
    seconds = time.perf_counter() - started
    busy1, _ = _cpu_ticks()
    own = _own_cpu() - own0
    return {
        "seconds": seconds,
        "cpu": own,
        "others_cores": max(busy1 - busy0 - own, 0.0) / seconds,
        "start_rss": start_rss,
        "peak_rss": _status("VmHWM:"),
    }


# -- the driver ------------------------------------------------------------------------------


def _spawn(approach: str, model_path: Path, source: Path, out: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--run", approach, str(model_path), str(source), str(out)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    numbers: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return numbers


def _check_output(model: SegmentationModel, source: Path, ours: Path) -> str:
    """Our file keeps every input line as it was and agrees with the pipeline's labels."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(source, "rb") as a, open(ours, "rb") as b:
        for i, (line_in, line_out) in enumerate(zip(a, b, strict=True)):
            if i % 997 == 0 and not line_out.startswith(line_in.rstrip(b"\n") + b","):
                raise SystemExit(f"line {i + 1} of the output does not start with the input line")
    table = pacsv.read_csv(
        ours, convert_options=pacsv.ConvertOptions(column_types={"score_problem": pa.string()})
    )
    X = np.column_stack([table.column(c).to_numpy() for c in model.spec.columns]).astype(float)
    labels = model.pipeline.predict(X)
    same = np.asarray(table.column("segment_id").to_numpy()) == labels
    if not same.all():
        raise SystemExit(f"{int((~same).sum())} rows differ from the pipeline's labels")
    return f"checked: {table.num_rows:,} rows, every segment_id equals pipeline.predict"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 3 rounds")
    parser.add_argument("--rows", type=int, default=None, help="rows in the generated file")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each approach (>= 3)")
    parser.add_argument(
        "--run", nargs=4, metavar=("APPROACH", "MODEL", "CSV", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.run:
        approach, model_path, source, out = args.run
        print(json.dumps(run_once(approach, Path(model_path), Path(source), Path(out))))
        return

    rows = args.rows or (100_000 if args.quick else 1_000_000)
    rounds = max(3, 3 if args.quick else args.rounds)
    with tempfile.TemporaryDirectory(prefix="bench-scoring-") as folder:
        work = Path(folder)
        source, model_path = work / "customers.csv", work / "model.pkl"
        make_csv(source, rows)
        model = train_model(ROOT / "data" / "customers.csv")
        with open(model_path, "wb") as fh:
            pickle.dump(model, fh)
        load = os.getloadavg()
        results: dict[str, list[dict[str, float]]] = {a: [] for a in APPROACHES}
        for _ in range(rounds):
            for approach in APPROACHES:  # taking turns spreads the machine's moods evenly
                results[approach].append(
                    _spawn(approach, model_path, source, work / f"out-{approach}.csv")
                )
        check = _check_output(model, source, work / "out-ours.csv")
        size = source.stat().st_size

    median = {a: statistics.median(r["seconds"] for r in results[a]) for a in APPROACHES}
    print(
        f"CPU cores: {os.cpu_count()}; file: {rows:,} rows x 7 columns, {size / 1e6:.1f} MB; "
        f"model: k={model.info.k}, {len(model.spec.columns)} features; {rounds} runs each, "
        f"every run a fresh process; load average at start {load[0]:.2f}\n"
    )
    print(
        "| approach | median | min | max | CPU time (median) | others' load | peak RSS "
        "(start RSS) | vs pandas way |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for approach, label in (
        ("ours", "ours: score_file + write_scored"),
        ("pandas", "pandas way: read_csv, predict, to_csv"),
        ("floor", "the floor: pyarrow read as text + write_csv"),
    ):
        runs = results[approach]
        seconds = [r["seconds"] for r in runs]
        print(
            f"| {label} | {median[approach]:.3f} s | {min(seconds):.3f} s | {max(seconds):.3f} s "
            f"| {statistics.median(r['cpu'] for r in runs):.2f} s "
            f"| {statistics.median(r['others_cores'] for r in runs):.2f} cores "
            f"| {statistics.median(r['peak_rss'] for r in runs) / 1e6:.0f} MB "
            f"({statistics.median(r['start_rss'] for r in runs) / 1e6:.0f} MB) "
            f"| {median['pandas'] / median[approach]:.1f}x |"
        )
    print(
        "\nOthers' load: cores other processes kept busy during the run (median over runs; "
        "the machine has 2). "
        f"{check}."
    )
    print("Per run (seconds, others' cores):")
    for approach in APPROACHES:
        runs = " ".join(f"{r['seconds']:.3f} ({r['others_cores']:.2f})" for r in results[approach])
        print(f"  {approach}: {runs}")


if __name__ == "__main__":
    main()
