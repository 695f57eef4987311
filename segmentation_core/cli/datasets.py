"""``datasets import|list|show|delete``: the dataset store from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from segmentation_core.cli.output import print_dataset, print_json
from segmentation_core.workspace import Workspace


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``datasets`` and its sub-commands."""
    datasets = sub.add_parser("datasets", help="import, list, show or delete datasets")
    actions = datasets.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="import a CSV or Parquet file")
    imp.add_argument("path", type=Path)
    imp.add_argument("--name", help="display name (default: the file's name)")
    imp.add_argument("--json", action="store_true")
    listing = actions.add_parser("list", help="every dataset, newest first")
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="a dataset's columns, roles and summaries")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    delete = actions.add_parser("delete", help="delete a dataset (not the active model's)")
    delete.add_argument("id")


def run(args: argparse.Namespace, ws: Workspace) -> int:
    """Run one ``datasets`` action."""
    if args.action == "import":
        result = ws.import_dataset(args.path, name=args.name, filename=args.path.name)
        if args.json:
            print_json(result)
            return 0
        dataset = result.dataset
        verb = "Already imported as" if result.already_present else "Imported as"
        print(f"{verb} dataset {dataset.id} ({dataset.rows} rows, {len(dataset.columns)} columns)")
        print_dataset(dataset)
        return 0
    if args.action == "list":
        datasets = ws.datasets.list()
        if args.json:
            print_json(datasets)
            return 0
        for d in datasets:
            print(f"  {d.id}  {d.created_at:<20} {d.rows:>10} rows  {d.name}"
                  f"{'  (bundled)' if d.bundled else ''}")
        return 0
    if args.action == "show":
        dataset = ws.datasets.get(args.id)
        if args.json:
            print_json(dataset)
        else:
            print_dataset(dataset)
        return 0
    ws.delete_dataset(args.id)
    print(f"Deleted dataset {args.id}")
    return 0
