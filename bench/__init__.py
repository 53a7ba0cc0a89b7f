"""Benchmarks: each ``*_bench.py`` prints its figures beside a named alternative measured in the same run."""
