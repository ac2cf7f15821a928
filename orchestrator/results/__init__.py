"""Stage 7, results: the results document, written atomically; merge, diff, release diff."""
