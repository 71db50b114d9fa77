#!/usr/bin/env bash
# Paper mode vs code mode on the mini replication (docs/faithfulness.md): Seq2Seq pretraining and the
# ECM row trained with flags/ecm_code.flags (the original release's behaviours) on the data, steps,
# judge and evaluation of replication/replicate_mini.sh, whose OUT_DIR/ecm is the paper-mode row.
#
#   bash replication/replicate_mini.sh && bash replication/faithfulness_code_mode.sh [OUT_DIR]   # default runs/mini_v2
#
# Writes OUT_DIR/seq2seq_code_pretrain, OUT_DIR/ecm_code (eval.json) and prints one table. Every step
# is skipped when its output exists. PRETRAIN_STEPS, FINETUNE_STEPS, EVAL_POSTS and BEAM default to
# replicate_mini.sh's; the judge is the one replicate_mini.sh picked (OUT_DIR/judge/judge.json).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/mini_v2}
PY=${PYTHON:-python}
PRETRAIN_STEPS=${PRETRAIN_STEPS:-3000}; FINETUNE_STEPS=${FINETUNE_STEPS:-400}
EVAL_POSTS=${EVAL_POSTS:-500}; BEAM=${BEAM:-5}
[[ -f "$OUT/data/prep_stats.json" && -f "$OUT/judge/judge.json" && -f "$OUT/ecm/eval.json" ]] || {
  echo "faithfulness_code_mode: $OUT has no finished mini replication: run bash replication/replicate_mini.sh $OUT first" >&2; exit 2; }
JUDGE="$OUT/judge/$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['best_by_dev_macro_f1'])" "$OUT/judge/judge.json")"
mkdir -p "$OUT/logs"
main() { "$PY" -m ecm_tf.main "$@"; }
quiet() { grep --line-buffered -v "^I0000\|^WARNING: All log\|cuda\|rebuild TensorFlow\|TensorFlow binary\|^decoded\|restored  \|initialised  " || true; }
step() { echo "== $(date +%H:%M:%S) $*" >&2; }
code_train() {  # code_train MODEL_DIR MAX_STEPS [extra flags]
  local dir=$1 steps=$2; shift 2
  step "train (code mode) -> $dir ($steps steps)"
  main --mode=train --flagfile=flags/ecm_code.flags "$@" --flagfile=flags/mini_replication.flags \
    --data_dir="$OUT/data" --model_dir="$dir" --max_steps="$steps" 2>&1 | tee -a "$OUT/logs/$(basename "$dir").log" | quiet
}
code_train "$OUT/seq2seq_code_pretrain" "$PRETRAIN_STEPS" --nouse_emb --nouse_imemory --nouse_ememory
code_train "$OUT/ecm_code" "$FINETUNE_STEPS" --init_from="$OUT/seq2seq_code_pretrain"
if [[ ! -f "$OUT/ecm_code/eval.json" ]]; then
  step "eval ecm_code"
  main --mode=eval --model_dir="$OUT/ecm_code" --classifier_dir="$JUDGE" --eval_posts=$EVAL_POSTS --beam_size=$BEAM \
    2>&1 | tee "$OUT/logs/eval_ecm_code.log" | quiet
fi
"$PY" - "$OUT" <<'PYEOF'
import json, sys
out = sys.argv[1]
print("| ECM row | perplexity | perplexity (token) | emotion accuracy | distinct-1 | distinct-2 |")
print("|---|---|---|---|---|---|")
for name, row in (("paper mode (flags/ecm.flags)", "ecm"), ("code mode (flags/ecm_code.flags)", "ecm_code")):
    ev = json.load(open(f"{out}/{row}/eval.json", encoding="utf-8"))
    g = ev["generation"]["Overall"]
    print(f"| {name} | {ev['perplexity']['Overall']:.1f} | {ev['perplexity_token']['Overall']:.1f} | "
          f"{g['emotion_accuracy']:.3f} | {g['distinct_1']:.3f} | {g['distinct_2']:.3f} |")
PYEOF
