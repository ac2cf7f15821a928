"""The Docker engine: the client, the one cell-container wrapper, one-file scratch runs."""
