#!/usr/bin/env bash
# Rebuilds every shipped model from nothing: data, tokenizer, autoencoder, text encoder + UNet,
# evaluation classifier, ONNX exports, and the distilled 4/2/1-step students.
# Every stage resumes from its checkpoint in models/.work (rerun after a stop to continue);
# delete models/.work to start over. Step counts can be raised with the variables below.
# Usage: sudo models/tools/install.sh && models/tools/build_all.sh
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
AE_STEPS=${AE_STEPS:-2600}
CLASSIFIER_STEPS=${CLASSIFIER_STEPS:-400}
DIFFUSION_STEPS=${DIFFUSION_STEPS:-3200}
DISTILL_STEPS=${DISTILL_STEPS:-600}
GUIDANCE=${GUIDANCE:-5}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

$PY make_evaluation_set.py
$PY train_autoencoder.py --steps "$AE_STEPS"
$PY train_classifier.py --steps "$CLASSIFIER_STEPS"
$PY export_classifier.py
$PY train_diffusion.py --steps "$DIFFUSION_STEPS"
$PY export_model.py --guidance "$GUIDANCE"
$PY distill.py --rounds 4,2,1 --steps "$DISTILL_STEPS" --guidance "$GUIDANCE"
for n in 4 2 1; do $PY export_model.py --student "$n"; done
$PY evaluate_model.py --teacher 50,8,4,2,1 --students 4,2,1 --guidance "$GUIDANCE"
