"""`--emotion=auto`: the response emotion chosen from the post (the ECM paper's future work).

The post's emotion is detected with the classifier of --classifier_dir (the DUTIR lexicon
classifier when that folder does not exist, said once), and the response emotion is the most
frequent non-Other one that followed posts of that emotion in the training data
(data/interaction.py); `--auto_emotion_top_k` returns the k most frequent instead of one.

    chooser = AutoEmotion.load("runs/builtin/classifier", "runs/builtin/data", top_k=1)
    chooser.choose([["我", "今天", "很", "难过"]])   # -> [(SAD, [SAD])]
"""

import os
import sys

from ecm_tf.classifier.lexicon import LexiconClassifier
from ecm_tf.data import interaction


class AutoEmotion:
    """Detects a post's emotion and picks the response emotion(s) from the interaction table.

    Args:
      classifier: LexiconClassifier or a neural classifier (predict(texts) -> ids).
      counts: [6, 6] interaction counts of the training data (rows post emotion).
      top_k: int, response emotions per post.
    """

    def __init__(self, classifier, counts, top_k=1):
        self.classifier = classifier
        self.counts = counts
        self.top_k = int(top_k)

    @classmethod
    def for_data(cls, classifier, data_dir, top_k=1):
        """The chooser of `classifier` over the interaction table of a prep folder (interaction.load;
        posts prep did not label are labelled with `classifier`)."""
        chooser = cls(classifier, None, top_k)
        chooser.counts = interaction.load(data_dir, lambda texts: chooser.post_emotions([t.split() for t in texts]))
        return chooser

    @classmethod
    def load(cls, classifier_dir, data_dir, top_k=1):
        """for_data with the classifier of `classifier_dir`, or the lexicon one (said once) without it."""
        if classifier_dir and os.path.isdir(classifier_dir):
            from ecm_tf.classifier import predictor

            classifier = predictor.load_classifier(classifier_dir, "--classifier_dir")
        else:
            print(f"--classifier_dir={classifier_dir}: no such folder; --emotion=auto detects the post emotion "
                  f"with the DUTIR lexicon classifier", file=sys.stderr, flush=True)
            classifier = LexiconClassifier()
        return cls.for_data(classifier, data_dir, top_k)

    def post_emotions(self, token_lists):
        """Detected emotion id per post (token lists, as the model reads them)."""
        if isinstance(self.classifier, LexiconClassifier):
            return [self.classifier.predict_tokens(tokens) for tokens in token_lists]
        return [int(e) for e in self.classifier.predict([" ".join(tokens) for tokens in token_lists])]

    def choose(self, token_lists):
        """[(post emotion, [response emotions])] per post."""
        return [(e, interaction.choose(self.counts, e, self.top_k)) for e in self.post_emotions(token_lists)]
