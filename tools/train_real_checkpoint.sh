#!/usr/bin/env bash
# Makes the bundled real-motion checkpoint dcmae_core/resources/checkpoints/dcmae_real.pt from the shared Kinect-v1
# recordings (README "Results on real recordings"). CPU, 2 cores: ~35 min pretraining + ~27 min finetuning + ~17 min
# more finetuning + ~1 h 20 min of finetuning facing the camera + ~35 min with label smoothing (quiet machine).
# Usage: bash tools/train_real_checkpoint.sh [REAL_DIR] [OUT_DIR]   (defaults: ../shared/data/real, runs/real)
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${1:-../shared/data/real}
OUT=${2:-runs/real}
PY=${PY:-.venv/bin/python}
T="$PY -m dcmae_core.train"
$T import-nwucla "$REAL/nw_ucla/all_sqe" --out "$OUT/nwucla"
$T import-utd-mhad "$REAL/utd_mhad" --out "$OUT/utd"
$T import-kinder-gator "$REAL/kinder_gator" --out "$OUT/kg"
$T merge-caches "$OUT/nwucla" "$OUT/utd" "$OUT/kg" --out "$OUT/all"       # pretraining: every training clip
$T merge-caches "$OUT/nwucla" "$OUT/utd" --out "$OUT/labelled"             # finetuning: the two label sets
$T pretrain --preset real --data "$OUT/all" --out "$OUT/pretrain" --set train.pretrain_epochs=18
$T finetune --preset real --data "$OUT/labelled" --out "$OUT/finetune" --pretrained "$OUT/pretrain/last.pt" \
  --set data.window=resize --set train.finetune_epochs=50
# 30 more epochs from the finetuned classifier at a lower rate (train accuracy was still rising at epoch 50)
$T finetune --preset real --data "$OUT/labelled" --out "$OUT/finetune_more" --pretrained "$OUT/finetune/best.pt" \
  --set data.window=resize --set train.finetune_epochs=30 --set optim.finetune_lr=0.001 --set train.eval_every=2
# Classification input turned to face the camera (data.face_front): 30 epochs, then 20 at a lower rate
$T finetune --preset real --data "$OUT/labelled" --out "$OUT/face_front" --pretrained "$OUT/finetune_more/best.pt" \
  --set data.window=resize --set train.finetune_epochs=30 --set data.face_front=true --set train.eval_every=2
$T finetune --preset real --data "$OUT/labelled" --out "$OUT/face_front_more" --pretrained "$OUT/face_front/best.pt" \
  --set data.window=resize --set train.finetune_epochs=20 --set optim.finetune_lr=0.001 --set data.face_front=true \
  --set train.eval_every=2
# 12 more with a lower rate, more weight decay and dropout before the head (training accuracy had reached 98 %)
$T finetune --preset real --data "$OUT/labelled" --out "$OUT/face_front_reg" --pretrained "$OUT/face_front_more/best.pt" \
  --set data.window=resize --set train.finetune_epochs=12 --set optim.finetune_lr=0.0005 \
  --set optim.finetune_weight_decay=0.05 --set model.head_dropout=0.3 --set data.face_front=true --set train.eval_every=1
# 15 more the same way with each axis of a training clip scaled by U(0.85, 1.15) (bodies of other sizes)
$T finetune --preset real --data "$OUT/labelled" --out "$OUT/face_front_scale" --pretrained "$OUT/face_front_reg/best.pt" \
  --set data.window=resize --set train.finetune_epochs=15 --set optim.finetune_lr=0.0005 \
  --set optim.finetune_weight_decay=0.05 --set model.head_dropout=0.3 --set data.face_front=true --set train.eval_every=1 \
  --set data.scale=0.15
# 15 more the same way with label smoothing 0.1 (train.label_smoothing)
$T finetune --preset real --data "$OUT/labelled" --out "$OUT/face_front_smooth" --pretrained "$OUT/face_front_scale/best.pt" \
  --set data.window=resize --set train.finetune_epochs=15 --set optim.finetune_lr=0.0005 \
  --set optim.finetune_weight_decay=0.05 --set model.head_dropout=0.3 --set data.face_front=true --set train.eval_every=1 \
  --set data.scale=0.15 --set train.label_smoothing=0.1
GATE=$($PY bench/calibrate_fill_gate.py --checkpoint "$OUT/finetune/best.pt" --data "$OUT/all" --clips 200 \
  | sed -n 's/^best gate: \([0-9]*\) frames.*/\1/p')
# The motion bank (dcmae_core/motion_bank.py): the training clips of NW-UCLA and UTD-MHAD, 1,371 clips, ~5.4 MiB packed
$T slim-checkpoint "$OUT/face_front_smooth/best.pt" dcmae_core/resources/checkpoints/dcmae_real.pt --fill-gate "$GATE" \
  --motion-bank "$OUT/labelled" \
  --about "Real people: pretrained on NW-UCLA (views 1-2), UTD-MHAD (odd subjects) and Kinder-Gator; finetuned on NW-UCLA + UTD-MHAD (50 + 30 epochs, then 30 + 20 + 12 + 15 + 15 facing the camera, the last 15 with label smoothing); motion bank of the NW-UCLA + UTD-MHAD training clips"
