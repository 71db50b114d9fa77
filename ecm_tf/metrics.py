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
    """Perplexity of a set of responses, both ways.

    `perplexity()` is the original release's (ECM Table 4; seq2seq.py sequence_loss_by_example,
    baseline.py dev evaluation): exp of the mean over responses of each response's mean token
    NLL, so every response weighs the same. `perplexity_token()` is the corpus perplexity:
    exp(total NLL / total tokens), so long responses weigh more. Example: a response of 2 tokens
    at 1.0 nats and one of 10 tokens at 3.0 nats give exp(2.0) = 7.39 and exp(32 / 12) = 14.39.
    """

    def __init__(self):
        self.nll = 0.0
        self.tokens = 0
        self.response_means = 0.0
        self.responses = 0

    def add(self, nll_sum, num_tokens):
        """Adds one response: its summed NLL (nats) over its `num_tokens` target tokens (EOS included).

        A response without tokens counts in neither figure.
        """
        num_tokens = int(num_tokens)
        if num_tokens <= 0:
            return
        self.nll += float(nll_sum)
        self.tokens += num_tokens
        self.response_means += float(nll_sum) / num_tokens
        self.responses += 1

    def perplexity(self):
        """exp(mean over responses of the per-response mean NLL): the original's definition."""
        return math.exp(self.response_means / self.responses) if self.responses else float("nan")

    def perplexity_token(self):
        """exp(total NLL / total tokens): the token-level (corpus) perplexity."""
        return math.exp(self.nll / self.tokens) if self.tokens else float("nan")


def emotion_accuracy(requested, predicted):
    """Share of responses whose classifier label equals the requested emotion (ECM Table 4)."""
    requested, predicted = list(requested), list(predicted)
    if len(requested) != len(predicted):
        raise ValueError(f"{len(requested)} requested emotions but {len(predicted)} predictions")
    if not requested:
        return float("nan")
    return sum(int(r) == int(p) for r, p in zip(requested, predicted)) / len(requested)


def interval_factor(values):
    """exp(1.96 x the standard error of the mean of `values`, at least 2 of them): a perplexity P
    computed from these per-response mean NLLs lies in P / factor .. P x factor (about 95%)."""
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return math.exp(1.96 * sd / math.sqrt(n))
