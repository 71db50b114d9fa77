"""Serving: SavedModel export, the TF Serving REST client and the interactive chat."""
