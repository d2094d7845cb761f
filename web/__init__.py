"""The chat widget: static files served by the API."""
