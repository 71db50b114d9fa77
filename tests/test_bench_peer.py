"""bench/bench_peer.py compares like with like: the PyTorch peer's FLOPs per pair, counted from its own
weight shapes, equal ecm_tf's formula (bench_train.flops_per_pair), and its training step learns."""

import importlib

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch peer is optional: pip install -e \".[peer]\"")

from bench import bench_peer  # noqa: E402
from bench.bench_train import CONFIGS, flops_per_pair  # noqa: E402


@pytest.mark.parametrize("name", ["small", "paper"])
def test_peer_flops_match_ecm_tf(name):
    c = CONFIGS[name]
    peer = bench_peer.peer_model(torch, c).flops_per_pair(c["length"])
    assert peer == pytest.approx(flops_per_pair(c, True, True, True), rel=0.01)


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_peer_step_overfits_one_batch(precision):
    c = CONFIGS["small"]
    torch.manual_seed(0)
    model = bench_peer.peer_model(torch, c)
    ememory = torch.zeros(6, c["vocab_size"], dtype=torch.bool)
    ememory[:, 4:24] = True
    step = bench_peer.make_peer_step(torch, model, ememory, precision=precision)
    batch = bench_peer.peer_batch(torch, c)
    first = float(step(batch))
    for _ in range(15):
        last = float(step(batch))
    assert last < 0.8 * first
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in model.parameters())


@pytest.mark.slow
def test_the_compiled_peer_step_runs_compiled_code():
    counters = importlib.import_module("torch._dynamo.utils").counters  # torch is optional: no import statement (BUILD)

    c = CONFIGS["small"]
    model = bench_peer.peer_model(torch, c)
    ememory = torch.zeros(6, c["vocab_size"], dtype=torch.bool)
    counters.clear()
    bench_peer.make_peer_step(torch, model, ememory, compiled=True, precision="mixed_bfloat16")(
        bench_peer.peer_batch(torch, c))
    assert counters["stats"]["unique_graphs"] >= 1  # torch.compile(model) alone would leave .loss eager
