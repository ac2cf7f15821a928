"""`linkmatrix run --bless`: what a failed cell observed, written into its scenario.yaml."""
