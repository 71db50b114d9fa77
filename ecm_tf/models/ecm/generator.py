"""Response generation with a trained model: the graph search (shared with the SavedModel) and a
Python-side `ResponseGenerator` that handles text, emotion names, length limits and batching.
"""

import dataclasses
import sys

import numpy as np
import tensorflow as tf

from ecm_tf.data import pipeline
from ecm_tf.data import text as text_lib
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.samplers.beam_search import beam_search, tile_beam
from ecm_tf.samplers.greedy import greedy_search
from ecm_tf.errors import InputError

# An empty response (EOS first) is never returned; otherwise the search is the original one
# (--min_decode_len, default 1: EOS is allowed from the second token on).
MIN_RESPONSE_LEN = 1
# Rows (batch x beam) decoded at once: bounds the [rows, V] log-prob tensors (40k words -> ~50 MB).
ROWS_PER_BATCH = 320


def length_offset(cfg):
    """1 under --bucket_lengths=original, else 0: tokens a decoder of size D does not generate.

    The original's decoder of bucket size D runs D steps but selects a token after only D - 1
    of them (seq2seq.py beam_attention_decoder: the loop function runs for i = 1 .. D-1), so a
    post of 11 tokens (bucket 12) gets at most 11 response tokens, EOS included.
    """
    return 1 if cfg.bucket_lengths == "original" else 0


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """The search of a decoding Config, as ResponseGenerator and the SavedModel run it.

    algorithm: --decoder ("beam" or "greedy"); beam: its width (1 for greedy); top_k: responses kept
    (<= beam); offset: length_offset; fixed_len: --max_decode_len as a decoder size (N tokens, EOS
    included, whatever the --bucket_lengths rule), 0 = the post's bucket size; min_len: --min_decode_len.
    """

    algorithm: str
    beam: int
    top_k: int
    offset: int
    fixed_len: int
    min_len: int

    @classmethod
    def of(cls, cfg):
        greedy = cfg.decoder == "greedy"
        offset = length_offset(cfg)
        return cls(cfg.decoder, 1 if greedy else cfg.beam_size, 1 if greedy else min(cfg.top_k, cfg.beam_size), offset,
                   cfg.max_decode_len + offset if cfg.max_decode_len else 0, cfg.min_decode_len)


def search(model, post, post_len, emotion, max_len, beam_size, top_k, decoder="beam", offset=0,
           min_len=MIN_RESPONSE_LEN):
    """Graph-mode decoding of a batch (usable inside tf.function and a SavedModel).

    Args:
      model: ECMModel (encode / initial_state / step).
      post: int32 [B, Tp] post ids; post_len: int32 [B]; emotion: int32 [B].
      max_len: int32 scalar or [B], the decoder size: the post's bucket size D (ResponseGenerator.max_len).
        Responses have at most D - offset tokens, EOS included (D - 1 by
        default, as the original).
      beam_size: int, static beam width; top_k: int <= beam_size.
      decoder: "beam" or "greedy" (greedy returns K = 1).
      offset: length_offset(cfg) of the decoding settings (--bucket_lengths).
      min_len: tokens before EOS may end a response (--min_decode_len; 1: no empty response).

    Returns:
      ids int32 [B, K, max_len], scores float32 [B, K], lengths int32 [B, K].
    """
    batch = tf.shape(post)[0]
    max_len = tf.maximum(tf.convert_to_tensor(max_len, tf.int32) - offset, 1)
    encoded = model.encode(post, post_len)
    state = model.initial_state(encoded, emotion)  # leading dim B
    memory = {k: encoded[k] for k in ("values", "keys", "mask")}
    ids = dict(start_id=vocab_lib.GO_ID, eos_id=vocab_lib.EOS_ID, forbidden_ids=(vocab_lib.PAD_ID, vocab_lib.UNK_ID))
    if decoder == "greedy":
        return greedy_search(model.step_fn(memory, emotion), state, batch, max_len, min_len=min_len, **ids)
    # [B*K, ...] once for the whole search: the step closes over the tiled memory, emotion vector and mask row.
    step = model.step_fn(tile_beam(memory, beam_size), tile_beam(emotion, beam_size))
    return beam_search(step, state, batch, beam_size, max_len, top_k=top_k, min_len=min_len,
                       unk_id=vocab_lib.UNK_ID, **ids)


def bucket_length(post_len, bounds):
    """The original rule: the decoder size of the smallest bucket whose size exceeds the post length."""
    for b in bounds:
        if post_len < b:
            return b
    return bounds[-1]


