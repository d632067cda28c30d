"""Every number the paper states (Zou, Zhang & Lee, Applied Intelligence 2021), in one place.

The model's hyperparameters (§3), the training recipe (§4.2, §4.6), the reported accuracies (Tables 2–6,
Figs. 4–7), the parameter counts and FLOPs. The rest of mffcnn reads them from here; keys of the result
tables are our dataset names (CK+48 is the paper's CK+ selection: the same 927 images).
"""

from __future__ import annotations

BASIC6 = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]  # §4: the six basic expressions
EXPRESSIONS7 = ["anger", "disgust", "fear", "happy", "neutral", "sadness", "surprise"]  # SFEW 2.0, Fig. 7

# §3 and §4.1: the model.
INPUT_SIZE = 60  # "The facial region was resized to 60×60"
MID_UNITS = 256  # §3.1: "An extra fully-connected layer with 256 units"
NUM_PATCHES = 16  # N, §3.2
PATCH_OVERLAP = 0.5  # §3.2, eq. 2: neighbouring patches share half their side (S·(√N+1) = 2L gives S = 24)
PATCH_MAPS = 32  # K, §3.2: feature maps per patch
NUM_SELECTED = 384  # M, §3.2: feature vectors kept of N·K = 512
LOSS_WEIGHTS = (1.0, 1.0, 0.1)  # λ1, λ2, λ3, eq. 5
IMAGE_CONVS, IMAGE_POOLS = 6, 3  # §3.1
PATCH_CONVS, PATCH_POOLS = 4, 2  # §3.2

# §3, Table 6: parameters of the full model and of the ablations.
PARAMS = {"full": 1.21e6, "no_mid_level": 0.02e6, "no_joint_tuning": 1.21e6, "no_feature_selection": 1.22e6}
FLOPS = 4.87e9  # §3: "the number of floating-point operations (FLOPs) is 4.87G"

# §4.2 (eq. 6) and §4.6: training.
LR = 0.01
BATCH_SIZE = 100
LR_DECAY = 0.93
DECAY_EVERY = 3  # epochs: η = η0 · 0.93^⌊i/3⌋
EPOCHS = {"ckplus": 25, "ckplus48": 25, "jaffe": 40, "oulu": 40, "sfew": 200}
SFEW_PRETRAIN_EPOCHS = 30  # §4.6: pretraining on CK+ ∪ JAFFE ∪ Oulu-CASIA
SFEW_FINETUNE_EPOCHS = 200  # §4.6: then SFEW 2.0 Train
JAFFE_VIEWS = 8  # §4.1: each photo, its mirror, and rotations of ±5°, ±10°, ±15°

# Mean accuracy (%), Tables 2–5. The paper's protocol is random 10-fold cross-validation (SFEW: Val).
ACCURACY = {"ckplus": 98.80, "ckplus48": 98.80, "jaffe": 96.52, "oulu": 96.51, "sfew": 40.83}
PROTOCOL = "random"  # the only protocol the paper ran: its numbers belong beside our random folds only

# Per-class accuracy (%), the diagonals of Figs. 4–7.
PER_CLASS = {
    "ckplus": dict(zip(BASIC6, [97.33, 99.32, 98.8, 99.9, 95.71, 99.36])),
    "jaffe": dict(zip(BASIC6, [98.83, 95.78, 95.27, 98.27, 92.78, 98.29])),
    "oulu": dict(zip(BASIC6, [93.46, 93.83, 98.5, 99.92, 94.67, 98.67])),
    "sfew": dict(zip(EXPRESSIONS7, [41.56, 13.04, 6.38, 57.53, 73.26, 28.77, 24.56])),
}
PER_CLASS["ckplus48"] = PER_CLASS["ckplus"]

# Table 6 (Oulu-CASIA): parameters and per-class / mean accuracy (%).
TABLE6 = {
    "full": {"params": "1.21M", **dict(zip(BASIC6, [93.46, 93.83, 98.50, 99.92, 94.67, 98.67])), "mean": 96.51},
    "no_mid_level": {"params": "0.02M", **dict(zip(BASIC6, [70.69, 83.89, 86.39, 96.53, 82.22, 96.25])), "mean": 86.00},
    "no_joint_tuning": {
        "params": "1.21M",
        **dict(zip(BASIC6, [92.17, 93.54, 98.42, 99.96, 94.70, 98.88])),
        "mean": 96.26,
    },
    "no_feature_selection": {
        "params": "1.22M",
        **dict(zip(BASIC6, [91.04, 92.67, 98.46, 99.83, 94.67, 98.88])),
        "mean": 95.92,
    },
}

# Tables 2–5: the paper's comparison with other models, (model, parameters, accuracy %), MFF-CNN last.
TABLES = {
    "ckplus": (
        "Table 2",
        "CK+",
        [
            ("DCMA-CNN [17]", "0.05M", 93.46),
            ("DTAGN [21]", "5.85M", 97.25),
            ("FN2EN [28]", "1.19M", 98.60),
            ("MFF-CNN", "1.21M", 98.80),
        ],
    ),
    "jaffe": (
        "Table 3",
        "JAFFE",
        [
            ("Sobel-based CNN [20]", "0.58M", 92.00),
            ("CAE-based CNN [20]", "0.43M", 94.10),
            ("DCMA-CNN [17]", "0.05M", 94.75),
            ("MFF-CNN", "1.21M", 96.52),
        ],
    ),
    "oulu": (
        "Table 4",
        "Oulu-CASIA",
        [
            ("DTAGN [21]", "5.85M", 81.46),
            ("FaceLiveNet [30]", "1.31M", 87.50),
            ("FN2EN [28]", "1.19M", 87.71),
            ("MFF-CNN", "1.21M", 96.51),
        ],
    ),
    "sfew": (
        "Table 5",
        "SFEW 2.0 (Val)",
        [("DLP-CNN [35]", "73.75M", 51.05), ("IBAN-IL [36]", "19.8M", 55.28), ("MFF-CNN", "1.21M", 40.83)],
    ),
}
TABLES["ckplus48"] = TABLES["ckplus"]


def paper_key(dataset: str) -> str | None:
    """Our dataset name → the paper's key, or None when the paper has no number for it."""
    key = dataset.split(":")[0]
    return key if key in ACCURACY else None


def reported(dataset: str, protocol: str) -> str | None:
    """The paper's key for a result of ours, or None when the paper ran no such experiment: it reports random
    folds (SFEW: its Val split) only, so a subject-independent row has nothing of the paper's beside it."""
    key = paper_key(dataset)
    return key if key and protocol == PROTOCOL else None
