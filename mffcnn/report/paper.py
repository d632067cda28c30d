"""The paper's reported numbers (Tables 2–6, Figs. 4–7), to print beside ours.

Keys are our dataset names; CK+48 is the paper's CK+ selection (same 927 images).
"""

from __future__ import annotations

BASIC6 = ["anger", "disgust", "fear", "happy", "sadness", "surprise"]

# Mean accuracy (%), Tables 2–5.
ACCURACY = {"ckplus": 98.80, "ckplus48": 98.80, "jaffe": 96.52, "oulu": 96.51, "sfew": 40.83}

# Per-class accuracy (%), the diagonals of Figs. 4–7.
PER_CLASS = {
    "ckplus": dict(zip(BASIC6, [97.33, 99.32, 98.8, 99.9, 95.71, 99.36])),
    "jaffe": dict(zip(BASIC6, [98.83, 95.78, 95.27, 98.27, 92.78, 98.29])),
    "oulu": dict(zip(BASIC6, [93.46, 93.83, 98.5, 99.92, 94.67, 98.67])),
    "sfew": dict(zip(["anger", "disgust", "fear", "happy", "neutral", "sadness", "surprise"],
                     [41.56, 13.04, 6.38, 57.53, 73.26, 28.77, 24.56])),
}
PER_CLASS["ckplus48"] = PER_CLASS["ckplus"]

# Table 6 (Oulu-CASIA): parameters and per-class / mean accuracy (%).
TABLE6 = {
    "full": {"params": "1.21M", **dict(zip(BASIC6, [93.46, 93.83, 98.50, 99.92, 94.67, 98.67])), "mean": 96.51},
    "no_mid_level": {"params": "0.02M", **dict(zip(BASIC6, [70.69, 83.89, 86.39, 96.53, 82.22, 96.25])), "mean": 86.00},
    "no_joint_tuning": {"params": "1.21M", **dict(zip(BASIC6, [92.17, 93.54, 98.42, 99.96, 94.70, 98.88])), "mean": 96.26},
    "no_feature_selection": {"params": "1.22M", **dict(zip(BASIC6, [91.04, 92.67, 98.46, 99.83, 94.67, 98.88])), "mean": 95.92},
}

FLOPS = 4.87e9  # §3: "the number of floating-point operations (FLOPs) is 4.87G"


def paper_key(dataset: str) -> str | None:
    """Our dataset name → the paper's key, or None when the paper has no number for it."""
    key = dataset.split(":")[0]
    return key if key in ACCURACY else None

# Tables 2–5: the paper's comparison with other models, (model, parameters, accuracy %), MFF-CNN last.
TABLES = {
    "ckplus": ("Table 2", "CK+", [("DCMA-CNN [17]", "0.05M", 93.46), ("DTAGN [21]", "5.85M", 97.25),
                                  ("FN2EN [28]", "1.19M", 98.60), ("MFF-CNN", "1.21M", 98.80)]),
    "jaffe": ("Table 3", "JAFFE", [("Sobel-based CNN [20]", "0.58M", 92.00), ("CAE-based CNN [20]", "0.43M", 94.10),
                                   ("DCMA-CNN [17]", "0.05M", 94.75), ("MFF-CNN", "1.21M", 96.52)]),
    "oulu": ("Table 4", "Oulu-CASIA", [("DTAGN [21]", "5.85M", 81.46), ("FaceLiveNet [30]", "1.31M", 87.50),
                                       ("FN2EN [28]", "1.19M", 87.71), ("MFF-CNN", "1.21M", 96.51)]),
    "sfew": ("Table 5", "SFEW 2.0 (Val)", [("DLP-CNN [35]", "73.75M", 51.05), ("IBAN-IL [36]", "19.8M", 55.28),
                                          ("MFF-CNN", "1.21M", 40.83)]),
}
TABLES["ckplus48"] = TABLES["ckplus"]
