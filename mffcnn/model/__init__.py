"""MFF-CNN (Zou, Zhang & Lee 2021), paper §3."""

from mffcnn.model.config import ABLATIONS, MFFCNNConfig, ablation_config
from mffcnn.model.mffcnn import MFFCNN, MFFCNNOutput, count_parameters, param_counts

__all__ = ["ABLATIONS", "MFFCNN", "MFFCNNConfig", "MFFCNNOutput", "ablation_config", "count_parameters", "param_counts"]