def post_tokens(post, cfg, where):
    """Segmented tokens of a post, cut to the longest post prep keeps (max_post_len - 1).

    Raises InputError naming `where` for an empty post; notes a truncation on stderr.
    """
    tokens = text_lib.segment(post, cfg.token_level)
    if not tokens:
        raise InputError(f"{where}: empty post")
    limit = cfg.max_post_len - 1
    if len(tokens) > limit:
        sys.stderr.write(f"{where}: post has {len(tokens)} tokens; truncated to {limit} "
                         f"(--max_post_len={cfg.max_post_len})\n")
        tokens = tokens[:limit]
    return tokens


class ResponseGenerator:
    """Decodes text posts for given emotions with a restored model.

    Args:
      model: ECMModel with restored weights.
      cfg: Config (decoder, beam_size, top_k, max_decode_len, min_decode_len, max_post_len,
        bucket_boundaries, max_response_len, token_level).
      post_vocab, response_vocab: ecm_tf.data.vocab.WordVocabulary of the model's prep folder.
    """

    def __init__(self, model, cfg, post_vocab, response_vocab):
        self.model = model
        self.cfg = cfg
        self.post_vocab = post_vocab
        self.response_vocab = response_vocab
        self.search_settings = s = SearchSettings.of(cfg)
        self.beam, self.top_k = s.beam, s.top_k
        self.bounds = pipeline.boundaries(cfg)
        spec = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)]
        self._search = tf.function(
            lambda p, l, e, m: search(model, p, l, e, m, s.beam, s.top_k, s.algorithm, s.offset, s.min_len),
            input_signature=spec)

    def max_len(self, num_tokens):
        """The decoder size for a post of `num_tokens` (see `search`): its bucket size, or
        --max_decode_len (then exactly that many response tokens at most, EOS included)."""
        return self.search_settings.fixed_len or bucket_length(num_tokens, self.bounds)

    def width(self, num_tokens):
        """Columns a post of `num_tokens` is padded to: its bucket size (the post's own length past the last)."""
        return max(num_tokens, bucket_length(num_tokens, self.bounds))

    def decode_ids(self, post_ids, emotion_ids, max_len):
        """Lists of post ids (same bucket) x emotion ids -> list of [(response tokens, score)] (best first)."""
        # Padded to the bucket size of the longest post, as the original's get_batch_data (code-mode
        # encoders read the PAD positions; elsewhere they are masked and the width changes nothing).
        width = self.width(max(len(p) for p in post_ids))
        post = np.array([p + [0] * (width - len(p)) for p in post_ids], np.int32)
        ids, scores, lengths = self._search(post, np.array([len(p) for p in post_ids], np.int32),
                                            np.array(emotion_ids, np.int32), np.int32(max_len))
        out = []
        for row_ids, row_scores in zip(ids.numpy(), scores.numpy()):
            out.append([(self.response_vocab.words(i), float(s)) for i, s in zip(row_ids, row_scores)
                        if np.isfinite(s)])
        return out

    def decode(self, token_lists, emotion_ids, progress=None):
        """Every post x every emotion.

        Args:
          token_lists: list of list[str], segmented posts (from `post_tokens`).
          emotion_ids: list[int].
          progress: optional callable(done, total).

        Returns:
          dict (post index, emotion id) -> [(response tokens, score)], best first.
        """
        return self.decode_pairs(token_lists, [(i, e) for i in range(len(token_lists)) for e in emotion_ids], progress)

    def decode_pairs(self, token_lists, jobs, progress=None):
        """The (post index, emotion id) pairs `jobs` only (e.g. one chosen emotion per post), batched
        across posts and emotions; returns the same dict as `decode`.

        One search decodes up to ROWS_PER_BATCH // beam pairs whose posts share the decoder size and
        the padded width, so every pair gets what it gets decoded alone (tests/test_decoding_batched.py).
        """
        jobs = list(jobs)

        def group(job):
            n = len(token_lists[job[0]])
            return self.max_len(n), self.width(n)

        jobs.sort(key=group)
        per_batch = max(1, ROWS_PER_BATCH // self.beam)
        results = {}
        start = 0
        while start < len(jobs):
            key = group(jobs[start])
            limit = key[0]
            end = start
            while end < len(jobs) and end - start < per_batch and group(jobs[end]) == key:
                end += 1
            batch = jobs[start:end]
            outs = self.decode_ids([self.post_vocab.ids(token_lists[i]) for i, _ in batch],
                                   [e for _, e in batch], limit)
            results.update(zip(batch, outs))
            start = end
            if progress:
                progress(start, len(jobs))
        return results

