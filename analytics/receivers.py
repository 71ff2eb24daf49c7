"""Signal receivers (being written)."""
