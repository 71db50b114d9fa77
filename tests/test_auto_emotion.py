"""`--emotion=auto`: the interaction table's choice, prep's interaction.json, decode and chat, and
the SavedModel's in-graph lexicon classifier (same answers as the Python one, under TF Serving's
session loader)."""

import json

import numpy as np
import pytest

from conftest import assert_loaders_agree, load_both_ways, run_cli
from ecm_tf.models.ecm import serving_module
from ecm_tf.models.ecm import family as ecm_family
from ecm_tf import flags as ecm_flags
from ecm_tf import emotions as E
from ecm_tf.classifier.lexicon import LexiconClassifier
from ecm_tf.data import interaction
from test_decoding_decode import FIXTURE, make_model_dir


def test_choose_by_hand():
    counts = np.zeros((6, 6), np.int64)
    counts[E.SAD] = [50, 3, 9, 0, 1, 9]  # Other is never chosen; Sad and Happy tie at 9 -> lower id (Sad)
    counts[E.ANGRY, E.DISGUST] = 2
    assert interaction.choose(counts, E.SAD) == [E.SAD]
    assert interaction.choose(counts, E.SAD, 3) == [E.SAD, E.HAPPY, E.LIKE]
    assert interaction.choose(counts, E.ANGRY) == [E.DISGUST]
    # No pairs for Like posts: the corpus's response emotions (Sad 9, Happy 9, Like 3, Disgust 2, Angry 1).
    assert interaction.choose(counts, E.LIKE, 2) == [E.SAD, E.HAPPY]
    assert interaction.best_per_post_emotion(counts)[E.ANGRY] == E.DISGUST


def test_prep_writes_the_interaction_table(tmp_path):
    corpus = tmp_path / "pairs.tsv"
    rows = [("我 今天 很 难过", "别 难过 了", "2"), ("今天 真 开心", "我 也 很 开心", "5"),
            ("我 今天 很 难过", "抱抱 你", "2"), ("明天 去 上班", "好 的", "0")] * 3
    corpus.write_text("".join(f"{p}\t{r}\t{e}\n" for p, r, e in rows), encoding="utf-8")
    out = tmp_path / "data"
    proc = run_cli("--mode=prep", f"--input={corpus}", "--input_format=tsv", f"--output_dir={out}",
                   "--dev_fraction=0", "--num_shards=1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = json.loads((out / interaction.FILE).read_text(encoding="utf-8"))
    lexicon = LexiconClassifier()
    expected = np.zeros((6, 6), np.int64)
    for p, _, e in rows:
        expected[lexicon.predict_tokens(p.split()), int(e)] += 1
    assert table["counts"] == expected.tolist() and table["pairs"] == len(rows)
    assert interaction.load(str(out)).tolist() == expected.tolist()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("auto") / "model"
    make_model_dir(folder)
    return folder


POSTS = ["我 今天 很 难过", "今天 真 开心", "明天 去 上班", "愤怒 喜欢"]  # the last: one Angry and one Like word


def _expected_choices(data_dir):
    lexicon = LexiconClassifier()
    counts = interaction.load(str(data_dir), lambda texts: [lexicon.predict_tokens(t.split()) for t in texts])
    return [(lexicon.predict_tokens(p.split()), interaction.choose(counts, lexicon.predict_tokens(p.split()))[0])
            for p in POSTS]


@pytest.mark.slow
def test_decode_auto_names_the_post_emotion_and_the_choice(model_dir, tmp_path):
    posts = tmp_path / "posts.txt"
    posts.write_text("\n".join(POSTS) + "\n", encoding="utf-8")
    proc = run_cli("--mode=decode", f"--model_dir={model_dir}", f"--input={posts}", "--emotion=auto",
                   f"--classifier_dir={tmp_path / 'none'}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "DUTIR lexicon classifier" in proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    expected = _expected_choices(FIXTURE)
    assert [(r["post_emotion"], r["emotion"]) for r in rows] == [(E.NAMES[p], E.NAMES[c]) for p, c in expected]
    assert expected[0][0] == E.SAD and expected[3][0] == E.ANGRY  # the tie goes to the rarer class
    two = run_cli("--mode=decode", f"--model_dir={model_dir}", f"--input={posts}", "--emotion=auto",
                  "--auto_emotion_top_k=2", f"--classifier_dir={tmp_path / 'none'}")
    assert len([l for l in two.stdout.splitlines() if l.startswith("{")]) == 2 * len(POSTS)


@pytest.mark.slow
def test_saved_model_auto_matches_python_under_the_session_loader(model_dir, tmp_path):
    cfg = ecm_flags.defaults().replace(model_dir=str(model_dir), beam_size=4, top_k=3)
    generator, model_cfg = ecm_family.load_generator(cfg)
    module = serving_module.ServingModule(generator.model, model_cfg, generator.post_vocab, generator.response_vocab,
                                      auto=serving_module.graph_auto_emotion(str(FIXTURE)))
    path = serving_module.export(module, str(tmp_path / "export"))
    both = load_both_ways(path, "serving_default", {"posts": POSTS + [POSTS[0]],
                                                    "emotions": ["auto"] * len(POSTS) + ["Happy"]})
    assert_loaders_agree(both)
    served = both["session"]
    expected = _expected_choices(FIXTURE)
    assert served["post_emotions"] == [E.NAMES[p] for p, _ in expected] + ["Sad"]
    assert served["emotions"] == [E.NAMES[c] for _, c in expected] + ["Happy"]
    for i, (post, (_, chosen)) in enumerate(zip(POSTS, expected)):
        best = generator.decode([post.split()], [chosen])[(0, chosen)]
        assert served["responses"][i] == [" ".join(t) for t, _ in best]


@pytest.mark.slow
def test_eval_auto_decodes_each_post_with_its_chosen_emotion(model_dir, tmp_path):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    proc = run_cli("--mode=eval", f"--model_dir={folder}", "--emotion=auto", f"--classifier_dir={tmp_path / 'none'}",
                   "--beam_size=2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((folder / "eval.json").read_text(encoding="utf-8"))
    generated = {k: v for k, v in report["generation"].items() if k != "Overall"}
    assert sum(v["responses"] for v in generated.values()) == report["posts"]  # one chosen emotion per post
    assert report["generation"]["Overall"]["responses"] == report["posts"]
    assert "--emotion=auto" in report["emotions"] and "--emotion=auto chose" in proc.stdout
