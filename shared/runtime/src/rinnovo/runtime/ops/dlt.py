"""``rinnovo dlt``: dead letters listed, shown, and replayed once fixed.

rinnovo dlt list [TOPIC]                  each dead letter: position, time, service, reason
rinnovo dlt show TOPIC PARTITION:OFFSET   one in full: headers, error, payload, replay
rinnovo dlt replay TOPIC (--offset PARTITION:OFFSET | --all) [--value FILE] [--dry-run]
                                          back to the source topic, once each

TOPIC is a topic's name as the contracts name it (``orders.order.v1``) or its dead-letter
twin (``orders.order.v1.DLT``); the deployment's ``KAFKA_TOPIC_PREFIX`` is added.
``--value FILE`` replaces the payload of one dead letter with its fix, checked against the
topic's published events before anything is sent.
"""

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from rinnovo.contracts.topics import DLT_SUFFIX, TOPICS
from rinnovo.runtime.dead_letters import PoisonMessage
from rinnovo.runtime.ops import settings
from rinnovo.runtime.ops.dead_letters import (
    DeadLetter,
    Replays,
    dead_letter_topics,
    parse_position,
    read_dead_letters,
    replay,
)
from rinnovo.runtime.ops.settings import Deployment

REPLAYS = "dead_letter_replays"


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    dlt = commands.add_parser("dlt", help="dead letters: list, show, replay")
    actions = dlt.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the dead letters of one topic or of all")
    listing.add_argument("topic", nargs="?")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=lambda a: settings.run(list_letters, a))
    show = actions.add_parser("show", help="one dead letter in full")
    show.add_argument("topic")
    show.add_argument("position", help="PARTITION:OFFSET, as `list` shows it")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=lambda a: settings.run(show_letter, a))
    again = actions.add_parser("replay", help="send dead letters back to their topic, once")
    again.add_argument("topic")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("--offset", dest="position", help="PARTITION:OFFSET of one")
    which.add_argument("--all", action="store_true", help="every one not replayed yet")
    again.add_argument("--value", type=Path, help="the fixed payload (with --offset only)")
    again.add_argument("--dry-run", action="store_true", help="say what would be sent")
    again.add_argument("--by", default=getpass.getuser(), help="who replays (recorded)")
    again.set_defaults(handler=lambda a: settings.run(replay_letters, a))


def dead_letter_topic(deployment: Deployment, topic: str) -> str:
    name = deployment.unprefixed(topic).removesuffix(DLT_SUFFIX)
    return deployment.topic(name + DLT_SUFFIX)


def describe(letter: DeadLetter, replayed: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "topic": letter.topic,
        "position": letter.position,
        "source": letter.source,
        "source_position": f"{letter.header('original-partition')}:"
        f"{letter.header('original-offset')}",
        "reason": letter.header("reason"),
        "error": letter.header("error"),
        "service": letter.header("service"),
        "group": letter.header("consumer-group"),
        "failed_at": letter.header("failed-at"),
        "key": (letter.key or b"").decode(errors="replace"),
        "payload": letter.value.decode(errors="replace"),
        "replayed": None if replayed is None else _replay_summary(replayed),
    }


def _replay_summary(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": doc["status"],
        "by": doc.get("by"),
        "fixed": doc.get("fixed"),
        "at": str(doc.get("replayed_at") or doc.get("began_at")),
        "sent_to": doc.get("sent_to"),
    }


async def _with_replays(
    deployment: Deployment, letters: list[DeadLetter]
) -> list[tuple[DeadLetter, dict[str, Any] | None]]:
    client = deployment.mongo()
    try:
        records = await Replays(client[deployment.operations.database][REPLAYS]).of(letters)
    finally:
        await client.close()
    return [(letter, records.get(letter.id)) for letter in letters]


