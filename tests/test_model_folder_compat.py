"""A model folder written by an earlier version of the package still loads and decodes as it did.

tests/fixtures/ecm_folder_v0_1 was written by `--mode=prep` (the built-in corpus, --vocab_size=60) and
`--mode=train` (embed 6, hidden 8, emotion 5, batch 4, 2 steps, --min_decode_len=2) of that version,
run in the fixture folder (data_dir "data", model_dir "model"); decoded.jsonl is what its
`--mode=decode --input=posts.txt --emotion=Happy,Sad --beam_size=3 --top_k=2` printed.
"""

import json
import shutil

from conftest import REPO
from ecm_tf import flags as ecm_flags
from ecm_tf.decoding import decode as decode_lib
from ecm_tf.models import registry
from ecm_tf.models.ecm.settings import EcmSettings

FIXTURE = REPO / "tests" / "fixtures" / "ecm_folder_v0_1"


def test_config_json_of_the_earlier_format_is_read_through_the_schema():
    saved = json.loads((FIXTURE / "model" / "config.json").read_text(encoding="utf-8"))
    settings = EcmSettings.from_values(saved)
    assert (settings.embed_dim, settings.hidden, settings.emotion_dim, settings.num_layers) == (6, 8, 5, 2)
    assert settings.output_features == "state" and settings.loss_average == "response"
    cfg = registry.model_settings(ecm_flags.defaults(), str(FIXTURE / "model"))
    assert cfg.hidden == 8 and cfg.data_dir == "data" and cfg.min_decode_len == 2
    assert cfg.batch_size == ecm_flags.defaults().batch_size  # a training setting: not taken from the file


def test_folder_of_the_earlier_format_decodes_as_it_did(tmp_path, monkeypatch):
    shutil.copytree(FIXTURE, tmp_path / "folder")
    monkeypatch.chdir(tmp_path / "folder")
    cfg = ecm_flags.defaults().replace(mode="decode", model_dir="model", input="posts.txt", emotion="Happy,Sad",
                                       beam_size=3, top_k=2, output="out.jsonl")
    decode_lib.run(cfg)
    got = (tmp_path / "folder" / "out.jsonl").read_text(encoding="utf-8").splitlines()
    want = (FIXTURE / "decoded.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in got] == [json.loads(line) for line in want]
