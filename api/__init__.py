"""The HTTP face (FastAPI), the Teams bot endpoint and the command line."""
