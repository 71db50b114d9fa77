"""CERG's model settings (the character transformer and its replacement schedule): one schema, ecm_tf/schema.py."""

import dataclasses

from ecm_tf.schema import Settings, setting


@dataclasses.dataclass(frozen=True)
class CergSettings(Settings):
    """Transformer sizes (Zhou & Ren 2020: 12 x 768, 12 heads), post/response length, character replacement."""

    cerg_layers: int = setting(12, "Transformer blocks (paper: 12).", bounds=(1, None), variables=True)
    cerg_hidden: int = setting(768, "Transformer hidden size (paper: 768).", bounds=(1, None), variables=True)
    cerg_heads: int = setting(12, "Attention heads.", bounds=(1, None), variables=True)
    cerg_max_chars: int = setting(32, "Max characters of post and of response (paper: 32).", bounds=(1, None),
                                  variables=True)
    replace_rate: float = setting(0.05, "Final character-replacement rate (paper: 5%).", bounds=(0, 1))
    replace_ramp_steps: int = setting(10000, "Steps over which the replacement rate ramps up.", bounds=(0, None))
    cerg_dropout: float = setting(0.1, "Dropout of the CERG transformer (and its substitute masked LM).",
                                  bounds=(0, "<1"))
