"""Training of the ECM model family (`--mode=train`)."""
