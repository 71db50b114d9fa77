"""P&E2R (the CERG paper's baseline): an emotion-conditioned GRU/LSTM encoder-decoder over characters."""
