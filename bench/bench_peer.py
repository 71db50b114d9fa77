"""The same ECM training step and beam-20 decoding step in PyTorch, beside ecm_tf's, in one run.

    python -m bench.bench_peer [--config=paper] [--steps=5] [--rounds=3] [--precision=float32,mixed_bfloat16]
                               [--no-compile]
    pip install -e ".[peer]"     # PyTorch (CPU); without it this bench prints a note and exits 0

Peer model (PyTorch, written for this comparison): the paper's ECM with every module on:
  - encoder: nn.GRU, 2 x 256 over 100-d embeddings;
  - decoder: a loop of two nn.GRUCell;
  - the rest as in ecm_tf: additive attention with input feeding, emotion embedding 100, internal
    memory (read/write gates), output projection, and the external memory's split softmax with
    the type selector;
  - the loss (NLL + selector cross-entropy + final-memory norm), SGD lr 0.5 with global-norm
    clip 5.
The same synthetic batch sizes as bench_train (batch 128, 20 tokens, vocabulary 40,000).
Decoding times one beam-20 search of 12 steps over one post, the search ecm_tf serves.

FLOPs per pair: the peer's are counted from its own weight shapes (PeerECM.flops_per_pair),
independently of bench_train.flops_per_pair (ecm_tf's formula); the two must agree within 1%, or
the bench fails, since a ratio of speeds means nothing for different models.

Precisions (--precision, both by default): float32, and mixed_bfloat16: ecm_tf with
--precision=mixed_bfloat16 and XLA off (its fast setting on a CPU: XLA's CPU backend does not use
oneDNN's bfloat16 kernels), the peer with torch.autocast("cpu", dtype=torch.bfloat16) around its
forward and loss (the backward runs outside, as autocast wants). ecm_tf's float32 trains with XLA.
torch.compile compiles the peer's loss (forward and loss: the method the step calls), once per precision.

Rounds alternate ecm_tf and the peer (eager, then torch.compile), each precision in turn, each timed
over --steps steps after a warm-up. Lines appended to bench/results.jsonl (bench "peer", model "ecm"):
peer_train_pairs_per_s (fields variant eager/compile, precision), ecm_tf_train_pairs_per_s (fields
precision, jit), peer_decode_s_per_post, ecm_tf_decode_s_per_post (float32), each with gflop_per_pair.
The ratios printed at the end pair the same precision: ecm_tf over the peer's faster variant.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench import common  # noqa: E402
from bench.bench_train import BF16, CONFIGS, PRECISIONS, flops_per_pair, synthetic_batch  # noqa: E402

BEAM, DECODE_STEPS = 20, 12  # the steps the peer runs: as many as ecm_tf's search ran
ECM_TF_JIT = {"float32": True, BF16: False}  # ecm_tf's fastest XLA setting per precision on a CPU (docs/model.md)


def peer_model(torch, c):
    nn = torch.nn

    class PeerECM(nn.Module):
        def __init__(self):
            super().__init__()
            h, e, v, d = c["hidden"], c["embed_dim"], c["vocab_size"], c["emotion_dim"]
            self.h, self.v = h, v
            self.post_emb, self.resp_emb = nn.Embedding(v, e), nn.Embedding(v, e)
            self.emotion_emb = nn.Embedding(6, d)
            self.memory = nn.Parameter(torch.randn(6, h) * 0.05)
            self.encoder = nn.GRU(e, h, num_layers=2, batch_first=True)
            self.cell0 = nn.GRUCell(e + h + d + h, h)  # [e(y); context; v_e; M_r]
            self.cell1 = nn.GRUCell(h + h, h)  # [s_0; M_r]
            self.key = nn.Linear(h, h, bias=False)
            self.query = nn.Linear(2 * h, h, bias=False)
            self.score = nn.Linear(h, 1, bias=False)
            self.read_gate = nn.Linear(e + 2 * h, h, bias=False)  # [e(y); s; c] (Eq. 6)
            self.write_gate = nn.Linear(h, h, bias=False)  # top state (Eq. 7)
            self.out_proj = nn.Linear(2 * h, h, bias=False)
            self.logits = nn.Linear(h, v, bias=False)
            self.selector = nn.Linear(h, 1)

        def encode(self, post):
            values, final = self.encoder(self.post_emb(post))  # [B, T, H], [2, B, H]
            return values, self.key(values), final

        def start(self, emotion, final, values):
            b = values.shape[0]
            return [final[0], final[1]], values.new_zeros(b, self.h), self.memory[emotion]

        def step(self, y, s, context, mem, values, keys, v_e, mask_row):
            x = self.resp_emb(y)  # [N, E]
            g_r = torch.sigmoid(self.read_gate(torch.cat([x, s[1], context], -1)))
            m_r = g_r * mem
            s0 = self.cell0(torch.cat([x, context, v_e, m_r], -1), s[0])
            s1 = self.cell1(torch.cat([s0, m_r], -1), s[1])
            q = self.query(torch.cat([s0, s1], -1))[:, None, :]  # [N, 1, H]
            a = torch.softmax(self.score(torch.tanh(keys + q)).squeeze(-1), -1)  # [N, T]
            context = torch.einsum("nt,ntd->nd", a, values)
            mem = torch.sigmoid(self.write_gate(s1)) * mem
            out = self.out_proj(torch.cat([s1, context], -1))
            logits = self.logits(out)  # [N, V]
            alpha = torch.sigmoid(self.selector(s1)).squeeze(-1)  # [N]
            neg = torch.finfo(logits.dtype).min
            emo = torch.log_softmax(logits.masked_fill(~mask_row, neg), -1)
            gen = torch.log_softmax(logits.masked_fill(mask_row, neg), -1)
            log_p = torch.where(mask_row, emo + torch.log(alpha)[:, None], gen + torch.log1p(-alpha)[:, None])
            return log_p, [s0, s1], context, mem, alpha

        def loss(self, batch, ememory):
            post, resp, emotion, word = batch["post"], batch["response"], batch["emotion"], batch["emotion_word"]
            values, keys, final = self.encode(post)
            s, context, mem = self.start(emotion, final, values)
            v_e, mask_row = self.emotion_emb(emotion), ememory[emotion]
            prev = torch.full_like(resp[:, 0], 3)
            nll = sel = 0.0
            for t in range(resp.shape[1]):
                log_p, s, context, mem, alpha = self.step(prev, s, context, mem, values, keys, v_e, mask_row)
                nll = nll - log_p.gather(1, resp[:, t:t + 1]).squeeze(1)
                sel = sel + nn.functional.binary_cross_entropy(alpha, word[:, t], reduction="none")
                prev = resp[:, t]
            steps = resp.shape[1]
            return (nll / steps).mean() + (sel / steps).mean() + mem.norm(dim=-1).mean()

        def flops_per_pair(self, length):
            """Training matmul FLOPs of one pair from this module's weight shapes (x3: forward + backward)."""
            h = self.h
            rows = lambda w: 2 * w.shape[0] * w.shape[1]  # noqa: E731  (one row through a [out, in] weight)
            enc = sum(rows(w) for n, w in self.encoder.named_parameters() if n.startswith("weight"))
            per_step = sum(rows(w) for n, w in [*self.cell0.named_parameters(), *self.cell1.named_parameters()]
                           if n.startswith("weight"))
            per_step += sum(rows(m.weight) for m in (self.read_gate, self.write_gate, self.query, self.out_proj,
                                                      self.logits, self.selector))
            per_step += length * (2 * h) * 2  # attention scores over the post (score vector) + context
            keys = length * rows(self.key.weight)
            return 3 * (length * enc + keys + length * per_step)

    return PeerECM()


