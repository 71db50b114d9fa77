"""--mode=eval on a tiny model over the fixture's dev split, with a stub classifier."""

import json
import math

import pytest

from ecm_tf import flags as ecm_flags
from ecm_tf.data import pipeline
from ecm_tf.evaluation import evaluate
from ecm_tf import metrics
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
    # The counts behind each figure: dev pairs per response emotion, generated responses per emotion.
    assert report["pairs"] == {**responses, "Overall": len(dev)}
    md = (tmp_path / "model" / "eval.md").read_text(encoding="utf-8")
    assert "| Sad |" in md and "| 1.000 |" in md and md in capsys.readouterr().out
    assert "| emotion | pairs | perplexity | perplexity (token) | responses | emotion accuracy |" in md
    assert (f"| Overall | {len(dev)} | {ppl['Overall']:.1f} | {ppl_token['Overall']:.1f} | "
            f"{5 * report['posts']} |") in md
    # The fixture's dev split is tiny: every class is under the threshold, marked and named in the note.
    assert all(n < evaluate.MIN_PERPLEXITY_PAIRS for n in responses.values())
    for name, n in responses.items():
        assert f"| {name} | {n} | {ppl[name]:.1f}* |" in md
    assert f"* fewer than {evaluate.MIN_PERPLEXITY_PAIRS} dev pairs: " in md


def _report(pairs, generated=("Like", "Sad", "Disgust", "Angry", "Happy")):
    names = [n for n in pairs if n != "Overall"]
    return {"model_dir": "m", "split": "dev", "examples": pairs["Overall"], "posts": 10, "classifier": "c",
            "decoder": "beam 20", "pairs": pairs,
            "perplexity": {n: 100.0 for n in names + ["Overall"]},
            "perplexity_token": {n: 90.0 for n in names + ["Overall"]},
            "perplexity_interval_factor": {n: 1.1 if pairs[n] >= 30 else 2.5 for n in pairs if pairs[n] >= 2},
            "generation": {n: {"emotion_accuracy": 0.5, "distinct_1": 0.1, "distinct_2": 0.2, "responses": 10}
                           for n in list(generated) + ["Overall"]}}


def test_eval_table_notes_classes_with_too_few_pairs():
    big = {"Other": 300, "Like": 80, "Sad": 40, "Disgust": 60, "Angry": 30, "Happy": 50, "Overall": 560}
    md = evaluate.markdown(_report(big))
    assert "*" not in md and "fewer than" not in md and "no dev pair" not in md
    assert "| Angry | 30 | 100.0 | 90.0 | 10 | 0.500 |" in md

    few = {"Other": 300, "Like": 80, "Sad": 12, "Disgust": 60, "Angry": 1, "Happy": 50, "Overall": 503}
    md = evaluate.markdown(_report(few))
    assert "| Sad | 12 | 100.0* | 90.0* | 10 |" in md and "| Angry | 1 | 100.0* | 90.0* |" in md
    assert "| Like | 80 | 100.0 | 90.0 |" in md
    assert "* fewer than 30 dev pairs: Sad 12 (x/ 2.50), Angry 1;" in md

    none = {"Other": 300, "Like": 80, "Sad": 40, "Disgust": 60, "Happy": 50, "Overall": 530}
    md = evaluate.markdown(_report(none, generated=("Like", "Sad")))
    assert "| Angry | 0 | - | - | 0 | - | - | - |" in md and "no dev pair of Angry: no perplexity for it" in md
    assert "| Other | 300 | 100.0 | 90.0 | - | - |" in md


def test_interval_factor_by_hand():
    # mean NLLs 1, 2, 3: sd 1, standard error 1/sqrt(3); factor exp(1.96 / sqrt(3)).
    assert metrics.interval_factor([1.0, 2.0, 3.0]) == pytest.approx(math.exp(1.96 / math.sqrt(3)))
    assert metrics.interval_factor([2.0, 2.0]) == 1.0

