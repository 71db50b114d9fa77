"""`--mode=chat`: type a post, see one response per emotion (like ECM Table 1).

    python -m ecm_tf.main --mode=chat --model_dir=runs/builtin/ecm

Reads posts from stdin one line at a time; an empty line or end of input exits.
"""

import sys

from ecm_tf import emotions
from ecm_tf.decoding.decode import load_decoder
from ecm_tf.decoding.decoder import emotion_list, post_tokens
from ecm_tf.errors import InputError


def run(cfg):
    emotion_ids = emotion_list(cfg.emotion)
    decoder, model_cfg = load_decoder(cfg)
    interactive = sys.stdin.isatty()
    width = max(len(emotions.NAMES[e]) for e in emotion_ids)
    print(f"ECM chat ({cfg.model_dir}): type a post, empty line to quit.", flush=True)
    turn = 0
    while True:
        if interactive:
            print("post> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line or not line.strip():
            break
        turn += 1
        try:
            tokens = post_tokens(line.strip(), model_cfg, f"<stdin>:{turn}")
        except InputError as e:
            print(f"  ({e})", flush=True)
            continue
        results = decoder.decode([tokens], emotion_ids)
        if not interactive:
            print(f"post: {' '.join(tokens)}")
        for e in emotion_ids:
            cands = results[(0, e)]
            response = " ".join(cands[0][0]) if cands else "(no response)"
            print(f"  {emotions.NAMES[e]:<{width}}  {response}", flush=True)
