"""Sources -> records -> chunks -> embeddings -> a new index version, published atomically."""
