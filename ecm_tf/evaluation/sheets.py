"""`--mode=eval_sheet`: blind annotation sheets for the manual evaluation (ECM Tables 5-7).

    python -m ecm_tf.main --mode=eval_sheet --systems=runs/ecm.jsonl,runs/emb.jsonl,runs/seq2seq.jsonl \
        --num_posts=200 --output=runs/sheet.csv

--systems lists decode outputs (JSON lines of --mode=decode, one per system); a system's name is
its file name without extension. As in the paper, the sheet covers the six emotion categories
(Other, Like, Sad, Disgust, Angry, Happy) for --num_posts posts (paper: 200) decoded by every
system (sampled with --seed):
  - a system whose responses depend on the emotion (Emb, ECM) gives its best response for each
    category (decode it with --emotion=Other,Like,Sad,Disgust,Angry,Happy);
  - a system whose responses do not (Seq2Seq: the same ranked list for every emotion of a post)
    gives its top 6 responses, the i-th best for the i-th category in label order (decode it
    with --top_k=6 or more).
Categories that some emotion-dependent system did not decode are left out, and the command says so.
Each item's responses are shuffled into slots A, B, ... so annotators cannot tell the systems
apart. Three files are written atomically:
  sheet.csv             one row per (item, slot): annotators fill `content` (0/1/2) and
                        `emotion_match` (0/1);
  sheet.preference.csv  one row per (item, pair of slots), every pair of systems compared on the
                        same post and emotion (Table 7): annotators write the slot letter of the
                        response whose emotion they prefer in `preferred`, or `tie`;
  sheet.key.json        item -> {slot: system} and the system list (kept away from annotators).
"""

import csv
import itertools
import json
import os
import random
import sys

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.errors import InputError

CONTENT_COLUMNS = ["item", "slot", "post", "emotion", "response", "content", "emotion_match"]
PREFERENCE_COLUMNS = ["item", "post", "emotion", "pair", "response_1", "response_2", "preferred"]
PREFERENCE_TAIL = ["preferred"]
SLOTS = "ABCDEFGHIJ"
CATEGORIES = tuple(range(emotions.NUM_EMOTIONS))  # the paper's manual evaluation covers all six


def sheet_paths(output):
    """(content sheet, preference sheet, key) paths for --output."""
    stem = output[:-4] if output.endswith(".csv") else output
    return stem + ".csv", stem + ".preference.csv", stem + ".key.json"


def load_decode_output(path):
    """{(post, emotion_id): [responses, best first]} from a --mode=decode JSON-lines file."""
    out = {}
    for i, line in enumerate(io_utils.read_lines(path), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            post, emotion, response = rec["post"], rec["emotion"], rec["response"]
            ranked = [r["response"] for r in rec.get("responses", [])] or [response]
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"{path}:{i}: not a decode output line ({e.__class__.__name__}: {e})") from None
        out.setdefault((post, emotions.emotion_id(emotion, f"{path}:{i}")), ranked)
    if not out:
        raise InputError(f"{path}: no decoded responses")
    return out


def emotion_independent(decoded):
    """True when every post's ranked responses are the same for all its emotions (Seq2Seq), and
    some post was decoded for at least two emotions."""
    by_post = {}
    for (post, _), ranked in decoded.items():
        by_post.setdefault(post, []).append(tuple(ranked))
    if not any(len(v) > 1 for v in by_post.values()):
        return False
    return all(len(set(v)) == 1 for v in by_post.values())


def system_responses(name, decoded, path="", categories=CATEGORIES):
    """{(post, category): response} of one system, per the paper's protocol (module docstring)."""
    if not emotion_independent(decoded):
        return {key: ranked[0] for key, ranked in decoded.items() if key[1] in categories}
    ranked_of = {post: ranked for (post, _), ranked in decoded.items()}
    out = {}
    for post, ranked in sorted(ranked_of.items()):
        if len(ranked) < len(categories):
            raise InputError(f"{path or name}: emotion-independent responses (Seq2Seq) need {len(categories)} per "
                             f"post for the {len(categories)} categories, post {post!r} has {len(ranked)} "
                             f"(decode with --top_k={len(categories)})")
        for rank, e in enumerate(categories):
            out[(post, e)] = ranked[rank]
    return out


