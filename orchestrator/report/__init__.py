"""Views rendered from results.json: each one is a pure function of the results document."""
