"""Decoding: graph-mode beam search and greedy search, and --mode=decode."""
