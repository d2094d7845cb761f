"""Benchmarks and resilience checks of Expert SPRO: scripts that print figures and write docs/BENCHMARKS.md."""
