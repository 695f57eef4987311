"""``train``, ``info``, ``predict`` and ``generate``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from segmentation_core.cli.output import describe_model, feature_list, print_segments
from segmentation_core.dataset import load_table
from segmentation_core.enums import MissingValues, Transform
from segmentation_core.errors import InvalidParameterError, ModelIntegrityError
from segmentation_core.features import DEFAULT_SPEC
from segmentation_core.generator import generate_customers
from segmentation_core.model import SegmentationModel
from segmentation_core.recipe import parse_features
from segmentation_core.results import FeatureChoice, TrainingParams
from segmentation_core.serialization import info_to_dict
from segmentation_core.workspace import Workspace

EXIT_BAD_INPUT = 2


def flag(column: str) -> str:
    """The command-line flag of a feature column: ``annual_income`` -> ``--annual-income``."""
    return "--" + column.replace("_", "-").replace(" ", "-").lower()


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``train``, ``predict``, ``info`` and ``generate``."""
    train = sub.add_parser(
        "train",
        help="train on a dataset and make the model active",
        description="Features: comma-separated NUMERIC columns, each optionally :none, :log or "
        ":auto (default auto: log1p when the column is >= 0 and skewed > 1), e.g. "
        '--features "revenue:log,orders,tenure_months:none". Default: the bundled data\'s four '
        "columns when present, else every NUMERIC column.",
    )
    source = train.add_mutually_exclusive_group()
    source.add_argument("--dataset", help="id of an imported dataset (default: the bundled one)")
    source.add_argument(
        "--data",
        help="a CSV or Parquet file, imported on the fly; with --engine spark, a table URI "
        "Spark reads (a path, file://, s3a://, hdfs://...), not imported",
    )
    chosen = train.add_mutually_exclusive_group()
    chosen.add_argument("--features", help='e.g. "revenue:log,orders,tenure_months:none"')
    chosen.add_argument(
        "--columns", help='features without transforms, e.g. "a,b" (= a:none,b:none)'
    )
    train.add_argument("--missing", choices=["drop", "median"], default="drop",
                       help="rows with a missing feature: drop them, or fill with the median")
    train.add_argument("--min-share", type=float, default=TrainingParams.min_segment_share,
                       help="automatic k never picks a k with a smaller segment (default 0.02)")
    train.add_argument("--k-min", type=int, default=TrainingParams.k_min)
    train.add_argument("--k-max", type=int, default=TrainingParams.k_max)
    train.add_argument("--k", type=int, default=None, help="fix the number of segments")
    train.add_argument("--random-state", type=int, default=TrainingParams.random_state)
    train.add_argument(
        "--if-empty", action="store_true", help="do nothing if a loadable model is already active"
    )
    train.add_argument(
        "--engine",
        choices=["local", "spark"],
        default="local",
        help="local (default): this process, in memory; spark: Apache Spark where the data "
        "lives (SPARK_MASTER, default local[*], or Spark Connect via SPARK_REMOTE; needs the "
        "spark extra and Java 17+)",
    )

    predict = sub.add_parser(
        "predict",
        help="segment of one customer (feature flags) and/or a CSV batch",
        epilog="Feature flags follow the model's columns, e.g. "
        + " ".join(f"{flag(c)} N" for c in DEFAULT_SPEC.columns),
    )
    predict.add_argument("--csv", type=Path, help="CSV of customers (extra columns are ignored)")
    predict.add_argument("--version", help="model version (default: the active one)")
    predict.add_argument("--json", action="store_true", help="print JSON")

    info = sub.add_parser("info", help="describe the active model (or --version)")
    info.add_argument("--version", help="model version (default: the active one)")
    info.add_argument("--json", action="store_true", help="print the full metadata as JSON")

    generate = sub.add_parser("generate", help="write customers with planted segments")
    generate.add_argument("--n", type=int, required=True, help="number of customers")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--out", type=Path, required=True, help="CSV file to write")


def _features(args: argparse.Namespace) -> tuple[FeatureChoice, ...] | None:
    if args.features:
        return parse_features(args.features)
    if args.columns:
        return tuple(
            FeatureChoice(c.strip(), Transform.NONE) for c in args.columns.split(",") if c.strip()
        )
    return None


def run_train(args: argparse.Namespace, ws: Workspace) -> int:
    """Train, store and activate; print the segments."""
    store = ws.models
    if args.if_empty and store.active_version() is not None:
        try:
            model = store.load_active()
        except ModelIntegrityError as exc:
            print(f"The active model is refused ({exc}); training a new one.", file=sys.stderr)
        else:
            print(f"Model {model.version} is already active; nothing to train (--if-empty).")
            return 0
    params = TrainingParams(
        k_min=args.k_min,
        k_max=args.k_max,
        k=args.k,
        random_state=args.random_state,
        features=_features(args),
        missing_values=MissingValues(args.missing.upper()),
        min_segment_share=args.min_share,
    )
    started = time.perf_counter()
    if args.engine == "spark":
        if args.data is None:
            print("train --engine spark needs --data URI (the table Spark reads)", file=sys.stderr)
            return EXIT_BAD_INPUT
        with spark_engine():
            model = ws.train_spark(args.data, params)
    else:
        dataset_id, source = args.dataset, None
        if args.data is not None:
            path = Path(args.data)
            imported = ws.import_dataset(path, filename=path.name)
            dataset_id, source = imported.dataset.id, str(path)
        model = ws.train(dataset_id, params, source=source)
    seconds = time.perf_counter() - started
    info = model.info
    print(
        f"Trained {info.version} on {info.n_customers} customers of dataset "
        f"{info.dataset_name or info.dataset_id} in {seconds:.2f} s: {describe_model(info)}"
    )
    print(f"  features: {feature_list(model.spec)}")
    for note in info.notes:
        print(f"  note: {note}")
    print_segments(info)
    print(f"Active model: {info.version} (store {store.root})")
    return 0


