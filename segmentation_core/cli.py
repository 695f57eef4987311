"""The command line: ``python -m segmentation_core {train,predict,info,generate}``.

Exit codes: 0 success, 2 bad input (data, parameters or flags), 3 no trained model, 4 a stored
model was refused (signature, files or library version).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from segmentation_core.dataset import load_table
from segmentation_core.errors import (
    DataValidationError,
    InvalidParameterError,
    ModelIntegrityError,
    ModelNotTrainedError,
)
from segmentation_core.features import DEFAULT_SPEC, FeatureSpec
from segmentation_core.generator import generate_customers
from segmentation_core.model import SegmentationModel
from segmentation_core.results import ModelInfo, TrainingParams
from segmentation_core.serialization import info_to_dict
from segmentation_core.settings import get_settings
from segmentation_core.store import ModelStore
from segmentation_core.training import train_model

EXIT_BAD_INPUT = 2
EXIT_NOT_TRAINED = 3
EXIT_REFUSED = 4


def _flag(column: str) -> str:
    return "--" + column.replace("_", "-").replace(" ", "-").lower()


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m segmentation_core",
        description="Customer segmentation: train, inspect and query the model store "
        "(SEGMENTATION_MODELS_DIR, SEGMENTATION_DATA, SEGMENTATION_SIGNING_KEY_FILE).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train on a CSV and make the model active")
    train.add_argument("--data", type=Path, help="CSV to train on (default: $SEGMENTATION_DATA)")
    train.add_argument("--k-min", type=int, default=TrainingParams.k_min)
    train.add_argument("--k-max", type=int, default=TrainingParams.k_max)
    train.add_argument("--k", type=int, default=None, help="fix the number of segments")
    train.add_argument("--random-state", type=int, default=TrainingParams.random_state)
    train.add_argument(
        "--columns",
        help="comma-separated feature columns for other data sets (generic spec, no id column); "
        "default: the bundled data's four columns",
    )
    train.add_argument(
        "--if-empty", action="store_true", help="do nothing if a loadable model is already active"
    )

    predict = sub.add_parser(
        "predict",
        help="segment of one customer (feature flags) and/or a CSV batch",
        epilog="Feature flags follow the active model's columns, e.g. "
        + " ".join(f"{_flag(c)} N" for c in DEFAULT_SPEC.columns),
    )
    predict.add_argument("--csv", type=Path, help="CSV of customers (extra columns are ignored)")
    predict.add_argument("--json", action="store_true", help="print JSON")

    info = sub.add_parser("info", help="describe the active model")
    info.add_argument("--json", action="store_true", help="print the full metadata as JSON")

    generate = sub.add_parser("generate", help="write customers with planted segments")
    generate.add_argument("--n", type=int, required=True, help="number of customers")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--out", type=Path, required=True, help="CSV file to write")
    return parser


def _print_segments(info: ModelInfo) -> None:
    width = max(len("segment"), *(len(p.name) for p in info.profiles))
    print(f"  {'id':>2}  {'segment':<{width}} {'size':>8} {'share':>7}")
    for p in info.profiles:
        print(f"  {p.cluster_id:>2}  {p.name:<{width}} {p.size:>8} {p.share:>7.1%}")


def _cmd_train(args: argparse.Namespace, store: ModelStore) -> int:
    if args.if_empty and store.active_version() is not None:
        try:
            model = store.load_active()
        except ModelIntegrityError as exc:
            print(f"The active model is refused ({exc}); training a new one.", file=sys.stderr)
        else:
            print(f"Model {model.version} is already active; nothing to train (--if-empty).")
            return 0
    spec = DEFAULT_SPEC
    if args.columns:
        spec = FeatureSpec.generic([c.strip() for c in args.columns.split(",") if c.strip()])
    data = args.data or get_settings().data_path
    params = TrainingParams(
        k_min=args.k_min, k_max=args.k_max, k=args.k, random_state=args.random_state
    )
    started = time.perf_counter()
    model = train_model(data, params, spec)
    seconds = time.perf_counter() - started
    version = store.save(model)
    info = model.info
    elbow = f", inertia knee at k={info.elbow.elbow_k}" if info.elbow.elbow_k else ""
    print(
        f"Trained {version} on {info.n_customers} customers from {data} in {seconds:.2f} s: "
        f"k={info.k}, silhouette {info.silhouette:.4f}{elbow}"
    )
    _print_segments(info)
    print(f"Active model: {version} (store {store.root})")
    return 0


def _cmd_predict(args: argparse.Namespace, extra: list[str], store: ModelStore) -> int:
    model = store.load_active()
    values_parser = argparse.ArgumentParser(
        prog="python -m segmentation_core predict", add_help=False
    )
    for feature in model.spec.features:
        values_parser.add_argument(
            _flag(feature.column),
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
        missing = [_flag(c) for c in model.spec.columns if c not in given]
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


def _cmd_info(args: argparse.Namespace, store: ModelStore) -> int:
    info = store.load_active().info
    if args.json:
        print(json.dumps(info_to_dict(info), indent=2))
        return 0
    print(f"Active model {info.version}, trained {info.trained_at} on {info.n_customers} customers")
    print(f"  features: {', '.join(info.features)}")
    print(
        f"  k={info.k} (best silhouette k={info.elbow.optimal_k}, "
        f"inertia knee k={info.elbow.elbow_k}), "
        f"silhouette {info.silhouette:.4f}, inertia {info.inertia:.1f}"
    )
    _print_segments(info)
    print("  elbow curve:  k  inertia  silhouette")
    for pt in info.elbow.points:
        print(f"              {pt.k:>2} {pt.inertia:>9.1f} {pt.silhouette:>10.4f}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = _build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "predict":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "generate":
            return _cmd_generate(args)
        store = ModelStore.from_settings()
        if args.command == "train":
            return _cmd_train(args, store)
        if args.command == "predict":
            return _cmd_predict(args, extra, store)
        return _cmd_info(args, store)
    except (DataValidationError, InvalidParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModelNotTrainedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_TRAINED
    except ModelIntegrityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: not an error; keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
