"""Emotion classifiers of ECM Table 2 (lexicon, RNN, LSTM, Bi-LSTM) and corpus annotation."""
