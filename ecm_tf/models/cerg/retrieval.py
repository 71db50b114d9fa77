"""BM25 retrieval of training pairs and the reranking of beam candidates (CERG inference).

BM25 itself is the `rank-bm25` package (BM25Okapi, k1 = 1.5, b = 0.75), over characters. The index
is the training pairs, saved once at the end of training as `retrieval_index.json` in the model
folder ({"posts": [...], "responses": [...]}, characters joined by spaces); BM25 statistics are
recomputed from it on load (a few seconds for a million posts, and no pickle to trust).

Rerank score of a beam candidate y (characters, with |y| tokens counting _EOS) for a post x:

    score(y) = log p(y | x, e) / |y|  +  retrieval_weight * max_r F1(y, r)

where r ranges over the responses of the retrieval_k training posts nearest x by BM25 and F1 is the
character-overlap F1 (multiset overlap; precision over y, recall over r), in 0..1. The beam
log-probability is length-normalised so that both terms live on comparable scales.
"""

import collections
import json
import os

import numpy as np
from rank_bm25 import BM25Okapi

from ecm_tf import io_utils
from ecm_tf.errors import InputError

FILE = "retrieval_index.json"


def char_f1(candidate, reference):
    """Character-overlap F1 of two character lists (0 when either is empty)."""
    common = sum((collections.Counter(candidate) & collections.Counter(reference)).values())
    if not common:
        return 0.0
    precision, recall = common / len(candidate), common / len(reference)
    return 2 * precision * recall / (precision + recall)


def similarity(candidate, responses):
    """max F1 of `candidate` against the retrieved `responses` (0 when none)."""
    return max((char_f1(candidate, r) for r in responses), default=0.0)


def rerank(candidates, responses, weight):
    """Scores and best index of beam candidates.

    Args:
      candidates: list of (chars list, log_prob float, length int incl. _EOS).
      responses: list of chars lists, the retrieved training responses.
      weight: float, retrieval_weight.

    Returns:
      (best index, list of dicts {log_prob, length, similarity, score}).
    """
    scored = []
    for chars, log_prob, length in candidates:
        sim = similarity(chars, responses)
        scored.append({"log_prob": float(log_prob), "length": int(length), "similarity": sim,
                       "score": float(log_prob) / max(int(length), 1) + weight * sim})
    best = max(range(len(scored)), key=lambda i: scored[i]["score"])
    return best, scored


class Bm25Index:
    """BM25 over the training posts, returning their responses.

    Args:
      posts: list of chars lists (training posts).
      responses: list of chars lists (their responses, same order).
    """

    def __init__(self, posts, responses):
        if not posts or len(posts) != len(responses):
            raise ValueError("a retrieval index needs as many responses as posts, at least one")
        self.posts = [list(p) for p in posts]
        self.responses = [list(r) for r in responses]
        self._bm25 = BM25Okapi(self.posts)

    def __len__(self):
        return len(self.posts)

    def retrieve(self, post, k):
        """Indices of the `k` training pairs whose posts score highest for `post` (chars list)."""
        scores = self._bm25.get_scores(list(post))  # [num_posts]
        return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]

    def retrieved_responses(self, post, k):
        return [self.responses[i] for i in self.retrieve(post, k)]

    def save(self, folder):
        io_utils.write_json(os.path.join(folder, FILE), {
            "posts": [" ".join(p) for p in self.posts],
            "responses": [" ".join(r) for r in self.responses]})

    @classmethod
    def load(cls, folder):
        path = os.path.join(folder, FILE)
        if not os.path.exists(path):
            raise InputError(f"--model_dir={folder}: no {FILE} (training did not finish, or use --no_retrieval)")
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            posts, responses = data["posts"], data["responses"]
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"{path}: not a retrieval index ({e.__class__.__name__}: {e})") from None
        return cls([p.split(" ") for p in posts], [r.split(" ") for r in responses])
