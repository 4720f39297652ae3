"""Benchmarks (`make bench`) and the command lines of the chaos run and the fuzzers (`make chaos`,
`python -m bench.fuzz`, `python -m bench.fuzz_bot`); see docs/performance.md. What tests share with them (the
stack harness, the chaos run, the fuzzers) is ``testkit``."""
