"""One module per CLI mode; each has `register(subparsers)` and sets `func` to its runner."""
