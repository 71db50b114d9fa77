"""`--mode=client`: sends posts to a TF Serving REST endpoint running the exported model.

    echo "今天天气真好" | python -m ecm_tf.main --mode=client --emotion=Happy \
        --server_url=http://localhost:8501/v1/models/ecm:predict

Posts (one per line, from --input or stdin) are segmented with jieba as in training and sent as
one predict request per batch of posts x emotions:
    {"signature_name": "serving_default", "inputs": {"posts": [...], "emotions": [...]}}
The reply's `outputs.responses` [B, K] and `outputs.scores` [B, K] are printed, best first.
"""

import json
import sys
import urllib.error
import urllib.request

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import text as text_lib
from ecm_tf.errors import InputError


def read_posts(path):
    """Non-empty stripped lines of `path`, or of stdin when `path` is empty."""
    lines = io_utils.read_lines(path) if path else sys.stdin.read().splitlines()
    return [l.strip() for l in lines if l.strip()]


def build_request(posts, emotion_ids, token_level="word"):
    """The REST predict body for every (post, emotion) pair; posts are segmented here."""
    segmented, names = [], []
    for post in posts:
        tokens = " ".join(text_lib.segment(post, token_level))
        for e in emotion_ids:
            segmented.append(tokens)
            names.append(emotions.NAMES[e])
    return {"signature_name": "serving_default", "inputs": {"posts": segmented, "emotions": names}}


def predict(server_url, body, timeout=60.0):
    """POSTs `body` and returns the decoded JSON reply (InputError naming --server_url on failure)."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(server_url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.loads(reply.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace").strip().replace("\n", " ")[:200]
        raise InputError(f"--server_url={server_url}: HTTP {e.code} {detail}") from None
    except (urllib.error.URLError, OSError) as e:
        raise InputError(f"--server_url={server_url}: cannot reach the server ({getattr(e, 'reason', e)})") from None
    except ValueError:
        raise InputError(f"--server_url={server_url}: the reply is not JSON") from None


def run(cfg):
    emotion_ids = emotions.parse_emotion_list(cfg.emotion)
    posts = read_posts(cfg.input)
    if not posts:
        raise InputError(f"--input={cfg.input or '-'}: no posts (one post per line)")
    body = build_request(posts, emotion_ids, cfg.token_level)
    reply = predict(cfg.server_url, body)
    outputs = reply.get("outputs")
    if not isinstance(outputs, dict) or "responses" not in outputs:
        raise InputError(f"--server_url={cfg.server_url}: reply has no outputs.responses ({str(reply)[:200]})")
    scores = outputs.get("scores") or [[None] * len(r) for r in outputs["responses"]]
    row = 0
    for post in posts:
        print(f"post: {post}")
        for e in emotion_ids:
            best, score = outputs["responses"][row][0], scores[row][0]
            suffix = f"  ({score:.2f})" if score is not None else ""
            print(f"  {emotions.NAMES[e]}: {best}{suffix}")
            row += 1
