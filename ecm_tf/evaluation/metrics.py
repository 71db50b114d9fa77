"""Automatic metrics of ECM Table 4 plus diversity: perplexity, emotion accuracy, distinct-n."""

import math


def distinct_n(responses, n):
    """Distinct-n (Li et al. 2016): distinct n-grams / total n-grams over all responses.

    Args:
      responses: iterable of list[str], tokenised responses.
      n: int, n-gram order.

    Returns:
      float, 0.0 when there is no n-gram at all.
    """
    seen = set()
    total = 0
    for tokens in responses:
        grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


class PerplexityAccumulator:
    """Sums token negative log-likelihoods; perplexity = exp(total NLL / total tokens).

    Batches of different sizes and lengths are weighted by their tokens, as a corpus perplexity.
    """

    def __init__(self):
        self.nll = 0.0
        self.tokens = 0

    def add(self, nll_sum, num_tokens):
        """Adds a batch: summed NLL (nats) over `num_tokens` target tokens (EOS included)."""
        self.nll += float(nll_sum)
        self.tokens += int(num_tokens)

    def perplexity(self):
        return math.exp(self.nll / self.tokens) if self.tokens else float("nan")


def emotion_accuracy(requested, predicted):
    """Share of responses whose classifier label equals the requested emotion (ECM Table 4)."""
    requested, predicted = list(requested), list(predicted)
    if len(requested) != len(predicted):
        raise ValueError(f"{len(requested)} requested emotions but {len(predicted)} predictions")
    if not requested:
        return float("nan")
    return sum(int(r) == int(p) for r, p in zip(requested, predicted)) / len(requested)
