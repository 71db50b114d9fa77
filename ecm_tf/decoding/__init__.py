"""`--mode=decode`: a trained model folder of any family answers posts x emotions (the samplers are in ecm_tf/samplers)."""
