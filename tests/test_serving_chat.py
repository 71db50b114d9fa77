"""--mode=chat: one response per emotion for each post line; an empty line ends the session."""

import io
import sys

from ecm_tf import flags as ecm_flags
from ecm_tf.serving import chat
from test_decoding_decode import make_model_dir


def test_chat_answers_each_post_for_five_emotions(tmp_path, monkeypatch, capsys):
    make_model_dir(tmp_path / "model", decoder="greedy")
    monkeypatch.setattr(sys, "stdin", io.StringIO("你 没有 任何 意义\nhttp://t.cn/x\n\n这 行 不 会 被 读\n"))
    chat.run(ecm_flags.defaults().replace(model_dir=str(tmp_path / "model"), decoder="greedy"))
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ECM chat")
    assert out[1] == "post: 你 没有 任何 意义"
    assert [l.split()[0] for l in out[2:7]] == ["Like", "Sad", "Disgust", "Angry", "Happy"]
    assert out[7] == "  (<stdin>:2: empty post)"
    assert len(out) == 8  # the empty line ended the session
