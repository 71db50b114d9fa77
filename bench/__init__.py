"""Benchmark suite of ecm_tf: `python -m bench [--quick]` (see bench/README.md)."""
