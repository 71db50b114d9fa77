"""SavedModel of the CERG / P&E2R beam search, without retrieval (BM25 stays in CergPredictor).

    from ecm_tf.cerg import export
    export.export("runs/cerg_small", "runs/cerg_small/saved_model")

Signature `serve(emotion int32 [B], post int32 [B, P])` -> {"ids" int32 [B, beam, P + 1],
"scores" float32 [B, beam], "lengths" int32 [B, beam]}: character ids of the joint vocabulary
(char_vocab.txt, copied beside it as an asset), best candidate first. A client turns posts into
ids with char_vocab.CharVocab and data.encode_posts, and may rerank the candidates itself with
retrieval.rerank.
"""

import os
import shutil

import tensorflow as tf

from ecm_tf import io_utils
from ecm_tf.cerg import char_vocab
from ecm_tf.cerg.predictor import CergPredictor


class BeamSearchModule(tf.Module):
    """tf.Module holding the model variables and the traced beam search.

    Args:
      predictor: CergPredictor (its model and beam settings).
    """

    def __init__(self, predictor):
        super().__init__(name="cerg_serving")
        self.model_variables = list(predictor.model.variables)
        self._predictor = predictor
        spec = [tf.TensorSpec([None], tf.int32, name="emotion"),
                tf.TensorSpec([None, predictor.max_chars], tf.int32, name="post")]
        self.serve = tf.function(self._serve, input_signature=spec)

    def _serve(self, emotion, post):
        ids, scores, lengths = self._predictor._beam(emotion, post)
        return {"ids": ids, "scores": scores, "lengths": lengths}


def export(model_dir, export_dir):
    """Writes the SavedModel (atomically: into a temporary folder renamed at the end)."""
    predictor = CergPredictor.load(model_dir)
    module = BeamSearchModule(predictor)
    parent = os.path.dirname(os.path.abspath(export_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, "." + os.path.basename(export_dir) + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tf.saved_model.save(module, tmp, signatures={"serving_default": module.serve})
    shutil.copy(os.path.join(model_dir, char_vocab.FILE), os.path.join(tmp, char_vocab.FILE))
    io_utils.write_json(os.path.join(tmp, "cerg_export.json"),
                        {"model": predictor.settings["model"], "beam_size": predictor.beam_size,
                         "max_chars": predictor.max_chars, "retrieval": False})
    shutil.rmtree(export_dir, ignore_errors=True)
    os.replace(tmp, export_dir)
    return export_dir
