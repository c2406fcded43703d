"""Benchmarks: each measures the platform against an anchor in the same run.

``make bench`` runs them all; ``make bench BENCH=outbox`` one of them. Results are appended to
benchmarks/RESULTS.md with the machine, the date and the command.
"""
