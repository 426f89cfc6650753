"""The payments use cases, one module per family, each on the ``Context`` it is given."""
