"""The database commands a client sends, by name, for tests of how often a use case goes
to the database (PyMongo's command monitoring; the driver's own handshakes left out)."""

from pymongo import monitoring

UNCOUNTED = ("ping", "endSessions", "hello", "isMaster")


class Commands(monitoring.CommandListener):
    """Give it to ``AsyncMongoClient(event_listeners=[...])``; ``names`` fills in."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.targets: list[str] = []
        """``find:payments``: each command with the collection it names."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in UNCOUNTED:
            self.names.append(event.command_name)
            self.targets.append(f"{event.command_name}:{event.command[event.command_name]}")

    def clear(self) -> None:
        self.names.clear()
        self.targets.clear()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass
