"""Benchmarks of hessian-lab: run each with python -m benchmarks.bench_NAME (make bench)."""
