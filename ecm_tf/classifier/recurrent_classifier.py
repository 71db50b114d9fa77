"""Recurrent sentence classifiers of ECM Table 2: RNN, LSTM and Bi-LSTM."""

import keras

from ecm_tf import emotions

KINDS = ("rnn", "lstm", "bilstm")


@keras.saving.register_keras_serializable(package="ecm_tf")
class RecurrentClassifier(keras.Model):
    """Embedding -> recurrent encoder -> last state -> softmax over the six ECM emotions.

    The sentence vector is the final state h_T of a SimpleRNN or LSTM (Bi-LSTM: [h_T(fwd); h_1(bwd)]);
    logits = W h + b, p(e | x) = softmax(logits). Padding (id 0) is masked, so h_T is the state at
    the last real word. The paper gives no sizes; ours come from the clf_* flags.

    Args:
      kind: str, "rnn" | "lstm" | "bilstm".
      vocab_size: int, words including _PAD (0) and _UNK (1).
      embed_dim: int, word embedding size.
      hidden: int, recurrent units (per direction for bilstm).
      dropout: float, dropout rate on the embeddings and on the sentence vector.
      num_classes: int, output classes (6).
    """

    def __init__(self, kind, vocab_size, embed_dim, hidden, dropout=0.0, num_classes=emotions.NUM_EMOTIONS, **kwargs):
        super().__init__(**kwargs)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind, self.vocab_size, self.embed_dim = kind, vocab_size, embed_dim
        self.hidden, self.dropout_rate, self.num_classes = hidden, dropout, num_classes
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim, mask_zero=True, name="embedding")
        if kind == "rnn":
            self.encoder = keras.layers.SimpleRNN(hidden, name="rnn")
        elif kind == "lstm":
            self.encoder = keras.layers.LSTM(hidden, name="lstm")
        else:
            self.encoder = keras.layers.Bidirectional(keras.layers.LSTM(hidden), name="bilstm")
        self.embed_dropout = keras.layers.Dropout(dropout)
        self.out_dropout = keras.layers.Dropout(dropout)
        self.output_layer = keras.layers.Dense(num_classes, name="logits")

    def call(self, ids, training=False):
        """ids: [B, T] int word ids (0 = padding) -> logits [B, num_classes]."""
        x = self.embedding(ids)  # [B, T, E]
        mask = self.embedding.compute_mask(ids)  # [B, T]
        x = self.embed_dropout(x, training=training)
        h = self.encoder(x, mask=mask, training=training)  # [B, H] (bilstm: [B, 2H])
        h = self.out_dropout(h, training=training)
        return self.output_layer(h)  # [B, C]

    def get_config(self):
        config = super().get_config()
        config.update(kind=self.kind, vocab_size=self.vocab_size, embed_dim=self.embed_dim, hidden=self.hidden,
                      dropout=self.dropout_rate, num_classes=self.num_classes)
        return config
