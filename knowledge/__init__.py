"""What the assistant knows and how it is stored; imports nothing of ours."""
