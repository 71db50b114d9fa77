"""Samplers over a model step function: beam search (the original ECM decoder) and greedy."""
