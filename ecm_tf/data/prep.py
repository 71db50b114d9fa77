"""`--mode=prep`: corpus files -> labelled, segmented pairs -> vocabularies, ememory mask, TFRecords.

Writes into --output_dir: sharded train/dev(/test) TFRecords, vocab.post.txt, vocab.response.txt,
ememory.npy, ememory.json, prep_stats.json and config.json (schema: tfrecords/README.md). Every
input is read and checked before anything is written; the files are written into a fresh hidden
folder beside --output_dir, which then takes the place of --output_dir in one rename: a bad input
or a killed run leaves the earlier folder as it was, and a re-prep never leaves a file of an
earlier run (its shards were encoded with another vocabulary). A folder that is not a prep folder
(a model folder, or any folder without prep_stats.json) is refused rather than replaced.
The last line printed is `kept N pairs, dropped M`.

Dev data: --dev_input (the built-in corpus, used when --input is empty, brings its own dev split),
else a deterministic --dev_fraction of the posts (all responses of a post
stay on the same side). Unlabelled responses are labelled by the lexicon classifier
(--label_source=auto) or by a trained classifier folder (--label_source=DIR).
"""

import collections
import hashlib
import math
import multiprocessing
import os
import random
import sys
import time

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import interaction
from ecm_tf.data import builtin
from ecm_tf.data import ememory
from ecm_tf.data import readers
from ecm_tf.data import text as text_lib
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.errors import InputError

STATS_FILE = "prep_stats.json"
_CHUNK = 20000  # sentences per progress line / pool task
_PARALLEL_MIN = 20000  # pairs from which segmentation uses all CPUs


def _progress(message):
    print(f"prep: {message}", file=sys.stderr, flush=True)


def read_inputs(paths, input_format, flag, reader_options=None):
    """Pairs of comma-separated conversation files; refuses classifier-only formats."""
    pairs = []
    for path in [p.strip() for p in paths.split(",") if p.strip()]:
        if not os.path.isfile(path):
            raise InputError(f"{flag}={path}: no such file")
        fmt = readers.detect_format(path) if input_format == "auto" else input_format
        if fmt in readers.SENTENCE_FORMATS:
            raise InputError(f"{flag}={path}: {fmt} holds single sentences (classifier data), not post/response pairs")
        pairs.extend(readers.read_corpus(path, fmt, **(reader_options or {})))
    return pairs


def tokenize(text, level="word"):
    """Segmented, digit-normalised tokens of one utterance (the form stored in vocab and TFRecords)."""
    return [text_lib.normalize_digits(t) for t in text_lib.segment(text, level)]


def _tokenize_chunk(args):
    texts, level = args
    return [tokenize(t, level) for t in texts]


def _tokenize_pairs(pairs, level, done_before, total):
    """[(post tokens, response tokens)] per pair; large inputs are segmented by a process pool."""
    texts = [t for p in pairs for t in (p.post, p.response)]
    chunks = [(texts[i:i + _CHUNK], level) for i in range(0, len(texts), _CHUNK)]
    workers = min(os.cpu_count() or 1, len(chunks))
    tokens = []
    if workers > 1 and len(texts) >= 2 * _PARALLEL_MIN and sys.platform == "linux":
        text_lib.segment("初始化")  # load jieba's dictionary once, before the fork
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for part in pool.imap(_tokenize_chunk, chunks):
                tokens.extend(part)
                _progress(f"segmented {done_before + len(tokens) // 2}/{total} pairs")
    else:
        for chunk in chunks:
            tokens.extend(_tokenize_chunk(chunk))
            if len(chunks) > 1:
                _progress(f"segmented {done_before + len(tokens) // 2}/{total} pairs")
    return list(zip(tokens[0::2], tokens[1::2]))


def _drop_reason(post, resp, cfg):
    if not post:
        return "empty_post"
    if not resp:
        return "empty_response"
    if len(post) >= cfg.max_post_len:
        return "post_too_long"
    if len(resp) + 1 >= cfg.max_response_len:
        return "response_too_long"
    return None


def _label(pairs, tokens, labeller, side="response"):
    """Emotion per pair of one side ("response" or "post"): the file label, else the labeller's
    (classifier/labeller.py). Returns (labels, label counts)."""
    index = 1 if side == "response" else 0
    labels = [getattr(p, f"{side}_emotion") for p in pairs]
    todo = [i for i, e in enumerate(labels) if e is None]
    counts = {"file": len(labels) - len(todo)}
    if not todo:
        return labels, counts
    if labeller is None:
        raise InputError(f"{len(todo)} pairs have no {side} emotion label and no labeller was given "
                         f"(--label_source)")
    predicted = labeller([getattr(pairs[i], side) for i in todo], [tokens[i][index] for i in todo])
    counts[labeller.name] = len(todo)
    for i, e in zip(todo, predicted):
        labels[i] = int(e)
    return labels, counts


