"""Benchmarks of cdt against the physical limit and the tools a user would reach for (bench/README.md)."""
