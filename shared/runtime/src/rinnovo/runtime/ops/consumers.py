"""``rinnovo consumers``: each service's consumer group, its members and its lag.

Lag is what the group coordinator knows: each partition's end offset minus the group's
committed offset, so a stopped or stuck consumer shows as lag too.
"""

import argparse
import json
from dataclasses import asdict
from typing import Any

from rinnovo.runtime.consumer_groups import ConsumerGroups, GroupState
from rinnovo.runtime.ops import settings
from rinnovo.runtime.ops.settings import Deployment


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    consumers = commands.add_parser("consumers", help="consumer groups: members and lag")
    consumers.add_argument("--json", action="store_true")
    consumers.set_defaults(handler=lambda a: settings.run(show_groups, a))


def as_json(service: str, state: GroupState) -> dict[str, Any]:
    return {
        "service": service,
        "group": state.group,
        "state": state.state,
        "lag": state.lag,
        "members": [asdict(m) for m in state.members],
        "partitions": [asdict(p) | {"lag": p.lag} for p in state.positions],
    }


async def show_groups(args: argparse.Namespace, deployment: Deployment) -> int:
    groups = ConsumerGroups(deployment.kafka)
    try:
        known = set(await groups.groups())
        states = [
            (service.name, await groups.describe(service.group))
            for service in deployment.services
            if service.group in known  # a service that consumes nothing has no group
        ]
    finally:
        await groups.close()
    if args.json:
        print(json.dumps([as_json(name, state) for name, state in states], indent=2))
        return 0
    for name, state in states:
        print(
            f"{state.group} ({name}): {state.state}, {len(state.members)} members, lag {state.lag}"
        )
        for member in state.members:
            assigned = ", ".join(f"{t}[{p}]" for t, p in member.partitions) or "nothing"
            print(f"  member {member.client_id} at {member.host}: {assigned}")
        for p in state.positions:
            committed = "-" if p.committed is None else p.committed
            print(f"  {p.topic}[{p.partition}] end {p.end} committed {committed} lag {p.lag}")
    return 0
