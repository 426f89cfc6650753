"""The published event catalog: versioned pydantic models, no behaviour, no I/O.

Other platforms build on these schemas. Producers build events strictly through these
models; consumers read tolerantly (unknown fields are ignored). A breaking change is a new
topic and type suffix (``.v2``), never an edit of a published one.
"""

from rinnovo.contracts.envelope import Event
from rinnovo.contracts.topics import TOPICS, TopicSpec, event_class_for, topic_for

__all__ = ["TOPICS", "Event", "TopicSpec", "event_class_for", "topic_for"]
