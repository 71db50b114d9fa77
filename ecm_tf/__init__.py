"""ecm_tf: the Emotional Chatting Machine (Zhou et al., AAAI 2018) and CERG in TF2/Keras 3."""

__version__ = "0.1.0"
