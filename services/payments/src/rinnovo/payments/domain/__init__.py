"""The payments model and its rules: pure, no I/O."""
