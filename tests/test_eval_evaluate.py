"""--mode=eval on a tiny model over the fixture's dev split, with a stub classifier."""

import json
import math

import pytest

from ecm_tf import flags as ecm_flags
from ecm_tf.data import pipeline
from ecm_tf.evaluation import evaluate
from test_decoding_decode import FIXTURE, make_model_dir


class AlwaysSad:
    def predict(self, texts):
        return [2] * len(texts)


def test_eval_writes_table_with_hand_checkable_figures(tmp_path, monkeypatch, capsys):
    make_model_dir(tmp_path / "model", decoder="greedy")
    monkeypatch.setattr(evaluate, "load_emotion_classifier", lambda d: (AlwaysSad(), "always-sad stub"))
    cfg = ecm_flags.defaults().replace(model_dir=str(tmp_path / "model"), decoder="greedy")
    evaluate.run(cfg)
    report = json.loads((tmp_path / "model" / "eval.json").read_text(encoding="utf-8"))
    assert report["split"] == "dev" and report["classifier"] == "always-sad stub"
    dev = pipeline.read_split(str(FIXTURE), "dev")
    assert report["examples"] == len(dev) and report["posts"] == len({ex["post_text"] for ex in dev})
    gen = report["generation"]
    # Every response is labelled Sad: Sad accuracy 1, the other four 0, overall 1/5.
    assert gen["Sad"]["emotion_accuracy"] == 1.0 and gen["Like"]["emotion_accuracy"] == 0.0
    assert gen["Overall"]["emotion_accuracy"] == pytest.approx(0.2)
    assert gen["Overall"]["responses"] == 5 * report["posts"]
    assert 0 < gen["Overall"]["distinct_1"] <= 1 and 0 <= gen["Overall"]["distinct_2"] <= 1
    # perplexity (the original's): every response weighs the same, so Overall is the response-count
    # weighted mean of the per-emotion ones in log space; perplexity_token: the token-weighted mean.
    ppl, ppl_token = report["perplexity"], report["perplexity_token"]
    tokens, responses = {}, {}
    for ex in dev:
        name = ["Other", "Like", "Sad", "Disgust", "Angry", "Happy"][ex["emotion"]]
        tokens[name] = tokens.get(name, 0) + len(ex["response"])
        responses[name] = responses.get(name, 0) + 1
    for table, counts in ((ppl, responses), (ppl_token, tokens)):
        mixed = math.exp(sum(n * math.log(table[name]) for name, n in counts.items()) / sum(counts.values()))
        assert table["Overall"] == pytest.approx(mixed, rel=1e-4)
        assert set(table) == set(counts) | {"Overall"}
    md = (tmp_path / "model" / "eval.md").read_text(encoding="utf-8")
    assert "| Sad |" in md and "| 1.000 |" in md and md in capsys.readouterr().out
    assert "| emotion | perplexity | perplexity (token) | emotion accuracy |" in md
    assert f"| Overall | {ppl['Overall']:.1f} | {ppl_token['Overall']:.1f} |" in md