def build_items(systems, num_posts, seed, categories=CATEGORIES):
    """Blind items from {name: {(post, category): response}} (see system_responses).

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
        for e in categories:
            if (post, e) not in common:
                continue
            order = list(names)
            rng.shuffle(order)
            slots = [(SLOTS[k], name, systems[name][(post, e)]) for k, name in enumerate(order)]
            items.append({"item": f"{p_index + 1:03d}-{emotions.NAMES[e]}", "post": post, "emotion": e,
                          "slots": slots})
    return items


def slot_pairs(num_systems):
    """Every pair of slots of an item, e.g. 3 systems -> [(A, B), (A, C), (B, C)]."""
    return list(itertools.combinations(SLOTS[:num_systems], 2))


def write_sheets(items, names, output):
    content_path, preference_path, key_path = sheet_paths(output)
    with io_utils.atomic_open(content_path) as f:
        writer = csv.writer(f)
        writer.writerow(CONTENT_COLUMNS)
        for it in items:
            for letter, _, response in it["slots"]:
                writer.writerow([it["item"], letter, it["post"], emotions.NAMES[it["emotion"]], response, "", ""])
    with io_utils.atomic_open(preference_path) as f:
        writer = csv.writer(f)
        writer.writerow(PREFERENCE_COLUMNS)
        for it in items:
            response = {letter: r for letter, _, r in it["slots"]}
            for a, b in slot_pairs(len(it["slots"])):
                writer.writerow([it["item"], it["post"], emotions.NAMES[it["emotion"]], f"{a}-{b}",
                                 response[a], response[b], ""])
    key = {"systems": names, "items": {it["item"]: {l: s for l, s, _ in it["slots"]} for it in items}}
    io_utils.write_json(key_path, key)
    return content_path, preference_path, key_path


def run(cfg):
    if not cfg.systems:
        raise InputError("--systems: give one or more decode outputs (JSON lines of --mode=decode)")
    if not cfg.output:
        raise InputError("--output: the sheet path to write (e.g. runs/sheet.csv)")
    decoded = {}
    for path in cfg.systems:
        name = os.path.splitext(os.path.basename(path))[0]
        if name in decoded:
            raise InputError(f"--systems: two systems named {name!r} (rename one of the files)")
        decoded[name] = (path, load_decode_output(path))
    if len(decoded) > len(SLOTS):
        raise InputError(f"--systems: at most {len(SLOTS)} systems per sheet")
    # Categories every emotion-dependent system decoded (Seq2Seq-like systems cover all six).
    categories = [e for e in CATEGORIES
                  if all(emotion_independent(d) or any(k[1] == e for k in d) for _, d in decoded.values())]
    missing = [emotions.NAMES[e] for e in CATEGORIES if e not in categories]
    if missing:
        sys.stderr.write(f"--systems: no decoded responses for {', '.join(missing)} in some system; the sheet "
                         f"covers {len(categories)} of the 6 categories (decode with "
                         f"--emotion=Other,Like,Sad,Disgust,Angry,Happy)\n")
    systems = {name: system_responses(name, d, path, tuple(categories)) for name, (path, d) in decoded.items()}
    items = build_items(systems, cfg.num_posts, cfg.seed, tuple(categories))
    if not items:
        raise InputError("--systems: the decode outputs share no (post, emotion) pair")
    paths = write_sheets(items, sorted(systems), cfg.output)
    posts = len({it["post"] for it in items})
    print(f"{posts} posts, {len(items)} items ({len(categories)} emotion categories), {len(systems)} systems, "
          f"{len(slot_pairs(len(systems)))} pair(s) per item -> {', '.join(paths)}")
