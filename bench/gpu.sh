#!/usr/bin/env bash
# ecm_tf on a GPU, in one command: environment, a smoke step, speed and a real-data check.
#
#   bench/gpu.sh [--out DIR]               # on a machine with a GPU TensorFlow can use (~1-2 h)
#   bench/gpu.sh --cpu-dry-run [--out DIR] # every step on the CPU, small sizes (~3-5 min on 2 cores)
#   (or ECM_GPU_DRY_RUN=1 bench/gpu.sh)
#
# Steps, each under its own `timeout`, each logged to DIR/<step>.log (default DIR: runs/gpu_bench):
#   env       nvidia-smi, TensorFlow version, tf.config.list_physical_devices, CUDA/cuDNN of the build
#   smoke     one ECM training step on the GPU (bench_train, 1 step)
#   paper     the ECM paper config (batch 128, V 40,000, GRU 256 x 2), float32 / mixed_bfloat16 x XLA on / off,
#             3 alternating rounds of 5 steps (bench_train)
#   sweep     batch 128 / 512 / 2048, both precisions, XLA on / off (bench_train)
#   decode    beam-20 decoding (bench_decode)
#   prep      the built-in corpus (--mode=prep)
#   train_*   300 steps of the paper config on it, float32 and mixed_bfloat16, on the GPU and on the CPU
#             (CUDA_VISIBLE_DEVICES=""): the final training loss and dev perplexity compared
# A failed or timed-out step is marked in the table at the end; the others still run. Speed lines go
# to bench/results.jsonl (the dry run: DIR/results.jsonl). Exit status 1 when a step failed.
set -euo pipefail

cd "$(dirname "$0")/.."
python=${PYTHON:-python}
out=runs/gpu_bench
dry=${ECM_GPU_DRY_RUN:-0}
while (($#)); do
  case $1 in
    --cpu-dry-run) dry=1 ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "gpu.sh: unknown argument $1 (--cpu-dry-run, --out DIR)" >&2; exit 2 ;;
  esac
  shift
done

if [[ $dry == 1 ]]; then
  device=cpu config=small batches=8,16 jit=off rounds=1 steps=1 train_steps=20 limit=900
  decode_args=(--runs 1 --batch_posts 2 --cerg_configs small --predict_posts 2 --predict_rounds 1)
  train_sizes=(--flagfile=flags/smoke.flags)
  prep_sizes=(--vocab_size=2000)
  gpu_env=(env CUDA_VISIBLE_DEVICES=)
  export ECM_BENCH_RESULTS=${ECM_BENCH_RESULTS:-$out/results.jsonl}
else
  device=gpu config=paper batches=128,512,2048 jit=on,off rounds=3 steps=5 train_steps=300 limit=3600
  decode_args=()
  train_sizes=()
  prep_sizes=()
  gpu_env=(env)
fi
mkdir -p "$out"
: >"$out/steps.tsv"
since=$("$python" -c 'from bench import common; print(common.now())')

# run_step NAME SECONDS COMMAND...: runs COMMAND under timeout, output to $out/NAME.log (its last lines shown).
run_step() {
  local name=$1 seconds=$2 code=0 start began
  shift 2
  echo "=== $name: $*"
  start=$SECONDS
  began=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)  # as common.now() writes the results' dates
  timeout --kill-after=30 "$seconds" "$@" >"$out/$name.log" 2>&1 || code=$?
  grep -v -e '^[IWE]0000 ' -e '^WARNING: All log messages' "$out/$name.log" | tail -n 12 || true
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$code" "$((SECONDS - start))" "$seconds" "$began" >>"$out/steps.tsv"
}

run_step env 300 "$python" - <<'PY'
import shutil, subprocess
import tensorflow as tf
if shutil.which("nvidia-smi"):
    print(subprocess.run(["nvidia-smi"], capture_output=True, text=True).stdout)
else:
    print("nvidia-smi: not installed")
print("TensorFlow", tf.__version__)
print("physical devices:", tf.config.list_physical_devices())
info = tf.sysconfig.get_build_info()
print("built with CUDA:", tf.test.is_built_with_cuda(), "| cuda_version:", info.get("cuda_version", "-"),
      "| cudnn_version:", info.get("cudnn_version", "-"), "| cuda_compute_capabilities:",
      info.get("cuda_compute_capabilities", "-"))
from bench import common
print("machine:", common.machine())
PY

train_bench=("$python" -m bench.bench_train --device "$device" --configs "$config" --models ecm)
run_step smoke "$limit" "${train_bench[@]}" --precision float32 --jit "${jit%%,*}" --steps 1
run_step paper "$limit" "${train_bench[@]}" --precision float32,mixed_bfloat16 --jit "$jit" --rounds "$rounds" \
  --steps "$steps"
run_step sweep "$limit" "${train_bench[@]}" --batch_sizes "$batches" --precision float32,mixed_bfloat16 \
  --jit "$jit" --steps "$steps"
run_step decode "$limit" "$python" -m bench.bench_decode "${decode_args[@]}"

# Real data: the built-in corpus, the same steps in both precisions on the GPU and on the CPU.
data=$out/data
run_step prep "$limit" "$python" -m ecm_tf.main --mode=prep --output_dir="$data" "${prep_sizes[@]}"
for side in gpu cpu; do
  for precision in float32 mixed_bfloat16; do
    # XLA: on (float32 on either side, bfloat16 on the GPU: flags/ecm_gpu.flags); off for bfloat16 on a CPU.
    xla=--jit_compile
    if [[ $side == cpu && $precision == mixed_bfloat16 ]]; then xla=--nojit_compile; fi
    runner=("${gpu_env[@]}")
    if [[ $side == cpu ]]; then runner=(env CUDA_VISIBLE_DEVICES=); fi
    run_step "train_${side}_$precision" "$limit" "${runner[@]}" "$python" -m ecm_tf.main --mode=train \
      --flagfile=flags/ecm_paper.flags "${train_sizes[@]}" --precision="$precision" "$xla" \
      --data_dir="$data" --model_dir="$out/model_${side}_$precision" --max_steps="$train_steps" \
      --log_every="$((train_steps / 5))" --steps_per_eval="$train_steps" --steps_per_checkpoint="$train_steps"
  done
done

"$python" -m bench.gpu_summary --out "$out" --since "$since" --dry_run "$dry"
