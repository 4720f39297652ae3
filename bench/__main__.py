"""`python -m bench` (`make bench`): see bench/perf.py and docs/performance.md."""

from bench.perf import main

main()
