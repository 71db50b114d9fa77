"""Lexicon-based emotion classifier (ECM Table 2, first row)."""

from ecm_tf import emotions
from ecm_tf.data import lexicon as lexicon_lib
from ecm_tf.data import text as text_lib

# When two classes have the same count, the earlier one in this order wins (rarer classes first,
# so that a sentence with one Angry word and one Like word is not swallowed by the huge Like list).
TIE_ORDER = (emotions.ANGRY, emotions.SAD, emotions.HAPPY, emotions.DISGUST, emotions.LIKE)


class LexiconClassifier:
    """Counts DUTIR lexicon words of each emotion in a sentence; the most frequent class wins.

    Other when the sentence has no word of the five emotion classes (Like, Sad, Disgust, Angry,
    Happy); words of the lexicon's fear/surprise classes do not vote.

    Args:
      lexicon_path: str, optional JSON file of six word lists; default the DUTIR lexicon.
    """

    def __init__(self, lexicon_path=""):
        self.lexicon_path = lexicon_path
        lex = lexicon_lib.load_lexicon(lexicon_path)
        self._classes = {e: lex[e] for e in emotions.GENERATED}

    @property
    def classes(self):
        """{emotion id: frozenset of words} of the five voting classes."""
        return dict(self._classes)

    def get_config(self):
        return {"lexicon_path": self.lexicon_path}

    def counts(self, tokens):
        """{emotion_id: number of tokens in that class's word list}."""
        return {e: sum(t in words for t in tokens) for e, words in self._classes.items()}

    def predict_tokens(self, tokens):
        counts = self.counts(tokens)
        best = max(TIE_ORDER, key=lambda e: (counts[e], -TIE_ORDER.index(e)))
        return best if counts[best] > 0 else emotions.OTHER

    def predict(self, texts):
        """Emotion ids for raw or segmented sentences."""
        return [self.predict_tokens(text_lib.segment(t)) for t in texts]
