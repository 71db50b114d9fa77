"""The ECM family's SavedModel for TF Serving: vocabularies and the beam search inside (EcmFamily.export).


    python -m ecm_tf.main --mode=export --model_dir=runs/builtin/ecm --export_dir=runs/builtin/export

Signatures (tf.Module + tf.saved_model.save, no XLA so stock TF Serving runs it):
  serving_default: posts tf.string [B] (space-segmented words), emotions tf.string [B] (names
    such as "Happy" or ids "5") -> responses tf.string [B, K] (space-joined words, best first),
    scores tf.float32 [B, K] (cumulative log-probability; -inf marks an empty slot).
  decode_ids: post int32 [B, Tp] (0-padded post ids), post_len int32 [B], emotion int32 [B]
    -> ids int32 [B, K, T], scores float32 [B, K], lengths int32 [B, K].
Both answer a request of no rows with empty outputs ([0, K]) and refuse inputs of different row
counts with a message naming the inputs.
Each post's maximum response length follows --mode=decode: its bucket size D less the
--bucket_lengths rule's offset (the original: D - 1 tokens, EOS included), or --max_decode_len;
--min_decode_len (EOS not before that many tokens) is fixed in the graph at export. The folder is
written beside its final name and renamed when complete.
"""

import tensorflow as tf

from ecm_tf import emotions as emotion_lib
from ecm_tf import saved_models
from ecm_tf.classifier.graph_auto_emotion import AUTO_ID, GraphAutoEmotion
from ecm_tf.data import pipeline
from ecm_tf.data.vocab import EOS_ID, PAD_ID, UNK_ID
from ecm_tf.models.ecm.generator import SearchSettings, search


