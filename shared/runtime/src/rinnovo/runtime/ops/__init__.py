"""Operators' commands of ``rinnovo``: dead letters, outboxes and consumer groups, read from
(and, for replays, written to) the Kafka and MongoDB a deployment is configured with."""
