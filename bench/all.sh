#!/bin/sh
# Every benchmark of BENCHMARKS.md, one at a time (they time themselves: run nothing else meanwhile).
#   sh bench/all.sh ../shared/data          (from the repository root, in the project's environment)
# Many hours on a 2-core CPU (FER+ alone: about half an hour per 20 epochs). Each script rewrites only its own
# section of BENCHMARKS.md, with the command, the date, the machine and its wall time.
set -eu
D=${1:-../shared/data}
FER_PYTHON=${FER_PYTHON:-../fer-venv/bin/python}   # the `fer` package in its own venv (bench/fer_compare.py)
python bench/model_size.py
python bench/layout.py
python bench/prepare_real.py --data "$D"
python bench/jaffe_faces.py --data "$D/jaffe"
python bench/ckplus_cv.py --data "$D/ckplus48" --recipes paper,augmented --paper-seeds 1,2 --check-determinism
python bench/recipe_sweep.py --data "$D/ckplus48" --reuse
python bench/jaffe_cv.py --data "$D/jaffe" --recipes augmented
python bench/sfew.py --sfew "$D/sfew2" --ckplus48 "$D/ckplus48" --jaffe "$D/jaffe"
python bench/ablation.py --data "$D/ckplus48"
python bench/ablation.py --dataset jaffe --data "$D/jaffe"

# FER+: the recipe sweep (each variant's model is kept), then every protocol from the chosen FER+ model.
python bench/ferplus_sweep.py --data "$D/ferplus" --reuse
FERPLUS_MODEL=runs/bench/ferplus/votes.safetensors   # the sweep's most accurate variant (BENCHMARKS.md)
python bench/pretrained.py --init "$FERPLUS_MODEL" --ckplus48 "$D/ckplus48" --jaffe "$D/jaffe" --sfew "$D/sfew2" --reuse
python bench/crop_geometry.py --ferplus "$D/ferplus" --ckplus48 "$D/ckplus48" --sfew "$D/sfew2" --jaffe "$D/jaffe" \
    --model "$FERPLUS_MODEL"
python bench/ferplus_speed.py --data "$D/ferplus"
python bench/scale.py

# The bundled model (writes mffcnn/weights/default.safetensors): the FER+ model fine-tuned on FER+ ∪ the lab sets;
# and the same without JAFFE, for the comparison with fer on JAFFE.
python bench/train_default_model.py "ferplus:$D/ferplus:labels=votes" "ckplus48:$D/ckplus48" \
    "jaffe:$D/jaffe:neutral=true,augment=false" "sfew:$D/sfew2:split=train" "sfew:$D/sfew2:split=val" \
    --classes 7 --init "$FERPLUS_MODEL" --recipe finetune --epochs 8 --eval-folds 5 --eval-max-folds 2 \
    --valid "ferplus:$D/ferplus:split=valid" --bench-out BENCHMARKS.md
python bench/train_default_model.py "ferplus:$D/ferplus:labels=votes" "ckplus48:$D/ckplus48" \
    "sfew:$D/sfew2:split=train" "sfew:$D/sfew2:split=val" \
    --classes 7 --init "$FERPLUS_MODEL" --recipe finetune --epochs 8 --eval-folds 0 \
    --cross "jaffe:$D/jaffe" --out runs/models/no_jaffe.safetensors
python bench/fer_compare.py --jaffe "$D/jaffe" --model runs/models/no_jaffe.safetensors --fer-python "$FER_PYTHON"
python bench/speed.py --jaffe "$D/jaffe"
python bench/training_speed.py --data "$D/ckplus48"
python bench/resume_check.py --data "$D/ckplus48"
python bench/fuzz.py
python bench/gradcam_figure.py
python bench/gradcam_figure.py --data "$D/ckplus48"
python bench/report_browser.py runs/bench
python bench/serve_load.py
python bench/serve_limits.py
python bench/serve_browser.py
python bench/int8.py --ckplus48 "$D/ckplus48" --fer-python "$FER_PYTHON"
python bench/test_time.py
python bench/named_mutants.py
python bench/mutation.py
