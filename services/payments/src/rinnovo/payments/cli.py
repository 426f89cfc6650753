"""``rinnovo-payments``: the operators' command line.

rinnovo-payments import-statement FILE [--format camt053|csv] [--by NAME]

Writes straight to the payments database, like the admin API does; the running service's
outbox relay publishes the registrations that follow.
"""

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from rinnovo.payments.adapters.camt053 import parse_camt053
from rinnovo.payments.adapters.csv_statement import parse_csv
from rinnovo.payments.bootstrap import PaymentsSettings, compose, ensure_indexes
from rinnovo.payments.domain.statements import InvalidStatement
from rinnovo.runtime.clock import SystemClock


async def import_statement(path: Path, data: bytes, fmt: str, by: str) -> int:
    if fmt == "auto":
        fmt = "csv" if path.suffix.lower() == ".csv" else "camt053"
    try:
        statement = parse_csv(data) if fmt == "csv" else parse_camt053(data)
    except InvalidStatement as exc:
        print(f"{path}: not imported, nothing was stored:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem.where}: {problem.message}", file=sys.stderr)
        return 1
    composed = compose(PaymentsSettings(), SystemClock())
    try:
        await ensure_indexes(composed.app)
        summary = await composed.app.import_statement(statement, by)
    finally:
        await composed.runtime.mongo.close()
    for key, value in vars(summary).items():
        print(f"{key}: {value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rinnovo-payments", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import-statement", help="reconcile a camt.053 or CSV statement")
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", choices=["auto", "camt053", "csv"], default="auto")
    imp.add_argument("--by", default=getpass.getuser(), help="who imports it (recorded)")
    args = parser.parse_args(argv)
    data = args.file.read_bytes()
    return asyncio.run(import_statement(args.file, data, args.format, args.by))


if __name__ == "__main__":
    sys.exit(main())
