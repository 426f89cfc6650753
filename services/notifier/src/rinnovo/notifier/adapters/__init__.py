"""MongoDB repositories of the notifier."""
