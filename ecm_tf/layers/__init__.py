"""Keras layers of the ECM model family (one layer class per file)."""
