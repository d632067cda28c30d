"""mffcnn: MFF-CNN facial expression recognition (Zou, Zhang & Lee, Applied Intelligence 2021)."""

__version__ = "0.1.0"

from mffcnn.experiment import cross_validate, resume  # noqa: E402
from mffcnn.model import MFFCNN, MFFCNNConfig  # noqa: E402

__all__ = ["MFFCNN", "MFFCNNConfig", "cross_validate", "resume", "__version__"]
