#!/usr/bin/env bash
# The emotion judge: the Table 2 classifiers trained on NLPCC gold alone (the Table 2
# setting, flags/classifier_*.flags), with the silver Weibo sentences, and with silver + CPED
# utterances; every run is scored on the same NLPCC test split and against CPED's human labels.
#
#   bash replication/judge.sh [OUT_DIR]      # default runs/judge; RUNS="bilstm_gold ..." for a subset
#
# NLPCC is split 8:1:1 by weibo (whole documents), seeded. Extra sentences join the train split only and are deduplicated against the NLPCC dev and test
# splits (ecm_tf/classifier/extra_data.py). CPED valid_split utterances may train; CPED test_split
# is only scored (agreement). A run is skipped when its metrics.json exists.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/judge}
SHARED=${SHARED:-../shared/data}
PY=${PYTHON:-python}
EXTRA_EPOCHS=${EXTRA_EPOCHS:-6}
NLPCC="$SHARED/nlpcc_emotion/nlpcc2013_train.xml,$SHARED/nlpcc_emotion/nlpcc2014_sample.xml"
SILVER="$SHARED/weibo_emotion_silver/sentences.tsv"
CPED_TRAIN="$SHARED/cped/valid_split.csv"
CPED_SCORE="$SHARED/cped/test_split.csv"
RUNS=${RUNS:-"bilstm_gold bilstm_silver bilstm_silver_cped lstm_silver rnn_silver lstm_gold rnn_gold lexicon_gold"}
mkdir -p "$OUT/logs"
# Hides TensorFlow's start-up lines; never fails the pipeline itself (training failures do).
quiet() { grep --line-buffered -v "^I0000\|^W0000\|^E0000\|WARNING: All log\|cuda\|rebuild TensorFlow\|TensorFlow binary\|oneDNN" || true; }
for run in $RUNS; do
  clf=${run%%_*}; data=${run#*_}
  [[ -f "$OUT/$run/metrics.json" ]] && continue
  case $data in
    gold) extra=() ;;
    silver) extra=(--clf_extra_train="$SILVER" --clf_epochs="$EXTRA_EPOCHS") ;;
    silver_cped) extra=(--clf_extra_train="$SILVER,$CPED_TRAIN" --clf_epochs="$EXTRA_EPOCHS") ;;
    cped) extra=(--clf_extra_train="$CPED_TRAIN" --clf_epochs="$EXTRA_EPOCHS") ;;
    *) echo "judge.sh: unknown data setting $data in $run" >&2; exit 2 ;;
  esac
  echo "== $(date +%H:%M:%S) $run" >&2
  "$PY" -m ecm_tf.main --flagfile=flags/classifier_$clf.flags --input="$NLPCC" --model_dir="$OUT/$run" \
    --clf_agreement_input="$CPED_SCORE" "${extra[@]}" ${JUDGE_FLAGS:-} 2>&1 \
    | quiet | tee "$OUT/logs/$run.log"
done
"$PY" replication/judge_report.py --run_dir="$OUT" --output="${JUDGE_RESULTS:-$OUT/judge.json}"
# The judge: the best single network, or an ensemble / calibrated bias if one is better on dev.
"$PY" replication/judge_select.py --run_dir="$OUT" --output="$OUT/judge_select.json" 2>&1 | quiet
