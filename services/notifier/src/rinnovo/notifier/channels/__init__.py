"""Notification channels: plugins found through the ``rinnovo.notifier.channels`` entry
points and loaded only when named in ``RINNOVO_NOTIFIER_CHANNELS``."""
