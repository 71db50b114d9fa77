"""The CERG family (Zhou & Ren 2020: UniLM-style character transformer, BM25 rerank) behind the
family contract; P&E2R (models/pe2r) shares its character-level predictor, trainer and export."""

from ecm_tf.errors import InputError
from ecm_tf.models import family
from ecm_tf.models.cerg import data
from ecm_tf.models.cerg.settings import CergSettings


class CergFamilyPredictor(family.Predictor):
    """A restored CERG / P&E2R folder. Posts are raw texts (the characters are found inside).

    Each record is CergPredictor.respond_detailed's: {"post", "emotion", "response", "candidates":
    [{"response", "log_prob", "length", "similarity", "score"}], "retrieved": [...]}.
    """

    def __init__(self, fam, predictor, use_retrieval):
        self.family = fam
        self.predictor = predictor
        self.settings = predictor.settings
        self.data_dir = predictor.settings.get("data_dir", "")
        self.use_retrieval = use_retrieval and predictor.index is not None
        self.search = f"beam {predictor.beam_size}, retrieval {'on' if self.use_retrieval else 'off'}"

    def predict(self, posts, emotion_ids, progress=None):
        records = self.predictor.respond_detailed(list(posts), list(emotion_ids), use_retrieval=self.use_retrieval)
        if progress:
            progress(len(records), len(records))
        return records


class CergFamily(family.Family):
    name = "cerg"
    title = "CERG"
    settings_class = CergSettings

    def prepare_post(self, settings, text, where):
        if not data.chars_of(text):
            raise InputError(f"{where}: empty post")
        return text

    def load(self, cfg, model_dir, saved):
        from ecm_tf.models.cerg.predictor import CergPredictor

        # Decode settings saved at training time apply unless given on this command line.
        overrides = {n: getattr(cfg, n) for n in ("beam_size", "retrieval_k", "retrieval_weight") if cfg.is_set(n)}
        predictor = CergPredictor.load(model_dir, settings=saved, **overrides)
        return CergFamilyPredictor(self, predictor, use_retrieval=not cfg.no_retrieval)

    def train(self, cfg):
        from ecm_tf.models.cerg import trainer

        trainer.train_folder(cfg)

    def export(self, predictor, cfg, export_dir):
        from ecm_tf.models.cerg import serving_module

        return (serving_module.export(predictor.predictor, export_dir),
                "text in/out, beam search inside; the BM25 rerank stays in CergPredictor")
