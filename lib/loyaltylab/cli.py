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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported (a command's options come from its module, and importing
    every module would cost each command the start-up of the others: scipy for ``data``, pandas for ``validate``).
    None: every command's module (the full parser)."""
    parser = argparse.ArgumentParser(prog="loyaltylab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if command is None or name == command:
            module = import_module(module_name)
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def _command(argv: list[str]) -> str:
    """The command ``argv`` names ("" when it names none: the parser then prints help or an error)."""
    return next((a for a in argv if not a.startswith("-")), "") if argv else ""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command(argv)
    args = build_parser(command if command in COMMANDS else "").parse_args(argv)
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
