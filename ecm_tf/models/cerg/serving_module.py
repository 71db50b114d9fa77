"""SavedModel of a CERG / P&E2R folder for TF Serving: text in, text out, beam search inside.

    python -m ecm_tf.main --mode=export --model_dir=runs/cerg --export_dir=runs/cerg/export

Signatures (tf.Module + saved_models.write, no XLA, loads under TF Serving's session loader):
  serving_default: posts tf.string [B] (raw text), emotions tf.string [B] (names such as "Happy"
    or ids "5") -> responses tf.string [B, K] (best first, characters joined as text.join_chars
    does), scores tf.float32 [B, K] (cumulative log-probability; -inf marks an empty slot).
    Characters are found in the graph with the rules of text.segment(level="char")
    (data/graph_text.py) and looked up in the model's char_vocab.txt.
  decode_ids: emotion int32 [B], post int32 [B, P] (char ids, 0-padded) -> ids int32
    [B, K, P + 1], scores float32 [B, K], lengths int32 [B, K].
Both answer a request of no rows with empty outputs ([0, K]) and refuse inputs of different row
counts with a message naming the inputs.

K = the beam size saved at training time (CERG paper: 2). BM25 retrieval needs the training pairs
and a Python index, so the rerank stays in CergPredictor: a TF Serving client gets the beam
search's candidates, best first by log-probability, which is CERG's --no_retrieval ablation
(P&E2R has no rerank, so it gets exactly what --mode=decode gives). To rerank on the client, pass
the K candidates to retrieval.rerank with the retrieved training responses. char_vocab.txt and
cerg_export.json (model, beam size, max characters) are stored in the version folder.
"""

import os
import shutil

import tensorflow as tf

from ecm_tf import io_utils
from ecm_tf import saved_models
from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg.predictor import CergPredictor
from ecm_tf.data import graph_text


class BeamSearchModule(tf.Module):
    """The model's variables, the character and emotion tables and the traced beam search.

    Args:
      predictor: CergPredictor (its model, vocabulary and beam settings).
    """

    def __init__(self, predictor):
        super().__init__(name="cerg_serving")
        self.weights = saved_models.model_variables(predictor.model)  # plain tf.Variables (see saved_models)
        self._predictor = saved_models.Untracked(predictor)
        self.max_chars = predictor.max_chars
        tokens = predictor.vocab.tokens
        self.char_table = saved_models.string_table(tokens, range(len(tokens)), char_vocab.UNK_ID)
        self.emotion_table = saved_models.emotion_table()
        self.tokens = tf.constant(tokens)
        ids_spec = [tf.TensorSpec([None], tf.int32, name="emotion"),
                    tf.TensorSpec([None, self.max_chars], tf.int32, name="post")]
        self.decode_ids = tf.function(self._decode_ids, input_signature=ids_spec)
        text_spec = [tf.TensorSpec([None], tf.string, name="posts"), tf.TensorSpec([None], tf.string, name="emotions")]
        self.serve = tf.function(self._serve, input_signature=text_spec)

    def _decode_ids(self, emotion, post):
        return saved_models.rows_or_empty({"emotion": emotion, "post": post},
                                          lambda: self._search(emotion, post), self._no_ids)

    def _no_ids(self):
        k = self._predictor.obj.beam_size
        return {"ids": tf.zeros([0, k, self.max_chars + 1], tf.int32), "scores": tf.zeros([0, k], tf.float32),
                "lengths": tf.zeros([0, k], tf.int32)}

    def _search(self, emotion, post):
        ids, scores, lengths = self._predictor.obj._beam(emotion, post)
        return {"ids": ids, "scores": scores, "lengths": lengths}

    def _serve(self, posts, emotions):
        return saved_models.rows_or_empty({"posts": posts, "emotions": emotions},
                                          lambda: self._answer(posts, emotions), self._no_rows)

    def _no_rows(self):
        """The outputs of a request with no posts: 0 rows, K columns."""
        k = self._predictor.obj.beam_size
        return {"responses": tf.fill([0, k], ""), "scores": tf.zeros([0, k], tf.float32)}

    def _answer(self, posts, emotions):
        chars = graph_text.char_tokens(posts)[:, : self.max_chars]  # ragged [B, <=P]
        tf.debugging.assert_positive(tf.cast(chars.row_lengths(), tf.int32), message="empty post")
        post = self.char_table.lookup(chars).to_tensor(char_vocab.PAD_ID, shape=[None, self.max_chars])  # [B, P]
        emotion = saved_models.emotion_ids(self.emotion_table, emotions)  # [B]
        out = self._search(emotion, post)
        ids = out["ids"]  # [B, K, T]
        # CharVocabulary.chars: up to the first _EOS, characters and _UNK only.
        before_eos = tf.equal(tf.cumsum(tf.cast(tf.equal(ids, char_vocab.EOS_ID), tf.int32), axis=-1), 0)
        shown = tf.logical_and(before_eos, tf.logical_or(ids >= char_vocab.FIRST_CHAR_ID,
                                                         tf.equal(ids, char_vocab.UNK_ID)))
        batch, k = tf.shape(ids)[0], tf.shape(ids)[1]
        flat_ids = tf.reshape(ids, [batch * k, -1])  # [B*K, T]
        words = tf.ragged.boolean_mask(tf.gather(self.tokens, flat_ids), tf.reshape(shown, [batch * k, -1]))
        responses = tf.reshape(graph_text.join_tokens(words), [batch, k])  # [B, K]
        return {"responses": responses, "scores": out["scores"]}


def export(predictor, export_dir):
    """Writes the SavedModel of a CergPredictor (or of a model folder, loaded with its saved settings)
    as a new version folder (saved_models.write); returns its path."""
    if isinstance(predictor, str):
        predictor = CergPredictor.load(predictor)
    model_dir = predictor.model_dir
    module = BeamSearchModule(predictor)
    info = {"model": predictor.settings["model"], "beam_size": predictor.beam_size,
            "max_chars": predictor.max_chars, "retrieval": False}
    return saved_models.write(module, export_dir, {
        "serving_default": module.serve.get_concrete_function(),
        "decode_ids": module.decode_ids.get_concrete_function()}, extra_files={
        char_vocab.FILE: lambda path: shutil.copy(os.path.join(model_dir, char_vocab.FILE), path),
        "cerg_export.json": lambda path: io_utils.write_json(path, info)})
