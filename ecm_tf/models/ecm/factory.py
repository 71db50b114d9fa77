"""Building ECM-family models: from a Config and vocabulary sizes (`create`) or from a prep folder (`build_model`)."""

from ecm_tf.errors import InputError
from ecm_tf.layers import precision
from ecm_tf.models.ecm.ecm_model import ECMModel
from ecm_tf.models.ecm.settings import EcmSettings


def create(cfg, post_vocab_size, response_vocab_size, ememory_mask, jit_compile=False, recurrence="scan"):
    """An ECMModel of the EcmSettings of `cfg` with all variables built (eagerly, so none is created
    inside a loop later), its layers under the dtype policy of cfg.precision (layers/precision.py).
    `jit_compile`: the model will run inside an XLA-compiled step, so its encoder never takes the cuDNN path;
    `recurrence`: ECMModel's (tf.scan or keras.layers.RNN in teacher forcing)."""
    with precision.policy(cfg.precision):
        model = ECMModel(post_vocab_size, response_vocab_size, ememory_mask, EcmSettings.from_values(cfg),
                         encoder_cudnn=False if jit_compile else "auto", recurrence=recurrence)
    model.data_dir = cfg.data_dir  # the prep folder behind the vocabularies (restore checks its fingerprint)
    model.build()
    return model


def build_model(cfg, data_dir=None, jit_compile=False):
    """The model for a prep folder: vocabulary sizes and external-memory mask read from `data_dir`
    (`jit_compile`: see `create`)."""
    from ecm_tf.data import ememory, vocab

    data_dir = data_dir or cfg.data_dir
    post_vocab, response_vocab = vocab.load_pair(data_dir, flag="--data_dir")
    mask = ememory.load_mask(data_dir)
    if mask.shape[1] != len(response_vocab):
        raise InputError(f"--data_dir={data_dir}: ememory.npy has {mask.shape[1]} columns but "
                         f"vocab.response.txt has {len(response_vocab)} words")
    return create(cfg, len(post_vocab), len(response_vocab), mask, jit_compile)