class SparkMissingError(InvalidParameterError):
    """The Spark engine was asked for without pyspark installed."""


@contextlib.contextmanager
def spark_engine() -> Iterator[None]:
    """Turn a missing pyspark into a clear error (exit 2) instead of a traceback."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(("pyspark", "py4j")):
            raise
        raise SparkMissingError(
            "engine",
            "the Spark engine needs pyspark and Java 17+: pip install -e '.[spark]' "
            "(make setup installs it)",
        ) from exc


def run_predict(args: argparse.Namespace, extra: list[str], ws: Workspace) -> int:
    """Predict one customer from feature flags and/or a CSV batch."""
    model = ws.model(args.version)
    values_parser = argparse.ArgumentParser(
        prog="python -m segmentation_core predict", add_help=False
    )
    for feature in model.spec.features:
        values_parser.add_argument(
            flag(feature.column),
            dest=feature.column,
            type=float,
            metavar="N",
            help=f"{feature.label} ({feature.describe_range()})",
        )
    values = vars(values_parser.parse_args(extra))
    given = {c: v for c, v in values.items() if v is not None}
    if not given and args.csv is None:
        values_parser.print_usage(sys.stderr)
        print("predict needs the feature flags of one customer and/or --csv", file=sys.stderr)
        return EXIT_BAD_INPUT
    if given:
        missing = [flag(c) for c in model.spec.columns if c not in given]
        if missing:
            print(f"predict: missing {', '.join(missing)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        _print_one(model, [given[c] for c in model.spec.columns], args.json)
    if args.csv is not None:
        _print_batch(model, args.csv, args.json)
    return 0


def _print_one(model: SegmentationModel, values: list[float], as_json: bool) -> None:
    p = model.predict_one(values)
    if as_json:
        print(
            json.dumps(
                {
                    "cluster_id": p.cluster_id,
                    "segment_name": p.segment_name,
                    "confidence": p.confidence,
                    "probabilities": {sp.segment_name: sp.probability for sp in p.probabilities},
                },
                indent=2,
            )
        )
        return
    print(f"Segment {p.cluster_id}: {p.segment_name} (confidence {p.confidence:.1%})")
    for sp in sorted(p.probabilities, key=lambda s: -s.probability):
        print(f"  {sp.probability:7.1%}  {sp.cluster_id:>2} {sp.segment_name}")


def _print_batch(model: SegmentationModel, path: Path, as_json: bool) -> None:
    table = load_table(path, model.spec, training=False)
    batch = model.predict_batch_unchecked(table.X)  # load_table already checked every value
    ids = table.ids if table.ids is not None else range(len(batch))
    out = pd.DataFrame(
        {
            "id": ids,
            "cluster_id": batch.cluster_ids,
            "segment_name": [batch.segment_names[i] for i in batch.cluster_ids],
            "confidence": batch.confidence.round(4),
        }
    )
    if as_json:
        print(out.to_json(orient="records", indent=2))
    else:
        out.to_csv(sys.stdout, index=False)


def run_info(args: argparse.Namespace, ws: Workspace) -> int:
    """Describe a model."""
    model = ws.model(args.version)
    info = model.info
    if args.json:
        print(json.dumps(info_to_dict(info), indent=2))
        return 0
    print(f"Model {info.version}, trained {info.trained_at} on {info.n_customers} customers "
          f"of dataset {info.dataset_name or info.dataset_id or '-'} ({info.engine})")
    print(f"  features: {feature_list(model.spec)}")
    print(f"  {describe_model(info)}, best silhouette k={info.elbow.optimal_k}, "
          f"missing values: {info.missing_values.value}, "
          f"minimum segment share {info.min_segment_share:.0%}")
    for note in info.notes:
        print(f"  note: {note}")
    print_segments(info)
    print("  elbow curve:  k  inertia  silhouette  smallest segment")
    for pt in info.elbow.points:
        mark = "" if pt.eligible else "  (below the minimum share)"
        print(f"              {pt.k:>2} {pt.inertia:>9.1f} {pt.silhouette:>10.4f} "
              f"{pt.smallest_share:>9.1%}{mark}")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    """Write generated customers to a CSV."""
    if args.n < 1:
        print(f"generate: --n must be at least 1, got {args.n}", file=sys.stderr)
        return EXIT_BAD_INPUT
    frame = generate_customers(args.n, args.seed).frame
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, args.out)  # a reader never sees half a file
    print(f"Wrote {args.n} customers (seed {args.seed}) to {args.out}")
    return 0


