"""Benchmarks and quality evaluation; every command writes JSON under ``bench/results/``."""
