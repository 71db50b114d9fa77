"""The ECM model family (Seq2Seq, Emb, ECM and its ablations) and its loss."""
