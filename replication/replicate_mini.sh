#!/usr/bin/env bash
# Mini replication of ECM Tables 2 and 4 on the real data we have (RESULTS.md):
#   1. the four Table 2 classifiers on the NLPCC 2013/2014 Weibo emotion XML;
#   2. the Bi-LSTM annotates the 12k LCCC pairs (train and valid files separately);
#   3. prep (jieba words, DUTIR external memory, TFRecords; dev split = LCCC valid);
#   4. Seq2Seq pretraining, then Emb, ECM and the three ablations fine-tuned from it (--init_from),
#      and Seq2Seq trained on for the same number of steps;
#   5. --mode=eval of the six rows on the LCCC valid posts x 5 emotions (Bi-LSTM emotion accuracy);
#   6. sample responses (Figure 4 style), results/mini_replication.json, curves PNG.
#
#   bash replication/replicate_mini.sh [OUT_DIR]        # default runs/mini, about an hour on 2 CPU cores
#   MINI_QUICK=1 bash replication/replicate_mini.sh runs/mini_quick   # a few minutes: checks the pipeline
#
# Every step is skipped when its output exists, so an interrupted run continues where it stopped
# (training resumes from its last checkpoint). Delete OUT_DIR to rerun from scratch. Settings:
# flags/mini_replication.flags (model and training) and flags/classifier_*.flags.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-runs/mini}
SHARED=${SHARED:-../shared/data}
PY=${PYTHON:-python}
RESULTS=${RESULTS:-results/mini_replication.json}
if [[ "${MINI_QUICK:-0}" == 1 ]]; then
  PRETRAIN_STEPS=40; FINETUNE_STEPS=20; EVAL_POSTS=10; CLF_EPOCHS=1
  RESULTS=${RESULTS_QUICK:-$OUT/mini_replication.json}
else
  PRETRAIN_STEPS=${PRETRAIN_STEPS:-1500}; FINETUNE_STEPS=${FINETUNE_STEPS:-500}
  EVAL_POSTS=${EVAL_POSTS:-0}; CLF_EPOCHS=${CLF_EPOCHS:-8}
fi
BEAM=${BEAM:-5}  # beam width of the evaluation and samples (paper: 20; see RESULTS.md)
NLPCC="$SHARED/nlpcc_emotion/nlpcc2013_train.xml,$SHARED/nlpcc_emotion/nlpcc2014_sample.xml"
for f in "$SHARED/nlpcc_emotion/nlpcc2013_train.xml" "$SHARED/lccc_toy/toy_train.txt" "$SHARED/lccc_toy/toy_valid.txt"; do
  [[ -f "$f" ]] || { echo "replicate_mini: missing $f (set SHARED=path/to/shared/data)" >&2; exit 2; }
done
mkdir -p "$OUT/logs"
main() { "$PY" -m ecm_tf.main "$@"; }
# Hides TensorFlow's start-up lines and per-batch progress; never fails the pipeline itself.
quiet() { grep --line-buffered -v "^I0000\|^WARNING: All log\|cuda\|rebuild TensorFlow\|TensorFlow binary\|^decoded\|restored  \|initialised  " || true; }
step() { echo "== $(date +%H:%M:%S) $*" >&2; }
START=$(date +%s)

# 1. Table 2: four classifiers.
for c in lexicon rnn lstm bilstm; do
  if [[ ! -f "$OUT/clf_$c/metrics.json" ]]; then
    step "classifier $c"
    main --flagfile=flags/classifier_$c.flags --input="$NLPCC" --model_dir="$OUT/clf_$c" \
      --clf_epochs=$CLF_EPOCHS 2>&1 | tee "$OUT/logs/clf_$c.log" | quiet
  fi
done

# 2-3. Annotate LCCC with the Bi-LSTM, then prep.
for split in train valid; do
  if [[ ! -f "$OUT/lccc_$split.json" ]]; then
    step "annotate LCCC $split"
    main --mode=annotate --model_dir="$OUT/clf_bilstm" --input="$SHARED/lccc_toy/toy_$split.txt" \
      --input_format=lccc --output="$OUT/lccc_$split.json"
  fi
done
if [[ ! -f "$OUT/data/prep_stats.json" ]]; then
  step "prep"
  main --mode=prep --flagfile=flags/mini_replication.flags --input="$OUT/lccc_train.json" \
    --dev_input="$OUT/lccc_valid.json" --output_dir="$OUT/data"
fi

# 4. Seq2Seq pretraining, then every Table 4 row for FINETUNE_STEPS more steps.
train() {  # train ROW MODEL_DIR MAX_STEPS [extra flags]
  local row=$1 dir=$2 steps=$3; shift 3
  step "train $row -> $dir ($steps steps)"
  main --mode=train --flagfile=flags/$row.flags --flagfile=flags/mini_replication.flags \
    --data_dir="$OUT/data" --model_dir="$dir" --max_steps="$steps" "$@" 2>&1 \
    | tee -a "$OUT/logs/$(basename "$dir").log" | quiet
}
train seq2seq "$OUT/seq2seq_pretrain" "$PRETRAIN_STEPS"
if [[ ! -d "$OUT/seq2seq" ]]; then cp -r "$OUT/seq2seq_pretrain" "$OUT/seq2seq"; cp "$OUT/logs/seq2seq_pretrain.log" "$OUT/logs/seq2seq.log"; fi
train seq2seq "$OUT/seq2seq" $((PRETRAIN_STEPS + FINETUNE_STEPS))
for row in emb ecm ecm_no_emb ecm_no_imem ecm_no_emem; do
  train "$row" "$OUT/$row" "$FINETUNE_STEPS" --init_from="$OUT/seq2seq_pretrain"
done

# 5. Table 4: perplexity on the valid split, emotion accuracy and distinct-n of top-1 responses.
for row in seq2seq emb ecm ecm_no_emb ecm_no_imem ecm_no_emem; do
  if [[ ! -f "$OUT/$row/eval.json" ]]; then
    step "eval $row"
    main --mode=eval --model_dir="$OUT/$row" --classifier_dir="$OUT/clf_bilstm" --eval_posts=$EVAL_POSTS --beam_size=$BEAM \
      2>&1 | tee "$OUT/logs/eval_$row.log" | quiet
  fi
done

# 6. Figure 4 style samples (the first three valid posts), the JSON results and the curves.
"$PY" - "$OUT" <<'EOF'
import json, sys
out = sys.argv[1]
pairs = json.load(open(f"{out}/lccc_valid.json", encoding="utf-8"))
posts = []
for (post, _), _ in pairs:
    if len(post.split()) >= 4 and post not in posts:
        posts.append(post)
    if len(posts) == 3:
        break
open(f"{out}/sample_posts.txt", "w", encoding="utf-8").write("\n".join(posts) + "\n")
EOF
for row in seq2seq ecm; do
  main --mode=decode --model_dir="$OUT/$row" --input="$OUT/sample_posts.txt" --emotion=all --beam_size=$BEAM \
    --output="$OUT/samples_$row.jsonl" 2>&1 | quiet
done
"$PY" replication/mini_report.py --run_dir="$OUT" --output="$RESULTS" --seconds=$(( $(date +%s) - START ))