def peer_batch(torch, c):
    b = synthetic_batch(c)
    out = {k: torch.from_numpy(b[k]).long() for k in ("post", "response", "emotion")}
    out["emotion_word"] = torch.from_numpy(b["emotion_word"]).float()
    return out


def time_peer_train(torch, model, step, batch, steps):
    step(batch)  # warm-up (compiles under torch.compile)
    t = time.perf_counter()
    for _ in range(steps):
        step(batch)
    return batch["post"].shape[0] * steps / (time.perf_counter() - t)


def make_peer_step(torch, model, ememory, compiled=False, precision="float32"):
    """One SGD step of the peer; `compiled`: its loss (forward included) through torch.compile;
    mixed_bfloat16: the loss under CPU autocast to bfloat16 (parameters and gradients stay float32)."""
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = torch.compile(model.loss) if compiled else model.loss  # torch.compile(model) compiles forward only

    def step(batch):
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == BF16):
            loss = loss_fn(batch, ememory)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss

    return step


def peer_decode(torch, model, c, ememory, runs, steps=DECODE_STEPS):
    """Seconds of one beam-20 search of `steps` steps over one 10-token post (median)."""
    post = torch.randint(4, c["vocab_size"], (1, 10))
    emotion = torch.tensor([2])

    @torch.no_grad()
    def search():
        values, keys, final = model.encode(post)
        s, context, mem = model.start(emotion, final, values)
        rep = lambda t: t.repeat_interleave(BEAM, 0)  # noqa: E731
        values, keys, s, context, mem = rep(values), rep(keys), [rep(x) for x in s], rep(context), rep(mem)
        v_e, mask_row = rep(model.emotion_emb(emotion)), rep(ememory[emotion])
        scores = torch.full((BEAM,), float("-inf"))
        scores[0] = 0.0
        prev = torch.full((BEAM,), 3)
        for _ in range(steps):
            log_p, s, context, mem, _ = model.step(prev, s, context, mem, values, keys, v_e, mask_row)
            log_p[:, :2] = float("-inf")  # PAD, UNK never generated
            total = (scores[:, None] + log_p).reshape(-1)
            scores, flat = total.topk(BEAM)
            parent, prev = flat // model.v, flat % model.v
            s, context, mem = [x[parent] for x in s], context[parent], mem[parent]
        return scores

    search()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        search()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def ecm_tf_pairs(c, steps, precision):
    """Training pairs/s of ecm_tf at sizes `c` in `precision`, in its fastest XLA setting (ECM_TF_JIT)."""
    from bench import bench_train

    return bench_train.measure(c, "ecm", ECM_TF_JIT[precision], steps, precision)[0]


