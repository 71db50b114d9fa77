"""Reader for the NLPCC 2013/2014 Weibo emotion-classification XML.

Each `<sentence>` yields (text, emotion_id) with its `emotion-1-type`; sentences without
that attribute (or with "none") are Other; fear and surprise sentences are dropped.
read_nlpcc_weibos also names each sentence's weibo (document), for splits that keep a weibo together.
"""

import xml.etree.ElementTree as ET

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.errors import InputError


def read_nlpcc_xml(path):
    """Returns a list of (raw_text, emotion_id) for every usable sentence of `path`."""
    return [(text, eid) for text, eid, _ in read_nlpcc_weibos(path)]


def read_nlpcc_weibos(path):
    """(raw_text, emotion_id, weibo) for every usable sentence of `path`, in file order.

    weibo names the sentence's document: `path#id` from its `<weibo id=...>` (`path#@k` for the k-th
    weibo when it has no id; `path#~k` for a sentence outside any weibo, its own document). Sentences
    of one weibo share its topic and words, so a held-out split keeps them together."""
    text = io_utils.read_text(path)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise InputError(f"{path}:{e.position[0]}: malformed XML ({e.msg if hasattr(e, 'msg') else e})") from None
    weibo_of = {}
    for w, weibo in enumerate(root.iter("weibo"), 1):
        wid = (weibo.get("id") or "").strip()
        for sent in weibo.iter("sentence"):
            weibo_of[sent] = f"{path}#{wid}" if wid else f"{path}#@{w}"
    out = []
    for k, sent in enumerate(root.iter("sentence"), 1):
        label = (sent.get("emotion-1-type") or "none").strip().lower()
        if label not in emotions.NLPCC_TO_ID:
            raise InputError(f"{path} sentence {k}: unknown emotion-1-type {label!r}")
        eid = emotions.NLPCC_TO_ID[label]
        text = "".join(sent.itertext()).strip()
        if eid is None or not text:
            continue
        out.append((text, eid, weibo_of.get(sent, f"{path}#~{k}")))
    if not out:
        raise InputError(f"{path}: no <sentence> elements found")
    return out
