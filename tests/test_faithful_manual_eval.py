"""The manual evaluation of ECM Tables 5-7: six categories, Seq2Seq's top 6, pairwise preferences for any
number of systems, two-tailed paired t-tests of Content and Emotion."""

import csv
import json
import math

import pytest
from scipy import stats

from ecm_tf import flags as ecm_flags
from ecm_tf.errors import InputError
from ecm_tf.evaluation import score as score_lib
from ecm_tf.evaluation import sheets as sheets_lib

ALL = ("Other", "Like", "Sad", "Disgust", "Angry", "Happy")
POSTS = ["今天 天气 真 好", "我 的 猫 丢 了", "这 部 电影 太 烂"]


def write_emotional(path, system):
    """An emotion-dependent system (Emb, ECM): one best response per category."""
    with open(path, "w", encoding="utf-8") as f:
        for p in POSTS:
            for e in ALL:
                ranked = [{"response": f"{system} {e} {k}", "score": -k} for k in range(3)]
                f.write(json.dumps({"post": p, "emotion": e, "response": ranked[0]["response"], "score": 0.0,
                                    "responses": ranked}, ensure_ascii=False) + "\n")


def write_seq2seq(path, top_k=6):
    """An emotion-independent system: the same ranked list for every emotion of a post."""
    with open(path, "w", encoding="utf-8") as f:
        for p in POSTS:
            ranked = [{"response": f"s2s {p[:2]} rank{k}", "score": -k} for k in range(top_k)]
            for e in ("Like", "Sad"):
                f.write(json.dumps({"post": p, "emotion": e, "response": ranked[0]["response"], "score": 0.0,
                                    "responses": ranked}, ensure_ascii=False) + "\n")


@pytest.fixture
def three(tmp_path):
    write_emotional(tmp_path / "ecm.jsonl", "ecm")
    write_emotional(tmp_path / "emb.jsonl", "emb")
    write_seq2seq(tmp_path / "seq2seq.jsonl")
    cfg = ecm_flags.defaults().replace(systems=[str(tmp_path / f"{n}.jsonl") for n in ("ecm", "emb", "seq2seq")],
                                    output=str(tmp_path / "sheet.csv"), seed=1)
    assert cfg.num_posts == 200  # the paper's 200 posts by default
    sheets_lib.run(cfg)
    return tmp_path


def rows_of(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_six_categories_and_seq2seq_top_6(three):
    key = json.loads((three / "sheet.key.json").read_text(encoding="utf-8"))
    rows = rows_of(three / "sheet.csv")[1:]
    assert len(rows) == 3 * 6 * 3  # 3 posts x 6 categories x 3 systems
    assert {r[3] for r in rows} == set(ALL)
    for item, slot, post, emotion, response, _, _ in rows:
        system = key["items"][item][slot]
        if system == "seq2seq":  # the i-th best response for the i-th category (label order)
            assert response == f"s2s {post[:2]} rank{ALL.index(emotion)}"
        else:
            assert response == f"{system} {emotion} 0"  # the best response for that category


def test_seq2seq_with_fewer_than_6_responses_is_refused(tmp_path):
    write_emotional(tmp_path / "ecm.jsonl", "ecm")
    write_seq2seq(tmp_path / "seq2seq.jsonl", top_k=5)
    cfg = ecm_flags.defaults().replace(systems=[str(tmp_path / "ecm.jsonl"), str(tmp_path / "seq2seq.jsonl")],
                                    output=str(tmp_path / "sheet.csv"))
    with pytest.raises(InputError, match=r"seq2seq\.jsonl: emotion-independent .* has 5 \(decode with --top_k=6\)"):
        sheets_lib.run(cfg)


def fill(src, dst, column, fn):
    rows = rows_of(src)
    header = rows[0]
    for i, row in enumerate(rows[1:]):
        for name, value in zip(column, fn(i, row)):
            row[header.index(name)] = value
    with open(dst, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def test_pairwise_preferences_and_t_tests_by_hand(three, capsys):
    key = json.loads((three / "sheet.key.json").read_text(encoding="utf-8"))
    system = lambda row: key["items"][row[0]][row[1]]  # noqa: E731
    pref = rows_of(three / "sheet.preference.csv")
    assert pref[0] == sheets_lib.PREFERENCE_COLUMNS and len(pref) - 1 == 18 * 3  # 3 pairs per item
    # Content: ecm 2 everywhere; emb and seq2seq 1 on the first post's 6 items, 0 on the other 12.
    # Emotion: ecm 1, others 0. Two annotators fill the same.
    score = {"ecm": lambda post0: ("2", "1"), "emb": lambda post0: ("1" if post0 else "0", "0"),
             "seq2seq": lambda post0: ("1" if post0 else "0", "0")}
    first_post = {item for item, _ in [(r[0], 0) for r in rows_of(three / "sheet.csv")[1:] if r[2] == POSTS[0]]}
    for n in ("a1", "a2"):
        fill(three / "sheet.csv", three / f"{n}.csv", ("content", "emotion_match"),
             lambda i, r: score[system(r)](r[0] in first_post))
    # Preference: always the ECM slot when ECM is in the pair; emb vs seq2seq: tie.
    def prefer(i, r):
        slots = key["items"][r[0]]
        a, b = r[3].split("-")
        return ((a if slots[a] == "ecm" else b),) if "ecm" in (slots[a], slots[b]) else ("tie",)
    fill(three / "sheet.preference.csv", three / "p1.csv", ("preferred",), prefer)
    score_lib.run(ecm_flags.defaults().replace(input=str(three / "sheet.key.json"),
                                            sheets=[str(three / n) for n in ("a1.csv", "a2.csv", "p1.csv")]))
    out = capsys.readouterr().out
    assert out.index("Table 5:") < out.index("Table 6:") < out.index("Table 7:")
    assert "| ecm vs emb | " + " | ".join(["100.0% / 0.0% / 0.0%"] * 7) + " |" in out
    assert "| emb vs seq2seq | " + " | ".join(["0.0% / 100.0% / 0.0%"] * 7) + " |" in out
    # Paired t-test ecm vs emb, Content, by hand: 18 items, differences 1 (6 first-post items) and 2 (12 others).
    d = [1.0] * 6 + [2.0] * 12
    mean = sum(d) / 18
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / 17)
    t = mean / (sd / math.sqrt(18))
    p = 2 * stats.t.sf(abs(t), df=17)  # two-tailed
    # Emotion: every difference is 1 -> the test is undefined (n/a); emb vs seq2seq: identical scores.
    assert f"| ecm vs emb | 18 | {t:.3g} | {p:.3g} | n/a | n/a |" in out
    assert "| emb vs seq2seq | 18 | n/a | n/a | n/a | n/a |" in out
    a, b = [2.0, 1.5, 1.0, 0.5], [1.0, 1.0, 1.0, 1.0]
    d = [x - y for x, y in zip(a, b)]
    mean = sum(d) / 4
    t = mean / (math.sqrt(sum((x - mean) ** 2 for x in d) / 3) / 2)
    assert score_lib.paired_t_test(a, b) == pytest.approx((t, 2 * stats.t.sf(abs(t), df=3)))


def test_preference_cell_names_file_and_line(three):
    fill(three / "sheet.preference.csv", three / "bad.csv", ("preferred",), lambda i, r: ("C" if r[3] == "A-B" else "tie",))
    cfg = ecm_flags.defaults().replace(input=str(three / "sheet.key.json"), sheets=[str(three / "bad.csv")])
    with pytest.raises(InputError, match=r"bad\.csv:2: preferred must be one of A/B/tie, got 'C'"):
        score_lib.run(cfg)
