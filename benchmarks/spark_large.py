"""The proof that nothing is collected: a table larger than the driver trains and scores on Spark.

Runs in its own process with a driver capped at ``spark.driver.memory`` (default 1g; in local
mode the driver's JVM also runs the executor's tasks, so the whole engine lives in that heap).
The table is generated ON Spark (``spark.range`` with seeded ``rand``/``randn`` columns around
five planted centres), written as Parquet, then trained on with ``train_spark`` and scored with
``score_spark`` like any table at a URI. Prints the times, the table's size against the heap, and
the peak resident memory (VmHWM) of the driver's JVM and of the Python driver process.

    PYTHONPATH=. .venv/bin/python benchmarks/spark_large.py [--rows 30000000] [--driver-memory 1g]
        [--master local[2]] [--folder DIR] [--keep]

Too slow for ``make test`` (about half an hour on two busy cores): run it by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import machine_busy_seconds, proc_status  # noqa: E402

#: Planted segments: share, and per feature (mean, sd), in the generator's four columns' units.
CENTRES = (
    (0.30, (25, 3), (40, 6), (82, 5), (38, 3)),
    (0.25, (38, 4), (118, 10), (78, 6), (24, 3)),
    (0.20, (55, 4), (100, 9), (18, 5), (10, 2)),
    (0.15, (72, 4), (30, 5), (22, 6), (5, 2)),
    (0.10, (45, 5), (70, 8), (50, 6), (16, 3)),
)
FEATURES = ("age", "annual_income", "spending_score", "purchase_frequency")
#: Per feature: decimals kept, and the valid range (the bundled spec's), values clipped into it.
ROUNDING = {
    "age": (0, 18, 100),
    "annual_income": (1, 0, None),
    "spending_score": (0, 1, 100),
    "purchase_frequency": (0, 0, None),
}


def vm_hwm(pid: int) -> int:
    """Peak resident memory of a process, bytes."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def generate(spark: object, rows: int, uri: str, seed: int = 7) -> None:
    """The planted table, written by Spark as Parquet (nothing passes through the driver)."""
    from pyspark.sql import functions as F

    segment = F.rand(seed)
    frame = spark.range(rows).withColumnRenamed("id", "customer_id")  # type: ignore[attr-defined]
    frame = frame.withColumn("_u", segment)
    bounds, total = [], 0.0
    for share, *_ in CENTRES:
        total += share
        bounds.append(total)
    which = F.when(F.col("_u") < bounds[0], 0)
    for s, bound in enumerate(bounds[1:], start=1):
        which = which.when(F.col("_u") < bound, s)
    frame = frame.withColumn("_s", which.otherwise(len(CENTRES) - 1))
    for j, name in enumerate(FEATURES):
        mean = F.element_at(F.array(*[F.lit(float(c[1 + j][0])) for c in CENTRES]), F.col("_s") + 1)
        sd = F.element_at(F.array(*[F.lit(float(c[1 + j][1])) for c in CENTRES]), F.col("_s") + 1)
        decimals, low, high = ROUNDING[name]
        value = F.greatest(F.round(mean + sd * F.randn(seed + 1 + j), decimals), F.lit(float(low)))
        if high is not None:
            value = F.least(value, F.lit(float(high)))
        frame = frame.withColumn(name, value)
    tiers = F.element_at(F.array(F.lit("gold"), F.lit("silver"), F.lit("bronze")),
                         (F.rand(seed + 9) * 3).cast("int") + 1)
    frame.withColumn("tier", tiers).drop("_u", "_s").write.mode("overwrite").parquet(uri)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=30_000_000)
    parser.add_argument("--driver-memory", default="1g")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--folder", type=Path, default=None, help="where the tables go")
    parser.add_argument("--keep", action="store_true", help="keep the generated tables")
    args = parser.parse_args()

    from segmentation_core.settings import get_settings
    from segmentation_core.spark import get_session, score_spark, train_spark

    folder = args.folder or Path(tempfile.mkdtemp(prefix="spark-large-"))
    folder.mkdir(parents=True, exist_ok=True)
    table, scored = str(folder / "customers.parquet"), str(folder / "scored.parquet")
    busy0, wall0 = machine_busy_seconds(), time.perf_counter()
    load0 = os.getloadavg()
    started = time.perf_counter()
    settings = dataclasses.replace(get_settings(), spark_master=args.master, spark_remote=None)
    spark = get_session(settings, conf={"spark.driver.memory": args.driver_memory})
    session_s = time.perf_counter() - started
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    heap = int(jvm.java.lang.Runtime.getRuntime().maxMemory())
    jvm_pid = int(jvm.java.lang.ProcessHandle.current().pid())
    print(f"session {session_s:.1f} s; driver heap {heap / 2**30:.2f} GiB "
          f"(spark.driver.memory={args.driver_memory}), master {args.master}", flush=True)

    started = time.perf_counter()
    generate(spark, args.rows, table)
    generate_s = time.perf_counter() - started
    on_disk = sum(p.stat().st_size for p in Path(table).glob("part-*"))
    in_memory = args.rows * (len(FEATURES) + 1) * 8
    print(f"generated {args.rows:,} rows on Spark in {generate_s:.1f} s: {on_disk / 2**20:,.0f} "
          f"MiB of Parquet; the numbers alone are {in_memory / 2**30:.2f} GiB as float64, "
          f"{in_memory / heap:.1f}x the driver's heap", flush=True)

    stages: list[tuple[str, float]] = []
    started = time.perf_counter()

    def progress(stage: object, done: int, total: int) -> None:
        if done == total:
            stages.append((str(getattr(stage, "value", stage)), time.perf_counter() - started))

    model = train_spark(table, spark=spark, on_progress=progress)
    train_s = time.perf_counter() - started
    info = model.info
    print(f"trained in {train_s:.1f} s: k={info.k}, silhouette {info.silhouette:.4f}, "
          f"stability {info.stability:.3f}, {info.n_customers:,} customers; sizes "
          f"{[p.size for p in info.profiles]}", flush=True)
    print("  stages done at: " + ", ".join(f"{s} {t:.0f} s" for s, t in stages), flush=True)

    started = time.perf_counter()
    summary = score_spark(model, table, scored, spark=spark)
    score_s = time.perf_counter() - started
    print(f"scored in {score_s:.1f} s: {summary.scored_rows:,} of {summary.rows:,} rows",
          flush=True)

    wall = time.perf_counter() - wall0
    busy = (machine_busy_seconds() - busy0) / wall / (os.cpu_count() or 1)
    print("\n| rows | driver memory | generate (s) | train (s) | score (s) | peak RSS driver JVM "
          "| peak RSS Python driver |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    print(f"| {args.rows:,} | {args.driver_memory} (heap {heap / 2**30:.2f} GiB) | "
          f"{generate_s:.0f} | {train_s:.0f} | {score_s:.0f} | {vm_hwm(jvm_pid) / 2**20:.0f} MiB "
          f"| {proc_status('VmHWM') / 2**20:.0f} MiB |")
    print(f"\nmachine: {os.cpu_count()} cores, {busy:.0%} busy on average during the run "
          f"(all processes); load average {load0[0]:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    spark.stop()
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
