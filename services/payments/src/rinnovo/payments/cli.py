"""``rinnovo-payments``: the operators' command line.

rinnovo-payments import-statement FILE [--format camt|csv|mt940] [--by NAME]

Writes straight to the payments database, like the admin API does; the running service's
outbox relay publishes the registrations that follow. Prints what happened to each entry of
the file, then the totals.
"""

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import TextIO

from rinnovo.payments.adapters.statement_formats import StatementFormats, load_statement_formats
from rinnovo.payments.bootstrap import PaymentsSettings, compose, ensure_indexes
from rinnovo.payments.domain.statement_import import EntryResult, ImportResult
from rinnovo.payments.domain.statements import InvalidStatement, Statement
from rinnovo.payments.entrypoints.http import MAX_STATEMENT_BYTES
from rinnovo.runtime.clock import SystemClock


def read(path: Path, data: bytes, fmt: str, formats: StatementFormats) -> Statement | None:
    """The statement, or ``None`` after printing why the file is not imported."""
    found = formats.formats.get(fmt) if fmt != "auto" else formats.for_file(path.name, data)
    if found is None:
        print(f"{path}: not a statement format loaded here", file=sys.stderr)
        return None
    try:
        return found.parse(data)
    except InvalidStatement as exc:
        print(f"{path}: not imported, nothing was stored:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem.where}: {problem.message}", file=sys.stderr)
        return None


def entry_line(e: EntryResult) -> str:
    what = e.outcome.value + (f" ({e.reason})" if e.reason else "")
    parts = [e.where, e.reference or "-", e.amount or "-", what]
    parts += [p for p in (e.order_number, e.review_id, e.detail) if p]
    return "  " + "  ".join(parts)


def report(result: ImportResult, out: TextIO) -> None:
    first = "first import" if result.first_import else "imported before"
    print(f"statement {result.statement_id} ({result.format}), {first}", file=out)
    for entry in result.entries:
        print(entry_line(entry), file=out)
    for key, value in result.counts().items():
        if key not in ("statement_id", "format", "first_import"):
            print(f"{key}: {value}", file=out)


async def import_statement(path: Path, data: bytes, fmt: str, by: str) -> int:
    settings = PaymentsSettings()
    statement = read(path, data, fmt, load_statement_formats(settings.statement_formats))
    if statement is None:
        return 1
    composed = compose(settings, SystemClock())
    try:
        await ensure_indexes(composed.app)
        result = await composed.app.import_statement(statement, by)
    finally:
        await composed.runtime.mongo.close()
    report(result, sys.stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rinnovo-payments", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import-statement", help="reconcile a bank statement file")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--format", default="auto", help="camt, csv or mt940 (default: from the content)"
    )
    imp.add_argument("--by", default=getpass.getuser(), help="who imports it (recorded)")
    args = parser.parse_args(argv)
    if args.file.stat().st_size > MAX_STATEMENT_BYTES:
        print(f"{args.file}: larger than {MAX_STATEMENT_BYTES} bytes", file=sys.stderr)
        return 1
    data = args.file.read_bytes()
    return asyncio.run(import_statement(args.file, data, args.format, args.by))


if __name__ == "__main__":
    sys.exit(main())
