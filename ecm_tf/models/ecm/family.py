"""The ECM family (Seq2Seq, Emb, ECM and the Table 4 ablations) behind the family contract."""

import sys

from ecm_tf import checkpoints
from ecm_tf import config
from ecm_tf import emotions
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.models import family
from ecm_tf.models.ecm import checkpoint_io
from ecm_tf.models.ecm.generator import MIN_RESPONSE_LEN, ResponseGenerator, post_tokens
from ecm_tf.models.ecm.settings import EcmSettings


class EcmPredictor(family.Predictor):
    """A restored ECM-family folder. Posts are token lists (EcmFamily.prepare_post).

    Each record: {"post": space-joined tokens, "emotion", "response": the best (space-joined
    tokens), "score": its cumulative log-probability, "responses": [{"response", "score"}] the
    top_k candidates, best first}.
    """

    def __init__(self, fam, generator):
        self.family = fam
        self.generator = generator
        self.settings = generator.cfg
        self.data_dir = generator.cfg.data_dir
        self.search = f"{generator.cfg.decoder} {generator.beam}"
        if generator.cfg.min_decode_len != MIN_RESPONSE_LEN:
            self.search += f", min length {generator.cfg.min_decode_len}"

    def predict(self, posts, emotion_ids, progress=None):
        jobs = list(enumerate(emotion_ids))
        results = self.generator.decode_pairs(posts, jobs, progress=progress)
        records = []
        for k, e in jobs:
            cands = results[(k, e)]
            best_text, best_score = (" ".join(cands[0][0]), cands[0][1]) if cands else ("", float("-inf"))
            records.append({"post": " ".join(posts[k]), "emotion": emotions.NAMES[e], "response": best_text,
                            "score": round(best_score, 4),
                            "responses": [{"response": " ".join(t), "score": round(s, 4)} for t, s in cands]})
        return records


class EcmFamily(family.Family):
    name = "ecm"
    title = "ECM"
    settings_class = EcmSettings

    def prepare_post(self, settings, text, where):
        return post_tokens(text, settings, where)

    def load(self, cfg, model_dir, saved):
        model, model_cfg, prefix = checkpoint_io.load(cfg, model_dir, saved)
        print(f"loaded {checkpoints.describe(prefix)}", file=sys.stderr, flush=True)
        post_vocab, response_vocab = vocab_lib.load_pair(model_cfg.data_dir, flag="--data_dir")
        return EcmPredictor(self, ResponseGenerator(model, model_cfg, post_vocab, response_vocab))

    def train(self, cfg):
        from ecm_tf.models.ecm import trainer

        trainer.train(cfg)

    def export(self, predictor, cfg, export_dir):
        from ecm_tf.models.ecm import serving_module

        generator = predictor.generator
        module = serving_module.ServingModule(
            generator.model, generator.cfg, generator.post_vocab, generator.response_vocab,
            auto=serving_module.graph_auto_emotion(generator.cfg.data_dir))
        search = f"beam {module.beam}, top {module.top_k}"
        if module.min_decode_len != MIN_RESPONSE_LEN:
            search += f", min length {module.min_decode_len}"
        return serving_module.export(module, export_dir), search

    def perplexities(self, predictor, split, pairs=None, spread=None):
        from ecm_tf.models.ecm import evaluation

        return evaluation.perplexities(predictor.generator.model, predictor.settings, predictor.data_dir, split,
                                       pairs, spread)


def load_generator(cfg, model_dir=None):
    """(ResponseGenerator, model Config) of an ECM-family folder (for library use, tests and benchmarks)."""
    model_dir = model_dir or cfg.model_dir
    predictor = EcmFamily().load(cfg, model_dir, config.read_saved(model_dir))
    return predictor.generator, predictor.settings
