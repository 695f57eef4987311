"""Customer segmentation core: datasets, feature recipes, K-Means training with automatic k,
explanations and stability, honest confidence, a signed model registry and bulk scoring. No web
imports here. ``segmentation_core.workspace.Workspace`` is the front door to the operations."""

from segmentation_core.dataset import CustomerTable, check_values, load_table
from segmentation_core.errors import (
    ConflictError,
    DataValidationError,
    InvalidParameterError,
    ModelIntegrityError,
    ModelNotTrainedError,
    NotFoundError,
    Problem,
    SegmentationError,
    TooLargeError,
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
    FeatureChoice,
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
    "ConflictError",
    "CustomerTable",
    "DataValidationError",
    "ElbowPoint",
    "ElbowReport",
    "Feature",
    "FeatureChoice",
    "FeatureSpec",
    "FeatureStats",
    "InvalidParameterError",
    "ModelInfo",
    "ModelIntegrityError",
    "ModelNotTrainedError",
    "ModelStore",
    "NotFoundError",
    "Prediction",
    "Problem",
    "SegmentProbability",
    "SegmentationError",
    "SegmentationModel",
    "Segmenter",
    "TooLargeError",
    "TrainingInProgressError",
    "TrainingParams",
    "check_params",
    "check_values",
    "generate_customers",
    "get_settings",
    "load_table",
    "train_model",
]
