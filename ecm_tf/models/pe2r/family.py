"""The P&E2R family (the CERG paper's baseline): CERG's character-level predictor, trainer and export
over a recurrent encoder-decoder (pe2r_model.py); no BM25 rerank."""

from ecm_tf.models.cerg.family import CergFamily
from ecm_tf.models.pe2r.settings import Pe2rSettings


class Pe2rFamily(CergFamily):
    name = "pe2r"
    title = "PE2R"
    settings_class = Pe2rSettings