async def list_letters(args: argparse.Namespace, deployment: Deployment) -> int:
    prefix = deployment.infra.kafka_topic_prefix
    topics = (
        [dead_letter_topic(deployment, args.topic)]
        if args.topic
        else await dead_letter_topics(deployment.kafka, prefix)
    )
    found: list[DeadLetter] = []
    for topic in topics:
        found += await read_dead_letters(deployment.kafka, topic)
    listed = [describe(letter, done) for letter, done in await _with_replays(deployment, found)]
    if args.json:
        print(json.dumps(listed, indent=2))
        return 0
    for d in listed:
        state = "not replayed" if d["replayed"] is None else d["replayed"]["status"]
        print(
            f"{deployment.unprefixed(d['topic'])}  {d['position']}  {d['failed_at']}  "
            f"{d['service']} ({d['group']})  {d['reason']}  {state}"
        )
        print(f"    {d['error'][:160]}")
    if not listed:
        print("no dead letters")
    return 0


async def show_letter(args: argparse.Namespace, deployment: Deployment) -> int:
    topic = dead_letter_topic(deployment, args.topic)
    letters = await read_dead_letters(deployment.kafka, topic, parse_position(args.position))
    if not letters:
        print(f"no dead letter at {args.position} of {topic}", file=sys.stderr)
        return 1
    [(letter, done)] = await _with_replays(deployment, letters)
    shown = describe(letter, done) | {"headers": dict(letter.headers)}
    if args.json:
        print(json.dumps(shown, indent=2))
        return 0
    for name in ("topic", "position", "source", "source_position", "service", "group"):
        print(f"{name}: {shown[name]}")
    for name in ("failed_at", "reason", "error", "key", "replayed"):
        print(f"{name}: {shown[name]}")
    print("headers:")
    for key, value in sorted(letter.headers.items()):
        print(f"  {key}: {value}")
    print("payload:")
    print(_pretty(letter.value))
    return 0


def _pretty(value: bytes) -> str:
    try:
        return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
    except ValueError:
        return value.decode(errors="replace")


def _checked_fix(deployment: Deployment, letter: DeadLetter, path: Path) -> bytes | None:
    """The fixed payload, if it reads as an event of the source topic (else None, said)."""
    value = path.read_bytes()
    spec = TOPICS.get(deployment.unprefixed(letter.source))
    if spec is not None:
        try:
            spec.parse(value)
        except ValueError as exc:
            poison = PoisonMessage.from_validation(exc)
            print(f"the fix is not a valid event: {poison.kind}: {poison.reason}", file=sys.stderr)
            return None
    return value


async def replay_letters(args: argparse.Namespace, deployment: Deployment) -> int:
    topic = dead_letter_topic(deployment, args.topic)
    if args.value is not None and args.all:
        print("--value fixes one dead letter: name it with --offset", file=sys.stderr)
        return 2
    at = None if args.all else parse_position(args.position)
    letters = await read_dead_letters(deployment.kafka, topic, at)
    if not letters:
        print(f"no dead letter {args.position or ''} in {topic}".replace("  ", " "))
        return 1 if at is not None else 0
    value = None
    if (
        args.value is not None
        and (value := _checked_fix(deployment, letters[0], args.value)) is None
    ):
        return 1
    if args.dry_run:
        for letter, record in await _with_replays(deployment, letters):
            body, _ = letter.replayed(value)
            replayed = record is not None and record["status"] == "replayed"
            state = "already replayed" if replayed else "would send"
            print(f"{state}: {letter.position} -> {deployment.unprefixed(letter.source)}")
            print(_pretty(body))
        return 0
    client = deployment.mongo()
    try:
        replays = Replays(client[deployment.operations.database][REPLAYS])
        outcomes = await replay(deployment.kafka, replays, letters, args.by, value)
    finally:
        await client.close()
    for outcome in outcomes:
        letter = outcome.letter
        if outcome.earlier is not None:
            summary = _replay_summary(outcome.earlier)
            print(
                f"skipped {letter.position}: replayed already by {summary['by']} at {summary['at']}"
            )
        else:
            print(
                f"replayed {letter.position} -> {deployment.unprefixed(letter.source)} "
                f"{outcome.partition}:{outcome.offset}"
            )
    return 0
