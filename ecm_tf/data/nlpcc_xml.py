"""Reader for the NLPCC 2013/2014 Weibo emotion-classification XML.

Each `<sentence>` yields (text, emotion_id) with its `emotion-1-type`; sentences without
that attribute (or with "none") are Other; fear and surprise sentences are dropped.
"""

import xml.etree.ElementTree as ET

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.errors import InputError


def read_nlpcc_xml(path):
    """Returns a list of (raw_text, emotion_id) for every usable sentence of `path`."""
    text = io_utils.read_text(path)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise InputError(f"{path}:{e.position[0]}: malformed XML ({e.msg if hasattr(e, 'msg') else e})") from None
    out = []
    for k, sent in enumerate(root.iter("sentence"), 1):
        label = (sent.get("emotion-1-type") or "none").strip().lower()
        if label not in emotions.NLPCC_TO_ID:
            raise InputError(f"{path} sentence {k}: unknown emotion-1-type {label!r}")
        eid = emotions.NLPCC_TO_ID[label]
        text = "".join(sent.itertext()).strip()
        if eid is None or not text:
            continue
        out.append((text, eid))
    if not out:
        raise InputError(f"{path}: no <sentence> elements found")
    return out
