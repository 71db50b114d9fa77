"""P&E2R's model settings: ECM's embedding and GRU sizes, CERG's length limit, its own cell (ecm_tf/schema.py)."""

import dataclasses

from ecm_tf.models.cerg.settings import CergSettings
from ecm_tf.models.ecm.settings import EcmSettings
from ecm_tf.schema import Settings, same_as, setting


@dataclasses.dataclass(frozen=True)
class Pe2rSettings(Settings):
    """The recurrent encoder-decoder baseline of the CERG paper over characters."""

    embed_dim: int = same_as(EcmSettings, "embed_dim")
    hidden: int = same_as(EcmSettings, "hidden")
    emotion_dim: int = same_as(EcmSettings, "emotion_dim")
    cerg_max_chars: int = same_as(CergSettings, "cerg_max_chars")
    pe2r_cell: str = setting("lstm", "Recurrent cell of the P&E2R baseline (CERG paper: LSTM); saved in config.json.",
                             choices=("lstm", "gru"), variables=True, legacy="gru")
