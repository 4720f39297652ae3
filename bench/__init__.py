"""Benchmarks (`make bench`), chaos runs and webhook fuzzing (`make chaos`); see docs/performance.md."""
