"""One loader per official or local source format."""