def ecm_tf_decode(runs):
    """(beam-20 served decoding s/post, its decoder steps) of ecm_tf, always at the paper size."""
    from bench import bench_decode

    return bench_decode.served_latency(runs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="paper", choices=sorted(CONFIGS))
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--decode_runs", type=int, default=3)
    parser.add_argument("--precision", default=",".join(PRECISIONS), help="comma-separated: " + ",".join(PRECISIONS))
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    args = parser.parse_args()
    precisions = args.precision.split(",")
    if set(precisions) - set(PRECISIONS):
        parser.error(f"--precision={args.precision}: one or more of {', '.join(PRECISIONS)}")
    try:
        import torch
    except ImportError:
        print("bench_peer: PyTorch is not installed (pip install -e \".[peer]\"); skipped")
        return 0
    c = CONFIGS[args.config]
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    model = peer_model(torch, c)
    ours, theirs = flops_per_pair(c, True, True, True), model.flops_per_pair(c["length"])
    common.banner(f"PyTorch {torch.__version__}; GFLOP/pair ecm_tf {ours / 1e9:.4f}, peer {theirs / 1e9:.4f}")
    if abs(ours - theirs) > 0.01 * ours:
        print(f"bench_peer: the two models differ ({ours:.4g} vs {theirs:.4g} FLOPs per pair); no ratio is meaningful")
        return 1
    ememory = torch.zeros(6, c["vocab_size"], dtype=torch.bool)
    ememory[:, 4:4 + c["vocab_size"] // 100] = True
    paper_mask = ememory if args.config == "paper" else torch.zeros(6, CONFIGS["paper"]["vocab_size"], dtype=torch.bool)
    batch = peer_batch(torch, c)
    kinds = ["eager", "compile"] if args.compile else ["eager"]
    variants = {(k, p): make_peer_step(torch, model, ememory, k == "compile", p) for p in precisions for k in kinds}
    figures = {("ecm_tf", p): [] for p in precisions} | {v: [] for v in variants}
    decode = {"ecm_tf": [], "peer": []}
    for r in range(args.rounds):  # alternate the sides so that machine drift hits both
        for p in precisions:
            figures[("ecm_tf", p)].append(ecm_tf_pairs(c, args.steps, p))
            for key in [v for v in variants if v[1] == p]:
                try:
                    figures[key].append(time_peer_train(torch, model, variants[key], batch, args.steps))
                except Exception as e:  # torch.compile may be unavailable (no compiler): report, keep eager
                    print(f"bench_peer: {key[0]} {key[1]} failed ({type(e).__name__}: {str(e).splitlines()[0][:120]})")
                    del variants[key]
        seconds, steps_run = ecm_tf_decode(args.decode_runs)
        decode["ecm_tf"].append(seconds)
        decode["peer"].append(peer_decode(torch, peer_model(torch, CONFIGS["paper"]) if args.config != "paper" else model,
                                          CONFIGS["paper"], paper_mask, args.decode_runs, steps_run))
        print(f"round {r + 1}: " + ", ".join(f"{side if side == 'ecm_tf' else 'peer ' + side} {p} {v[-1]:.1f}"
                                             for (side, p), v in figures.items() if len(v) > r)
              + f" pairs/s; decode ecm_tf {seconds:.3f} s, peer {decode['peer'][-1]:.3f} s", flush=True)
    med = {k: statistics.median(v) for k, v in figures.items() if v}
    dec = {k: statistics.median(v) for k, v in decode.items()}
    gflop = round(ours / 1e9, 4)
    records = [common.record("peer", "ecm_tf_train_pairs_per_s", round(v, 2), "pairs/s", args.config, "ecm",
                             gflop_per_pair=gflop, jit=ECM_TF_JIT[p], precision=p,
                             settings=f"precision={p} jit={'on' if ECM_TF_JIT[p] else 'off'}")
               for (side, p), v in med.items() if side == "ecm_tf"]
    records += [common.record("peer", "peer_train_pairs_per_s", round(v, 2), "pairs/s", args.config, "ecm",
                              gflop_per_pair=round(theirs / 1e9, 4), variant=side, precision=p, torch=torch.__version__,
                              settings=f"precision={p} variant={side}")
                for (side, p), v in med.items() if side != "ecm_tf"]
    records += [common.record("peer", "ecm_tf_decode_s_per_post", round(dec["ecm_tf"], 4), "s", args.config, "ecm",
                              beam=BEAM, served=True),
                common.record("peer", "peer_decode_s_per_post", round(dec["peer"], 4), "s", args.config, "ecm",
                              beam=BEAM, variant="eager", torch=torch.__version__)]
    common.append(records)
    for p in precisions:
        peers = {side: v for (side, q), v in med.items() if q == p and side != "ecm_tf"}
        if peers and ("ecm_tf", p) in med:
            best = max(peers, key=peers.get)
            print(f"| training ecm_tf {p} / peer {p} ({best}, the faster of {', '.join(peers)}) | "
                  f"{med[('ecm_tf', p)] / peers[best]:.2f}x |")
    print(f"| beam-20 decoding peer / ecm_tf time | {dec['peer'] / dec['ecm_tf']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
