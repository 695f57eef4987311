"""The command line: ``python -m segmentation_core <command>``.

Commands: ``datasets import|list|show|delete``, ``train``, ``models
list|activate|rollback|rename|delete|compare``, ``score``, ``predict``, ``info``, ``generate``.
The same operations as the library (``segmentation_core.workspace.Workspace``), with the same
errors. Exit codes: 0 success, 2 bad input (data, parameters or flags), 3 no trained model, 4 a
stored model was refused (signature, files or library version), 5 not found, 6 conflict (e.g.
deleting the active model), 7 another training is running.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from segmentation_core.cli import datasets, models, scoring, training
from segmentation_core.errors import (
    ConflictError,
    DataValidationError,
    InvalidParameterError,
    ModelIntegrityError,
    ModelNotTrainedError,
    NotFoundError,
    TrainingInProgressError,
)
from segmentation_core.workspace import Workspace

EXIT_BAD_INPUT = 2
EXIT_NOT_TRAINED = 3
EXIT_REFUSED = 4
EXIT_NOT_FOUND = 5
EXIT_CONFLICT = 6
EXIT_BUSY = 7

#: Each expected failure and its exit code; the message goes to stderr as ``error: ...``.
EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (DataValidationError, EXIT_BAD_INPUT),
    (InvalidParameterError, EXIT_BAD_INPUT),
    (ModelNotTrainedError, EXIT_NOT_TRAINED),
    (ModelIntegrityError, EXIT_REFUSED),
    (NotFoundError, EXIT_NOT_FOUND),
    (ConflictError, EXIT_CONFLICT),
    (TrainingInProgressError, EXIT_BUSY),
)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(
        prog="python -m segmentation_core",
        description="Customer segmentation: import datasets, train, manage and query models, "
        "score files (SEGMENTATION_DATASETS_DIR, SEGMENTATION_MODELS_DIR, SEGMENTATION_DATA, "
        "SEGMENTATION_SIGNING_KEY_FILE).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    datasets.add_parser(sub)
    training.add_parsers(sub)
    models.add_parser(sub)
    scoring.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "predict":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "generate":
            return training.run_generate(args)
        ws = Workspace.from_settings()
        if args.command == "datasets":
            return datasets.run(args, ws)
        if args.command == "models":
            return models.run(args, ws)
        if args.command == "score":
            return scoring.run(args, ws)
        if args.command == "train":
            return training.run_train(args, ws)
        if args.command == "predict":
            return training.run_predict(args, extra, ws)
        return training.run_info(args, ws)
    except tuple(cls for cls, _ in EXIT_CODES) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return next(code for cls, code in EXIT_CODES if isinstance(exc, cls))
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: not an error; keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
