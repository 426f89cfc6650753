"""The catalog's rules: pure, no I/O."""
