#!/bin/sh
# Every benchmark of BENCHMARKS.md, one at a time (they time themselves: run nothing else meanwhile).
#   sh bench/all.sh ../shared/data          (from the repository root, in the project's environment)
# About 3 hours on a 2-core CPU. Each script rewrites only its own section of BENCHMARKS.md.
set -eu
D=${1:-../shared/data}
python bench/model_size.py
python bench/prepare_real.py --data "$D"
python bench/jaffe_faces.py --data "$D/jaffe"
python bench/ckplus_cv.py --data "$D/ckplus48" --recipes paper,augmented --check-determinism
python bench/recipe_sweep.py --data "$D/ckplus48" --reuse
python bench/jaffe_cv.py --data "$D/jaffe"
python bench/sfew.py --sfew "$D/sfew2" --ckplus48 "$D/ckplus48" --jaffe "$D/jaffe"
python bench/ablation.py --data "$D/ckplus48"
python bench/ablation.py --dataset jaffe --data "$D/jaffe"
# The bundled model (writes mffcnn/weights/default.safetensors) and one trained without JAFFE for the
# comparison with fer (which needs fer in its own venv: see bench/fer_compare.py).
python bench/train_default_model.py "ckplus48:$D/ckplus48" "jaffe:$D/jaffe:neutral=true,augment=false" \
    "sfew:$D/sfew2:split=train" "sfew:$D/sfew2:split=val" --classes 7 --eval-folds 10 \
    --detector max_side=320,scale_factor=1.2 --bench-out BENCHMARKS.md
python bench/train_default_model.py "ckplus48:$D/ckplus48" "sfew:$D/sfew2:split=train" "sfew:$D/sfew2:split=val" \
    --classes 7 --eval-folds 0 --detector max_side=320,scale_factor=1.2 --cross "jaffe:$D/jaffe" \
    --out runs/models/no_jaffe.safetensors
python bench/fer_compare.py --jaffe "$D/jaffe" --model runs/models/no_jaffe.safetensors
python bench/speed.py --jaffe "$D/jaffe"
python bench/scale.py
python bench/training_speed.py --data "$D/ckplus48"
python bench/resume_check.py --data "$D/ckplus48"
python bench/fuzz.py
python bench/gradcam_figure.py
python bench/gradcam_figure.py --data "$D/ckplus48"
python bench/report_browser.py runs/bench
