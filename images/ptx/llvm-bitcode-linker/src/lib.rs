// Stub: only lets `cargo vendor` read this manifest. The image builds the real sources from rust-web-src.
