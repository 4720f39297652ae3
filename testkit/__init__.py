"""Test support shared by the test suite and the benchmarks: the stack harness, report checks, the keyboard
reader, the chaos run and both fuzzers.

Tests and ``bench/`` import from here; ``tests/`` never imports ``bench`` and no product package imports
either (``tests/testkit/test_imports.py``).
"""
