"""Orders domain: pure rules, no I/O."""