def _post_hash(post, seed):
    return hashlib.md5(f"{seed}\t{post}".encode("utf-8")).hexdigest()


def hold_out(records, fraction, seed):
    """Splits kept records into (train, dev) by post, so that no post is on both sides.

    Posts are visited in a seed-dependent hash order and go to dev while they fit in
    ceil(fraction * N) records; if none fits, the smallest post goes. Train keeps at least one post.
    """
    if fraction <= 0 or not records:
        return records, []
    by_post = collections.defaultdict(list)
    for r in records:
        by_post[r["post_text"]].append(r)
    if len(by_post) < 2:
        return records, []
    posts = sorted(by_post, key=lambda p: _post_hash(p, seed))
    budget = math.ceil(fraction * len(records))
    dev_posts, n = set(), 0
    for p in posts[:-1]:
        if n + len(by_post[p]) <= budget:
            dev_posts.add(p)
            n += len(by_post[p])
    if not dev_posts:
        dev_posts.add(min(posts[:-1], key=lambda p: len(by_post[p])))
    return [r for r in records if r["post_text"] not in dev_posts], [r for r in records if r["post_text"] in dev_posts]


def _prepare_split(pairs, cfg, done_before, total, labeller):
    """Tokenises, labels and filters one split. Returns (records, dropped counts, label counts)."""
    tokens = _tokenize_pairs(pairs, cfg.token_level, done_before, total)
    labels, label_counts = _label(pairs, tokens, labeller)
    # Post emotions too (for the emotion-interaction table that --emotion=auto chooses from).
    post_labels, _ = _label(pairs, tokens, labeller, side="post")
    records, dropped = [], collections.Counter()
    for p, (post, resp), emotion, post_emotion in zip(pairs, tokens, labels, post_labels):
        reason = _drop_reason(post, resp, cfg)
        if reason:
            dropped[reason] += 1
            continue
        records.append({
            "post_tokens": post,
            "response_tokens": resp,
            "emotion": emotion,
            "post_emotion": post_emotion,
            "post_text": " ".join(post),
            "response_text": " ".join(resp),
        })
    return records, dict(dropped), label_counts


def _vocabularies(cfg, train):
    """(post_vocab, response_vocab, mask, empty emotion ids), reused from --vocab_dir or built."""
    if cfg.vocab_dir:
        post_vocab, resp_vocab = vocab_lib.load_pair(cfg.vocab_dir)
        mask = ememory.load_mask(cfg.vocab_dir)
        if mask.shape[1] != len(resp_vocab):
            raise InputError(f"--vocab_dir={cfg.vocab_dir}: {ememory.MASK_FILE} has {mask.shape[1]} columns "
                             f"but the response vocabulary {len(resp_vocab)} words")
        empty = [e for e in range(emotions.NUM_EMOTIONS) if not mask[e].any()]
        ememory.warn_empty(empty, cfg.token_level)
        return post_vocab, resp_vocab, mask, empty
    post_vocab = vocab_lib.build((r["post_tokens"] for r in train), cfg.vocab_size)
    resp_vocab = vocab_lib.build((r["response_tokens"] for r in train), cfg.vocab_size)
    mask, empty = ememory.build(resp_vocab, cfg.ememory_words, cfg.token_level)
    return post_vocab, resp_vocab, mask, empty


def _example(r, post_vocab, resp_vocab, mask_rows):
    resp = resp_vocab.ids(r["response_tokens"]) + [vocab_lib.EOS_ID]
    row = mask_rows[r["emotion"]]
    return {
        "post": post_vocab.ids(r["post_tokens"]),
        "response": resp,
        "emotion": r["emotion"],
        "post_emotion": r["post_emotion"],
        "emotion_word": [row[i] for i in resp],
        "post_text": r["post_text"],
        "response_text": r["response_text"],
    }


def _emotion_counts(records):
    c = collections.Counter(r["emotion"] for r in records)
    return {emotions.emotion_name(e): c[e] for e in range(emotions.NUM_EMOTIONS)}


def check_output_dir(out_dir):
    """InputError naming --output_dir unless prep may write (and replace) `out_dir`."""
    if not out_dir:
        raise InputError("--output_dir: empty")
    io_utils.check_output_folder(out_dir, "--output_dir")
    names = [n for n in os.listdir(out_dir) if not n.startswith(".")] if os.path.isdir(out_dir) else []
    if "checkpoint" in names or any(n.startswith("ckpt-") for n in names):
        raise InputError(f"--output_dir={out_dir}: holds a trained model (checkpoints); prep replaces its "
                         f"folder whole, so give a folder of its own")
    if names and STATS_FILE not in names:
        raise InputError(f"--output_dir={out_dir}: not a prep folder (no {STATS_FILE}); prep replaces its "
                         f"folder whole, so give a new folder or an earlier prep's")


