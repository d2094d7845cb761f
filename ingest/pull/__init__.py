"""Pulling official APIs (DILA annuaire, data·inclusion) into dated snapshot files that ingest reads."""
