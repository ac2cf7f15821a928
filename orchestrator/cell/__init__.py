"""Stage 4, cell: one cell's steps in its container, its sources, cargo, vendoring, cache."""
