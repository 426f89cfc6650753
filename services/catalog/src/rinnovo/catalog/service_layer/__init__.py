"""The catalog use cases: each reads, lets ``domain`` decide, and writes through the
runtime's ``Changes`` (one guarded write with its snapshot event, retried on conflict)."""
