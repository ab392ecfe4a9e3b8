"""Benchmarks of the running service (not part of the test suite); see ``bench/fanout.py``."""
