"""`python -m loyaltylab` / `loyaltylab`: data, validate, report. Bad input exits 2 with one line, no traceback."""
from __future__ import annotations

import argparse
import sys
from importlib import import_module

from loyaltylab.errors import DataError

COMMANDS = {
    "data": ("loyaltylab.synth", "generate the course dataset and its truth.json"),
    "validate": ("loyaltylab.io", "check a data file against a table's rules"),
    "report": ("loyaltylab.report", "run notebooks into HTML reports (reports.yml or one notebook)"),
    "student": ("loyaltylab.teaching.student", "build student notebooks, one course world each, and answer keys"),
    "grade": ("loyaltylab.teaching.grade", "execute returned student notebooks and write a grade table (CSV)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loyaltylab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        module = import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
