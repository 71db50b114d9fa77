"""The ECM model family: Seq2Seq, Emb, ECM and its ablations (Table 4), its loss, decoder and serving module."""
