"""Stage 3, images: the base image, toolchain images by content hash, prefetch, prune."""
