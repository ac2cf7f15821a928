"""Stage 1, config: matrix.yaml and scenario.yaml read, validated, typed (pure)."""
