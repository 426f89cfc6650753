"""Where consumer groups stand: each partition's end offset against the group's committed
offset (its lag), and the group's members. Read as operators' tools read it (the
``kafka-consumer-groups`` view), from the group coordinator, not from inside a consumer:
so a stuck or stopped consumer shows as lag too."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment


@dataclass(frozen=True)
class PartitionPosition:
    topic: str
    partition: int
    end: int
    committed: int | None
    """None: the group has committed nothing there yet."""

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


@dataclass(frozen=True)
class Member:
    client_id: str
    host: str
    partitions: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class GroupState:
    group: str
    state: str
    members: tuple[Member, ...] = ()
    positions: tuple[PartitionPosition, ...] = field(default=())

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.positions)


class ConsumerGroups:
    """An admin client and a group-less consumer (for end offsets), kept open between looks
    and made anew after a failure."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self._options = dict(options)
        self._clients: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None

    async def _open(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._clients is None:
            admin = AIOKafkaAdminClient(**self._options)
            consumer = AIOKafkaConsumer(**self._options, enable_auto_commit=False)
            try:
                await admin.start()
                await consumer.start()
            except BaseException:
                await consumer.stop()
                await admin.close()
                raise
            self._clients = (admin, consumer)
        return self._clients

    async def close(self) -> None:
        clients, self._clients = self._clients, None
        if clients is not None:
            admin, consumer = clients
            await consumer.stop()
            await admin.close()

    async def positions(self, group: str, topics: Iterable[str]) -> list[PartitionPosition]:
        """Each partition of ``topics`` (and of whatever else the group committed on)."""
        admin, consumer = await self._open()
        try:
            committed = await admin.list_consumer_group_offsets(group)
            partitions = set(await topic_partitions(admin, topics)) | set(committed)
            ends = await consumer.end_offsets(sorted(partitions)) if partitions else {}
        except BaseException:
            await self.close()  # made anew next time
            raise
        return [
            PartitionPosition(
                tp.topic,
                tp.partition,
                ends[tp],
                committed[tp].offset if tp in committed and committed[tp].offset >= 0 else None,
            )
            for tp in sorted(partitions)
        ]

    async def groups(self) -> list[str]:
        admin, _ = await self._open()
        return sorted(str(g[0]) for g in await admin.list_consumer_groups())

    async def describe(self, group: str, topics: Iterable[str] = ()) -> GroupState:
        """The group's state, members with their partitions, and positions on ``topics``,
        the members' topics and those the group committed on."""
        admin, _ = await self._open()
        [description] = await admin.describe_consumer_groups([group])
        members = tuple(_members(description))
        assigned = {topic for m in members for topic, _ in m.partitions}
        return GroupState(
            group=group,
            state=_state_of(description),
            members=members,
            positions=tuple(await self.positions(group, {*topics, *assigned})),
        )


async def topic_partitions(
    admin: AIOKafkaAdminClient, topics: Iterable[str]
) -> list[TopicPartition]:
    """The partitions of those ``topics`` that exist. Read from every topic's metadata:
    asking for topics by name would have a broker that allows it create them."""
    wanted = set(topics)
    return sorted(
        TopicPartition(t["topic"], p["partition"])
        for t in await admin.describe_topics()
        if t["topic"] in wanted
        for p in t["partitions"]
    )


def _state_of(description: Any) -> str:
    return str(description.groups[0][2]) if description.groups else "unknown"


def _members(description: Any) -> Iterable[Member]:
    """aiokafka answers with the raw DescribeGroups response: per group (error, group,
    state, protocol type, protocol, members, ...), per member (id, [instance id,] client
    id, host, metadata, assignment); the assignment in the consumer protocol's encoding."""
    for entry in description.groups:
        for member in entry[5]:
            client_id, host, assignment = member[-4], member[-3], member[-1]
            partitions: tuple[tuple[str, int], ...] = ()
            if assignment:
                decoded = ConsumerProtocolMemberAssignment.decode(assignment)
                partitions = tuple(
                    (str(topic), int(p)) for topic, ps in decoded.assignment for p in ps
                )
            yield Member(client_id=str(client_id), host=str(host), partitions=partitions)
