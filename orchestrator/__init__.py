"""linkmatrix: which toolchain really links a Rust pattern, and what the binary exports."""

__version__ = "0.1.0"
