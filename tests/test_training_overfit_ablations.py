"""Table 4 ablations (w/o Emb, w/o IMem, w/o EMem) train: the loss on 8 fixed pairs drops a lot."""

import pytest

from test_training_overfit import overfit


@pytest.mark.parametrize("name,emb,imem,emem", [
    ("ecm_no_emb", False, True, True), ("ecm_no_imem", True, False, True), ("ecm_no_emem", True, True, False)])
def test_ablation_overfits_eight_pairs(name, emb, imem, emem, tmp_path):
    overfit(name, emb, imem, emem, tmp_path)
