"""`--mode=eval_sheet`: blind annotation sheets for the manual evaluation (ECM Tables 5-7).

    python -m ecm_tf.main --mode=eval_sheet --systems=runs/ecm.jsonl,runs/seq2seq.jsonl \
        --num_posts=200 --output=runs/sheet.csv

--systems lists decode outputs (JSON lines of --mode=decode, one per system); a system's name is
its file name without extension. Posts decoded by every system are sampled (--num_posts, seeded
by --seed) with their five emotions; each item's responses are shuffled into slots A, B, ... so
annotators cannot tell the systems apart. Three files are written atomically:
  sheet.csv             one row per (item, slot): annotators fill `content` (0/1/2) and
                        `emotion_match` (0/1);
  sheet.preference.csv  one row per item with all slots: annotators write the best slot letter
                        in `preferred`, or `tie`;
  sheet.key.json        item -> {slot: system} and the system list (kept away from annotators).
"""

import csv
import json
import os
import random

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.errors import InputError

CONTENT_COLUMNS = ["item", "slot", "post", "emotion", "response", "content", "emotion_match"]
PREFERENCE_TAIL = ["preferred"]
SLOTS = "ABCDEFGHIJ"


def sheet_paths(output):
    """(content sheet, preference sheet, key) paths for --output."""
    stem = output[:-4] if output.endswith(".csv") else output
    return stem + ".csv", stem + ".preference.csv", stem + ".key.json"


def load_decode_output(path):
    """{(post, emotion_id): best response} from a --mode=decode JSON-lines file."""
    out = {}
    for i, line in enumerate(io_utils.read_lines(path), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            post, emotion, response = rec["post"], rec["emotion"], rec["response"]
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"{path}:{i}: not a decode output line ({e.__class__.__name__}: {e})") from None
        out.setdefault((post, emotions.emotion_id(emotion, f"{path}:{i}")), response)
    if not out:
        raise InputError(f"{path}: no decoded responses")
    return out


def build_items(systems, num_posts, seed):
    """Blind items from {name: {(post, emotion): response}}.

    Returns:
      list of dicts {item, post, emotion, slots: [(letter, system, response)]}.
    """
    names = sorted(systems)
    common = set.intersection(*(set(s) for s in systems.values()))
    posts = sorted({p for p, _ in common})
    rng = random.Random(seed)
    chosen = rng.sample(posts, min(num_posts, len(posts)))
    items = []
    for p_index, post in enumerate(chosen):
        for e in emotions.GENERATED:
            if (post, e) not in common:
                continue
            order = list(names)
            rng.shuffle(order)
            slots = [(SLOTS[k], name, systems[name][(post, e)]) for k, name in enumerate(order)]
            items.append({"item": f"{p_index + 1:03d}-{emotions.NAMES[e]}", "post": post, "emotion": e,
                          "slots": slots})
    return items


def write_sheets(items, names, output):
    content_path, preference_path, key_path = sheet_paths(output)
    letters = list(SLOTS[: len(names)])
    with io_utils.atomic_open(content_path) as f:
        writer = csv.writer(f)
        writer.writerow(CONTENT_COLUMNS)
        for it in items:
            for letter, _, response in it["slots"]:
                writer.writerow([it["item"], letter, it["post"], emotions.NAMES[it["emotion"]], response, "", ""])
    with io_utils.atomic_open(preference_path) as f:
        writer = csv.writer(f)
        writer.writerow(["item", "post", "emotion"] + letters + PREFERENCE_TAIL)
        for it in items:
            writer.writerow([it["item"], it["post"], emotions.NAMES[it["emotion"]]]
                            + [r for _, _, r in it["slots"]] + [""])
    key = {"systems": names, "items": {it["item"]: {l: s for l, s, _ in it["slots"]} for it in items}}
    io_utils.write_json(key_path, key)
    return content_path, preference_path, key_path


def run(cfg):
    if not cfg.systems:
        raise InputError("--systems: give one or more decode outputs (JSON lines of --mode=decode)")
    if not cfg.output:
        raise InputError("--output: the sheet path to write (e.g. runs/sheet.csv)")
    systems = {}
    for path in cfg.systems:
        name = os.path.splitext(os.path.basename(path))[0]
        if name in systems:
            raise InputError(f"--systems: two systems named {name!r} (rename one of the files)")
        systems[name] = load_decode_output(path)
    if len(systems) > len(SLOTS):
        raise InputError(f"--systems: at most {len(SLOTS)} systems per sheet")
    items = build_items(systems, cfg.num_posts, cfg.seed)
    if not items:
        raise InputError("--systems: the decode outputs share no (post, emotion) pair")
    paths = write_sheets(items, sorted(systems), cfg.output)
    posts = len({it["post"] for it in items})
    print(f"{posts} posts, {len(items)} items, {len(systems)} systems -> {', '.join(paths)}")
