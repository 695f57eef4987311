"""The operations a user performs, over the dataset store and the model registry together.

The CLI and the GraphQL API both call these, so a rule that involves both stores lives in one
place: a dataset the active model was trained on cannot be deleted; a training reads a stored
dataset, runs alone per model store with visible progress, and activates what it stored; a
comparison or a scoring reads the dataset a model names.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from segmentation_core.compare import compare_models
from segmentation_core.datasets import DatasetStore
from segmentation_core.enums import ColumnRole, TrainingStage
from segmentation_core.errors import ConflictError, ModelNotTrainedError, NotFoundError
from segmentation_core.model import SegmentationModel
from segmentation_core.progress import TrainingTracker
from segmentation_core.results import (
    DatasetInfo,
    ImportResult,
    ModelComparison,
    ScoreSummary,
    TrainingParams,
    TrainingStatus,
)
from segmentation_core.scoring import ScoredCsv, score_batches, score_file
from segmentation_core.segmenter import Progress
from segmentation_core.settings import CoreSettings, get_settings
from segmentation_core.store import ModelStore
from segmentation_core.training import TrainingData, default_features, train_dataset


class Workspace:
    """A dataset store and a model store, and the operations that span them."""

    def __init__(self, datasets: DatasetStore, models: ModelStore) -> None:
        self.datasets = datasets
        self.models = models
        self.tracker = TrainingTracker(models.root)

    @classmethod
    def from_settings(cls, settings: CoreSettings | None = None) -> Workspace:
        """The stores the environment names (``SEGMENTATION_DATASETS_DIR``, ``..._MODELS_DIR``)."""
        settings = settings or get_settings()
        return cls(DatasetStore.from_settings(settings), ModelStore.from_settings(settings))

    # -- datasets ------------------------------------------------------------------------------

    def import_dataset(
        self, source: Path | BinaryIO, *, name: str | None = None, filename: str | None = None
    ) -> ImportResult:
        """Import a CSV or Parquet file from a path or a binary stream (see
        ``DatasetStore.import_file``)."""
        return self.datasets.import_file(source, name=name, filename=filename)

    def dataset(self, dataset_id: str | None) -> DatasetInfo:
        """The dataset ``dataset_id``, or the bundled one when None (NotFoundError if absent)."""
        if dataset_id is not None:
            return self.datasets.get(dataset_id)
        bundled = self.datasets.bundled()
        if bundled is None:
            raise NotFoundError("dataset", "bundled (SEGMENTATION_DATA does not exist)")
        return bundled

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset; ConflictError when the active model was trained on it."""
        self.datasets.get(dataset_id)
        active = self.models.active_version()
        if active is not None and self.models.record(active).info.dataset_id == dataset_id:
            raise ConflictError(
                f"the active model {active} was trained on dataset {dataset_id}; activate "
                "another model before deleting it"
            )
        self.datasets.delete(dataset_id)

    # -- training ------------------------------------------------------------------------------

    def training_data(
        self, dataset: DatasetInfo, params: TrainingParams, source: str | None = None
    ) -> TrainingData:
        """The columns of ``dataset`` a training with ``params`` reads: its features (those that
        exist; unknown ones are reported by the training) and its categorical columns."""
        choices = params.features if params.features is not None else default_features(
            dataset.columns
        )
        present = {c.name for c in dataset.columns}
        wanted = [c.column for c in choices if c.column in present]
        wanted += [c.name for c in dataset.columns if c.role is ColumnRole.CATEGORICAL]
        return TrainingData(
            table=self.datasets.read_typed(dataset.id, list(dict.fromkeys(wanted))),
            columns=dataset.columns,
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            sha256=dataset.sha256,
            source=source or dataset.name,
        )

    def train(
        self,
        dataset_id: str | None = None,
        params: TrainingParams = TrainingParams(),  # noqa: B008 - frozen dataclass
        *,
        source: str | None = None,
        on_progress: Progress | None = None,
    ) -> SegmentationModel:
        """Train on a stored dataset (the bundled one by default), store the model, activate it.

        One training per model store at a time (TrainingInProgressError otherwise); its progress
        is readable by every process through :meth:`training_status`.
        """
        dataset = self.dataset(dataset_id)
        with self.tracker.running(dataset.id) as run:

            def progress(stage: TrainingStage, done: int, total: int) -> None:
                run.update(stage, done, total)
                if on_progress is not None:
                    on_progress(stage, done, total)

            progress(TrainingStage.LOADING, 0, 1)
            model = train_dataset(
                self.training_data(dataset, params, source), params, on_progress=progress
            )
            progress(TrainingStage.STORING, 0, 1)
            self.models.save(model)
            progress(TrainingStage.STORING, 1, 1)
        return model

    def train_spark(
        self,
        uri: str,
        params: TrainingParams = TrainingParams(),  # noqa: B008 - frozen dataclass
        *,
        on_progress: Progress | None = None,
    ) -> SegmentationModel:
        """Train on the table at ``uri`` with the Spark engine (``segmentation_core.spark``; the
        session from ``SPARK_MASTER`` / ``SPARK_REMOTE``), store the model and activate it: one
        training at a time with published progress, as :meth:`train`.

        pyspark is imported only here, so the core's users without the ``spark`` extra never
        need it (ModuleNotFoundError when it is missing).
        """
        from segmentation_core.spark import train_spark
        from segmentation_core.spark.reading import source_id

        with self.tracker.running(source_id(uri)) as run:

            def progress(stage: TrainingStage, done: int, total: int) -> None:
                run.update(stage, done, total)
                if on_progress is not None:
                    on_progress(stage, done, total)

            progress(TrainingStage.LOADING, 0, 1)
            model = train_spark(uri, params, on_progress=progress)
            progress(TrainingStage.STORING, 0, 1)
            self.models.save(model)
            progress(TrainingStage.STORING, 1, 1)
        return model

    def training_status(self) -> TrainingStatus | None:
        """The running training, from whichever process runs it; None when none runs."""
        return self.tracker.status()

    # -- models --------------------------------------------------------------------------------

    def model(self, version: str | None = None) -> SegmentationModel:
        """A stored model (verified before loading): the active one when ``version`` is None.

        ModelNotTrainedError when nothing is active; NotFoundError for an unknown version.
        """
        if version is None:
            if self.models.active_version() is None:
                raise ModelNotTrainedError("no model has been trained yet")
            return self.models.load_active()
        return self.models.load(version)

    def compare(self, a: str, b: str, dataset_id: str | None = None) -> ModelComparison:
        """Compare two stored models on a dataset (default: the one ``b`` was trained on)."""
        model_a, model_b = self.model(a), self.model(b)
        dataset = self.dataset(dataset_id or model_b.info.dataset_id or None)
        columns = list(dict.fromkeys(model_a.spec.columns + model_b.spec.columns))
        present = {c.name for c in dataset.columns}
        table = self.datasets.read_typed(dataset.id, [c for c in columns if c in present])
        return compare_models(model_a, model_b, table, dataset.id)

    # -- scoring -------------------------------------------------------------------------------

    def score_file(self, path: Path, version: str | None = None) -> ScoredCsv:
        """Score a CSV or Parquet file with a stored model (the active one by default)."""
        return score_file(self.model(version), path)

    def score_spark(self, source: str, out: str, version: str | None = None) -> ScoreSummary:
        """Score the table at ``source`` on Spark with a stored model (the active one by
        default), written as Parquet to ``out`` (see ``segmentation_core.spark.scoring``)."""
        from segmentation_core.spark import score_spark

        return score_spark(self.model(version), source, out)

    def score_dataset(self, dataset_id: str, version: str | None = None) -> ScoredCsv:
        """Score every row of a stored dataset with a stored model."""
        dataset = self.datasets.get(dataset_id)
        return score_batches(self.model(version), self.datasets.iter_batches(dataset.id))

