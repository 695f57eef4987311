"""Customer segmentation core: validation, K-Means training with automatic k, profiles, names,
honest confidence and a signed model store. No web imports here."""

from segmentation_core.dataset import CustomerTable, check_values, load_table
from segmentation_core.errors import (
    DataValidationError,
    InvalidParameterError,
    ModelIntegrityError,
    ModelNotTrainedError,
    Problem,
    SegmentationError,
    TrainingInProgressError,
)
from segmentation_core.features import DEFAULT_SPEC, Feature, FeatureSpec
from segmentation_core.generator import PLANTED_SEGMENTS, generate_customers
from segmentation_core.model import SegmentationModel
from segmentation_core.results import (
    BatchPrediction,
    ClusterProfile,
    ElbowPoint,
    ElbowReport,
    FeatureStats,
    ModelInfo,
    Prediction,
    SegmentProbability,
    TrainingParams,
)
from segmentation_core.segmenter import Segmenter
from segmentation_core.settings import CoreSettings, get_settings
from segmentation_core.store import ModelStore
from segmentation_core.training import check_params, train_model

__all__ = [
    "DEFAULT_SPEC",
    "PLANTED_SEGMENTS",
    "BatchPrediction",
    "ClusterProfile",
    "CoreSettings",
    "CustomerTable",
    "DataValidationError",
    "ElbowPoint",
    "ElbowReport",
    "Feature",
    "FeatureSpec",
    "FeatureStats",
    "InvalidParameterError",
    "ModelInfo",
    "ModelIntegrityError",
    "ModelNotTrainedError",
    "ModelStore",
    "Prediction",
    "Problem",
    "SegmentProbability",
    "SegmentationError",
    "SegmentationModel",
    "Segmenter",
    "TrainingInProgressError",
    "TrainingParams",
    "check_params",
    "check_values",
    "generate_customers",
    "get_settings",
    "load_table",
    "train_model",
]
