"""`CergPredictor`: a trained CERG / P&E2R folder as a Python predictor (decode, chat, export).

    predictor = CergPredictor.load("runs/cerg")
    predictor.respond(["今天好开心"], ["Happy"])             # -> ["..."]
    predictor.respond(posts, emotions, use_retrieval=False)  # the --no_retrieval ablation

Generation: the shared in-graph beam search (ecm_tf.samplers.beam_search) over the model's
`step`, returning `beam_size` finished candidates per (post, emotion); then, for CERG with
retrieval, the BM25 rerank of retrieval.py. P&E2R and --no_retrieval take the beam search's
best candidate (highest cumulative log-probability). BM25 cannot run inside a TF graph, so
retrieval lives here, in Python, beside the model.
"""

import os
import sys

import tensorflow as tf

from ecm_tf import checkpoints
from ecm_tf import config
from ecm_tf import emotions
from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg import data
from ecm_tf.models.cerg import models
from ecm_tf.models.cerg import retrieval
from ecm_tf.data import text as text_lib
from ecm_tf.samplers.beam_search import beam_search
from ecm_tf.errors import InputError

_BATCH = 64
# No empty response: _EOS is not allowed as the first character (as ECM's decoder, models/ecm/generator.py).
MIN_RESPONSE_LEN = 1


class CergPredictor:
    """Generates responses with a trained model folder.

    Args:
      model_dir: str, folder written by ecm_tf.models.cerg.trainer.
      settings: dict, its config.json.
      vocab: char_vocab.CharVocabulary.
      model: the restored CergModel or Pe2rModel.
      index: retrieval.Bm25Index or None (P&E2R).
      beam_size: int, beam width (CERG paper: 2).
      retrieval_k: int, retrieved training pairs per post.
      retrieval_weight: float, weight of the similarity term of the rerank.
    """

    def __init__(self, model_dir, settings, vocab, model, index, beam_size, retrieval_k, retrieval_weight):
        self.model_dir = model_dir
        self.settings = settings
        self.vocab = vocab
        self.model = model
        self.index = index
        self.beam_size = int(beam_size)
        self.retrieval_k = int(retrieval_k)
        self.retrieval_weight = float(retrieval_weight)
        self.max_chars = int(settings["cerg_max_chars"])
        self._search = tf.function(self._beam, input_signature=[
            tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, self.max_chars], tf.int32)])

    @classmethod
    def load(cls, model_dir, beam_size=None, retrieval_k=None, retrieval_weight=None, settings=None):
        """Loads config.json (unless its dict is given as `settings`), char_vocab.txt, the latest
        checkpoint and (CERG) the BM25 index. Unset arguments take the values saved at training time."""
        path = os.path.join(model_dir, "config.json")
        if settings is None:
            settings = config.read_saved(model_dir)
        if settings.get("model") not in models.FAMILIES:
            raise InputError(f"{path}: model {settings.get('model')!r} is not a CERG or P&E2R model")
        vocab = char_vocab.CharVocabulary.load(model_dir)
        model = models.build(settings, len(vocab))
        prefix = models.restore(model, model_dir)  # verified whole first (checkpoints.verify)
        print(f"loaded {checkpoints.describe(prefix)}", file=sys.stderr, flush=True)
        index = retrieval.Bm25Index.load(model_dir) if settings["model"] == "cerg" else None
        pick = lambda v, name: settings[name] if v is None else v  # noqa: E731
        return cls(model_dir, settings, vocab, model, index, pick(beam_size, "beam_size"),
                   pick(retrieval_k, "retrieval_k"), pick(retrieval_weight, "retrieval_weight"))

    def _beam(self, emotion, post):
        batch = tf.shape(post)[0]
        return beam_search(self.model.step, self.model.initial_state(emotion, post), batch, self.beam_size,
                           self.max_chars + 1, start_id=self.model.start_id, eos_id=char_vocab.EOS_ID,
                           forbidden_ids=models.FORBIDDEN_IDS, top_k=self.beam_size, unk_id=char_vocab.UNK_ID,
                           min_len=MIN_RESPONSE_LEN)

    def _post_chars(self, post, where):
        chars = data.chars_of(post)
        if not chars:
            raise InputError(f"{where}: empty post")
        return chars[: self.max_chars]

    def candidates(self, posts, emotion_ids):
        """Beam candidates per (post, emotion): lists of (chars, log_prob, length incl. _EOS)."""
        chars = [self._post_chars(p, f"post {i + 1}") for i, p in enumerate(posts)]
        out = []
        for start in range(0, len(chars), _BATCH):
            post_ids = data.encode_posts(self.vocab, chars[start: start + _BATCH], self.max_chars)
            emo = tf.constant(emotion_ids[start: start + _BATCH], tf.int32)
            ids, scores, lengths = self._search(emo, tf.constant(post_ids))
            for row_ids, row_scores, row_len in zip(ids.numpy(), scores.numpy(), lengths.numpy()):
                out.append([(self.vocab.chars(i), float(s), int(n))
                            for i, s, n in zip(row_ids, row_scores, row_len) if s > float("-inf")])
        return out

    def respond_detailed(self, posts, emotion_list, use_retrieval=True):
        """One dict per (post, emotion): post, emotion, response, candidates (with scores), retrieved."""
        if len(posts) != len(emotion_list):
            raise InputError(f"{len(posts)} posts but {len(emotion_list)} emotions")
        emotion_ids = [emotions.emotion_id(e, f"emotion {i + 1}") for i, e in enumerate(emotion_list)]
        use_retrieval = use_retrieval and self.index is not None
        results = []
        retrieved_for = {}  # post -> its retrieved responses (the same for every emotion)
        for post, eid, cands in zip(posts, emotion_ids, self.candidates(posts, emotion_ids)):
            if use_retrieval and post not in retrieved_for:
                retrieved_for[post] = self.index.retrieved_responses(self._post_chars(post, "post"), self.retrieval_k)
            retrieved = retrieved_for.get(post, [])
            if use_retrieval:
                best, scored = retrieval.rerank(cands, retrieved, self.retrieval_weight)
            else:
                best = 0
                scored = [{"log_prob": lp, "length": n} for _, lp, n in cands]
            for (chars, _, _), s in zip(cands, scored):
                s["response"] = text_lib.join_chars(" ".join(chars))
            results.append({"post": post, "emotion": emotions.NAMES[eid],
                            "response": scored[best]["response"] if scored else "",
                            "candidates": scored, "retrieved": [text_lib.join_chars(" ".join(r)) for r in retrieved]})
        return results

    def respond(self, posts, emotion_list, use_retrieval=True):
        """Best response text per (post, emotion); emotions as names or ids."""
        return [r["response"] for r in self.respond_detailed(posts, emotion_list, use_retrieval)]
