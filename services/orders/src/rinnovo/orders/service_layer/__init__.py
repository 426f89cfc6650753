"""The orders use cases, one module per family; each reads, lets ``domain`` decide, and
writes through the runtime's ``Changes`` (one guarded write, retried on conflict)."""