class ServingModule(tf.Module):
    """The trained model with its vocabularies and the decoding loop, for tf.saved_model.save.

    Args:
      model: ECMModel with restored weights.
      cfg: model Config (decoder, beam_size, top_k, max_decode_len, min_decode_len, max_post_len,
        bucket_boundaries).
      post_vocab, response_vocab: ecm_tf.data.vocab.WordVocabulary.
      auto: optional GraphAutoEmotion: accept emotions=["auto"] (the response emotion chosen from
        the post's, as --emotion=auto does with the lexicon classifier).
    """

    def __init__(self, model, cfg, post_vocab, response_vocab, auto=None):
        super().__init__(name="ecm_serving")
        self.weights = saved_models.model_variables(model)  # plain tf.Variables (see saved_models)
        self._model = saved_models.Untracked(model)
        search_settings = SearchSettings.of(cfg)  # as ResponseGenerator's
        self.beam, self.top_k, self.algorithm = search_settings.beam, search_settings.top_k, search_settings.algorithm
        self.max_post_tokens = cfg.max_post_len - 1
        self.length_offset = search_settings.offset
        self.max_decode_len = search_settings.fixed_len
        self.min_decode_len = search_settings.min_len  # fixed in the graph
        self.bounds = tf.constant(pipeline.boundaries(cfg), tf.int32)
        words = post_vocab.word_list
        self.post_table = saved_models.string_table(words, range(len(words)), UNK_ID)
        self.auto = auto
        self.emotion_table = saved_models.emotion_table({"auto": AUTO_ID} if auto else None)
        self.emotion_names = tf.constant(emotion_lib.NAMES)
        self.response_words = tf.constant(response_vocab.word_list)
        self.vocab_sizes = tf.constant([len(post_vocab), len(response_vocab)], tf.int32)

    def _bucket(self, post_len):
        """Bucket size per post: the smallest boundary larger than its length (else the last)."""
        index = tf.reduce_sum(tf.cast(self.bounds[None, :] <= post_len[:, None], tf.int32), axis=1)  # [B]
        return tf.gather(self.bounds, tf.minimum(index, tf.size(self.bounds) - 1))

    def _max_len(self, post_len):
        """The decoder size per post (search applies the --bucket_lengths rule to it)."""
        if self.max_decode_len:
            return tf.fill(tf.shape(post_len), self.max_decode_len)
        return self._bucket(post_len)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([None], tf.int32)])
    def decode_ids(self, post, post_len, emotion):
        return saved_models.rows_or_empty({"post": post, "post_len": post_len, "emotion": emotion},
                                          lambda: self._decode(post, post_len, emotion), self._no_ids)

    def _no_ids(self):
        k = self.top_k
        return {"ids": tf.zeros([0, k, 0], tf.int32), "scores": tf.zeros([0, k], tf.float32),
                "lengths": tf.zeros([0, k], tf.int32)}

    def _decode(self, post, post_len, emotion):
        ids, scores, lengths = search(self._model.obj, post, post_len, emotion, self._max_len(post_len), self.beam,
                                      self.top_k, self.algorithm, self.length_offset, self.min_decode_len)
        return {"ids": ids, "scores": scores, "lengths": lengths}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="posts"),
                                  tf.TensorSpec([None], tf.string, name="emotions")])
    def serve(self, posts, emotions):
        return saved_models.rows_or_empty({"posts": posts, "emotions": emotions},
                                          lambda: self._answer(posts, emotions), self._no_rows)

    def _no_rows(self):
        """The outputs of a request with no posts: 0 rows, K columns."""
        return {"responses": tf.fill([0, self.top_k], ""), "scores": tf.zeros([0, self.top_k], tf.float32),
                "emotions": tf.fill([0], ""), "post_emotions": tf.fill([0], "")}

    def _answer(self, posts, emotions):
        tokens = tf.strings.split(tf.strings.strip(posts))[:, : self.max_post_tokens]  # ragged [B, <=Tp]
        ids = self.post_table.lookup(tokens)
        # Digits count as 0 when the word itself is unknown (vocab.ids does the same).
        normalised = self.post_table.lookup(tf.strings.regex_replace(tokens, r"\p{Nd}", "0"))
        ids = tf.where(tf.equal(ids, UNK_ID), normalised, ids)
        post = ids.to_tensor(default_value=PAD_ID)  # [B, Tp]
        post_len = tf.cast(ids.row_lengths(), tf.int32)  # [B]
        # Padded to the bucket size of the longest post, as ResponseGenerator.decode_ids does (code-mode encoders
        # read the PAD positions; a request mixing buckets pads all posts to the largest one).
        longest = tf.reduce_max(post_len)
        width = tf.maximum(longest, self._bucket(tf.reshape(longest, [1]))[0])
        post = tf.pad(post, [[0, 0], [0, width - tf.shape(post)[1]]], constant_values=PAD_ID)  # [B, width]
        tf.debugging.assert_positive(post_len, message="empty post")
        requested = self.emotion_table.lookup(tf.strings.lower(tf.strings.strip(emotions)))  # [B]
        if self.auto is not None:
            post_emotion = self.auto.post_emotions(tokens)  # [B], the lexicon classifier
            requested = self.auto.resolve(requested, post_emotion)
        else:
            post_emotion = tf.fill(tf.shape(requested), -1)
        emotion = saved_models.emotion_ids(self.emotion_table, emotions, requested)  # [B], unknown names refused
        out = self._decode(post, post_len, emotion)
        words = tf.gather(self.response_words, out["ids"])  # [B, K, T]
        keep = tf.logical_and(tf.not_equal(out["ids"], PAD_ID), tf.not_equal(out["ids"], EOS_ID))
        words = tf.where(keep, words, "")
        responses = tf.strings.strip(tf.strings.regex_replace(tf.strings.reduce_join(words, axis=-1, separator=" "),
                                                              " +", " "))
        return {"responses": responses, "scores": out["scores"], "emotions": tf.gather(self.emotion_names, emotion),
                "post_emotions": tf.gather(tf.concat([self.emotion_names, [""]], 0),
                                           tf.where(post_emotion < 0, emotion_lib.NUM_EMOTIONS, post_emotion))}


def export(module, export_dir):
    """Writes `module` as a new TF Serving version folder (saved_models.write); returns its path."""
    return saved_models.write(module, export_dir, {
        "serving_default": module.serve.get_concrete_function(),
        "decode_ids": module.decode_ids.get_concrete_function()})


def graph_auto_emotion(data_dir):
    """The GraphAutoEmotion of a training data folder (DUTIR lexicon, its interaction table)."""
    from ecm_tf.classifier.auto_emotion import AutoEmotion
    from ecm_tf.classifier.lexicon import LexiconClassifier
    from ecm_tf.data import interaction

    chooser = AutoEmotion.for_data(LexiconClassifier(), data_dir)
    return GraphAutoEmotion(chooser.classifier.classes, interaction.best_per_post_emotion(chooser.counts))
