"""bench/bench_train.py runs and records the right lines (small config, 1 step; never timed): the
settings of a sweep, each in a child process, a failing setting as one line while the others run,
the bf16 / float32 ratio, the device refused in one line."""

import json
import subprocess
import sys

import pytest

from bench import bench_train, common


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_failing_setting_is_one_line_and_the_others_still_run(tmp_path, monkeypatch, capsys):
    def fake_child(spec, timeout=0):  # the parent's side; the child's is tested below
        if spec["precision"] == "mixed_bfloat16" and not spec["jit"]:
            return {"error": "ResourceExhaustedError: OOM when allocating tensor"}
        return {"pairs": 100.0 if spec["precision"] == "float32" else 150.0, "first": 1.0}

    monkeypatch.setattr(bench_train, "run_child", fake_child)
    monkeypatch.setattr(common, "matmul_rate", lambda: 1e11)
    out = tmp_path / "results.jsonl"
    monkeypatch.setattr(common, "RESULTS", out)
    code = bench_train.main(["--configs", "small", "--models", "ecm", "--precision", "float32,mixed_bfloat16",
                             "--batch_sizes", "8,16", "--rounds", "2"])
    assert code == 1  # a setting failed
    text = capsys.readouterr().out
    assert text.count("FAILED: ResourceExhaustedError: OOM when allocating tensor") == 2  # one per batch size
    assert "ratio mixed_bfloat16 / float32, small ecm batch 16: 1.50x (mixed_bfloat16 jit=on 150.0" in text
    recs = lines(out)
    failed = [r for r in recs if r["metric"] == "train_failed"]
    assert len(failed) == 2 and all("OOM" in r["error"] for r in failed)  # failed in round 1, not run again
    rounds = [r for r in recs if r["metric"] == "train_pairs_per_s" and isinstance(r.get("round"), int)]
    assert len(rounds) == 2 * 6  # 2 batch sizes x (float32 on/off + bf16 on) x 2 rounds
    medians = [r for r in recs if r["metric"] == "train_pairs_per_s" and r.get("round") == "median"]
    assert len(medians) == 6 and all(r["rounds"] in ([100.0, 100.0], [150.0, 150.0]) for r in medians)
    assert {r["metric"] for r in recs} == {"train_pairs_per_s", "train_target_tokens_per_s", "train_matmul_share",
                                           "train_failed", "train_bf16_speedup"}
    speedups = [r for r in recs if r["metric"] == "train_bf16_speedup"]
    assert [r["value"] for r in speedups] == [1.5, 1.5]
    assert all("batch_size=" in r["settings"] and "device=/CPU:0" in r["settings"] for r in recs)


def test_the_child_answers_one_line_also_when_it_fails():
    c = bench_train.CONFIGS["small"]
    out = bench_train.run_child(dict(sizes=c, model="no_such_model", precision="float32", jit=False, steps=1,
                                     device="/CPU:0", recurrence="scan"))
    assert out == {"error": "KeyError: 'no_such_model'"}


def test_an_absent_or_unknown_device_is_refused_in_one_line():
    for device, message in (("/GPU:7", "TensorFlow sees"), ("tpu", "unknown device")):
        proc = subprocess.run([sys.executable, "-m", "bench.bench_train", "--device", device],
                              cwd=bench_train.REPO, capture_output=True, text=True)
        assert proc.returncode == 1
        assert proc.stderr.strip().splitlines()[-1].startswith(f"bench_train: --device={device}: {message}")
    assert bench_train.device_name("cpu") == bench_train.device_name("/device:CPU:0") == "/CPU:0"
    assert bench_train.device_name("auto") == ("/GPU:0" if bench_train.tf.config.list_physical_devices("GPU")
                                               else "/CPU:0")


@pytest.mark.slow
def test_both_precisions_train_and_are_recorded(tmp_path, monkeypatch):
    out = tmp_path / "results.jsonl"
    monkeypatch.setattr(common, "RESULTS", out)
    code = bench_train.main(["--configs", "small", "--models", "ecm", "--jit", "off", "--precision",
                             "float32,mixed_bfloat16", "--steps", "1"])
    assert code == 0
    recs = lines(out)
    pairs = {r["precision"]: r["value"] for r in recs if r["metric"] == "train_pairs_per_s"}
    assert set(pairs) == {"float32", "mixed_bfloat16"} and min(pairs.values()) > 0
    (ratio,) = [r for r in recs if r["metric"] == "train_bf16_speedup"]
    assert ratio["value"] == pytest.approx(pairs["mixed_bfloat16"] / pairs["float32"], rel=1e-4)
    assert common.NO_GPU in ratio["machine"] or common.has_gpu(ratio["machine"])
