"""Benchmarks (`make bench`): each is a function returning table rows; not part of the test suite."""
