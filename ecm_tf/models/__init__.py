"""Model families behind one contract (registry.py): ECM (models/ecm), CERG (models/cerg), P&E2R (models/pe2r)."""
