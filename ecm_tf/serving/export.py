"""`--mode=export`: a trained model folder as a SavedModel version folder that TF Serving loads.

    python -m ecm_tf.main --mode=export --model_dir=runs/builtin/ecm --export_dir=runs/builtin/export

--export_dir=BASE writes the next version BASE/N; an explicit BASE/N is refused when it exists
(saved_models.write: temp folder, then rename; nothing is ever replaced). The family's serving
module defines the signatures: models/ecm/serving_module.py (ECM family), models/cerg/serving_module.py
(CERG, P&E2R). No XLA, so stock TF Serving runs them.
"""

from ecm_tf import saved_models
from ecm_tf.errors import InputError
from ecm_tf.models import registry


def run(cfg):
    if not cfg.export_dir:
        raise InputError("--export_dir: the SavedModel folder to write (e.g. runs/builtin/export, "
                         "whose next version folder is written, or runs/builtin/export/1)")
    saved_models.check_writable(cfg.export_dir)  # a taken version folder or an unwritable base: before loading
    family, saved = registry.open(cfg.model_dir)
    predictor = family.load(cfg, cfg.model_dir, saved)
    path, note = family.export(predictor, cfg, cfg.export_dir)
    print(f"exported {cfg.model_dir} -> {path} ({saved_models.size_mb(path):.1f} MB; {note})")