def prepare(cfg, labeller=None):
    """Runs the whole preparation into cfg.output_dir and returns the stats dict (also saved).

    labeller: callable(texts, token_lists) -> emotion ids for unlabelled pairs
    (classifier/labeller.py; the command line passes the one of --label_source).
    """
    start = time.time()
    check_output_dir(cfg.output_dir)
    if cfg.vocab_dir:
        vocab_lib.load_pair(cfg.vocab_dir)
    if cfg.input:
        inputs = {"train": read_inputs(cfg.input, cfg.input_format, "--input", readers.options(cfg))}
    else:
        _progress(f"no --input: using the built-in corpus, the {builtin.NAME}")
        inputs = builtin.load_splits()
    if cfg.dev_input:
        inputs["dev"] = read_inputs(cfg.dev_input, cfg.input_format, "--dev_input", readers.options(cfg))
    if cfg.test_input:
        inputs["test"] = read_inputs(cfg.test_input, cfg.input_format, "--test_input", readers.options(cfg))
    total = sum(len(v) for v in inputs.values())
    _progress(f"read {total} pairs ({', '.join(f'{k} {len(v)}' for k, v in inputs.items())}); segmenting")

    records, dropped, labels, done = {}, collections.Counter(), collections.Counter(), 0
    split_dropped = {}
    for split, pairs in inputs.items():
        records[split], split_dropped[split], label_counts = _prepare_split(pairs, cfg, done, total, labeller)
        dropped.update(split_dropped[split])
        labels.update(label_counts)
        done += len(pairs)
    if "dev" not in inputs:
        records["train"], records["dev"] = hold_out(records["train"], cfg.dev_fraction, cfg.seed)
        split_dropped["dev"] = {}
    if not records["train"]:
        raise InputError(f"--input={cfg.input or 'built-in'}: no pair kept (dropped: {dict(dropped)})")

    post_vocab, resp_vocab, mask, empty = _vocabularies(cfg, records["train"])

    random.Random(cfg.seed).shuffle(records["train"])  # shards mix all posts
    with io_utils.atomic_folder(cfg.output_dir, "--output_dir") as out_dir:
        stats = _write(cfg, out_dir, records, split_dropped, dropped, labels, post_vocab, resp_vocab, mask, empty)
        stats["seconds"] = round(time.time() - start, 2)
        io_utils.write_json(os.path.join(out_dir, STATS_FILE), stats)
        io_utils.fault_point("prep_before_swap")
    return stats


def _write(cfg, out_dir, records, split_dropped, dropped, labels, post_vocab, resp_vocab, mask, empty):
    """Writes the shards, vocabularies, ememory, interaction table and config.json into `out_dir`;
    returns the stats (prep_stats.json, written last by the caller)."""
    from ecm_tf.data import tfrecords  # imported only once the inputs are known good

    splits, mask_rows = {}, mask.tolist()
    for split in [s for s in tfrecords.SPLITS if s in records]:
        serialized = [tfrecords.encode(_example(r, post_vocab, resp_vocab, mask_rows)) for r in records[split]]
        files = tfrecords.write_split(out_dir, split, serialized, cfg.num_shards)
        splits[split] = {"pairs": len(serialized), "dropped": split_dropped[split],
                         "emotions": _emotion_counts(records[split]),
                         "files": [os.path.basename(f) for f in files]}
        _progress(f"wrote {len(serialized)} {split} examples in {len(files)} shard(s)")
        io_utils.fault_point("prep_shards")
    post_vocab.save(os.path.join(out_dir, vocab_lib.POST_FILE))
    resp_vocab.save(os.path.join(out_dir, vocab_lib.RESPONSE_FILE))
    ememory.save(out_dir, mask, resp_vocab)

    kept = sum(s["pairs"] for s in splits.values())
    stats = {
        "kept": kept,
        "dropped": dict(sorted(dropped.items())),
        "splits": splits,
        "emotions": _emotion_counts([r for rs in records.values() for r in rs]),
        "labels": dict(labels),
        "vocab": {"post": len(post_vocab), "response": len(resp_vocab), "reused_from": cfg.vocab_dir or None},
        "ememory_words": {emotions.emotion_name(e): int(mask[e].sum()) for e in range(emotions.NUM_EMOTIONS)},
        "empty_ememory_classes": [emotions.emotion_name(e) for e in empty],
        "input": cfg.input or builtin.SOURCE,
        "token_level": cfg.token_level,
    }
    interaction.save(out_dir, [(r["post_emotion"], r["emotion"]) for r in records["train"]])
    cfg.save(out_dir)
    return stats


def run(cfg, labeller=None):
    check_output_dir(cfg.output_dir)
    with io_utils.folder_lock(cfg.output_dir, "--output_dir"):
        io_utils.remove_stale_temps(cfg.output_dir)  # of a killed earlier prep
        stats = prepare(cfg, labeller)
    print(f"prep: wrote {cfg.output_dir} in {stats['seconds']} s", file=sys.stderr, flush=True)
    print(f"kept {stats['kept']} pairs, dropped {sum(stats['dropped'].values())}", flush=True)
