"""``models list|activate|rollback|rename|delete|compare``: the model registry from the command
line."""

from __future__ import annotations

import argparse

from segmentation_core.cli.output import print_json, print_model_list
from segmentation_core.workspace import Workspace


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``models`` and its sub-commands."""
    models = sub.add_parser("models", help="list, activate, roll back, rename, delete, compare")
    actions = models.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every stored version, newest first (* = active)")
    listing.add_argument("--json", action="store_true")
    activate = actions.add_parser("activate", help="make a stored version the active one")
    activate.add_argument("version")
    actions.add_parser("rollback", help="go back to the version active before the current one")
    rename = actions.add_parser("rename", help="rename a segment of a version")
    rename.add_argument("version")
    rename.add_argument("cluster_id", type=int)
    rename.add_argument("name")
    delete = actions.add_parser("delete", help="delete a version that is not active")
    delete.add_argument("version")
    compare = actions.add_parser("compare", help="how customers move between two models")
    compare.add_argument("a")
    compare.add_argument("b")
    compare.add_argument("--dataset", help="dataset id (default: the one b was trained on)")
    compare.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, ws: Workspace) -> int:
    """Run one ``models`` action."""
    store = ws.models
    if args.action == "list":
        records = store.records()
        if args.json:
            print_json(records)
        else:
            print_model_list(records)
        return 0
    if args.action == "activate":
        previous = store.activate(args.version)
        print(f"Active model: {args.version} (was {previous or 'none'})")
        return 0
    if args.action == "rollback":
        version = store.rollback()
        print(f"Rolled back: active model is now {version}")
        return 0
    if args.action == "rename":
        store.rename_segment(args.version, args.cluster_id, args.name)
        print(f"Segment {args.cluster_id} of {args.version} is now {args.name.strip()!r}")
        return 0
    if args.action == "delete":
        store.delete(args.version)
        print(f"Deleted model {args.version}")
        return 0
    comparison = ws.compare(args.a, args.b, args.dataset)
    if args.json:
        print_json(comparison)
        return 0
    print(f"{comparison.a} vs {comparison.b} on dataset {comparison.dataset_id}: "
          f"{comparison.customers} customers, adjusted Rand index "
          f"{comparison.adjusted_rand_index:.3f}")
    for flow in comparison.flows:
        print(f"  {flow.customers:>9}  {flow.from_name} -> {flow.to_name}")
    return 0
