"""The Spark engine: train and score tables where they live, on Apache Spark (pyspark 4).

Optional: needs the ``spark`` extra (``pip install -e ".[spark]"``) and a Java 17+ runtime. The
core never imports this package, so local users need neither. See ``docs/spark.md``.

* :func:`train_spark` (``engine.py``): a table at a URI in, the same signed-model kind as the
  local engine out (``engine="spark"``, ``source=<URI>``);
* :func:`score_spark` (``scoring.py``): a table at a URI scored with any stored model, written as
  Parquet with the scored-file columns;
* :func:`get_session` (``session.py``): the session from ``SPARK_MASTER`` / ``SPARK_REMOTE``.
"""

from __future__ import annotations

import warnings

# pyspark 4.3 warns on import that it does not fully support pandas 3. The engine moves data
# between Spark and Python as Arrow batches (mapInArrow) and never through pandas.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)

from segmentation_core.spark.engine import train_spark  # noqa: E402
from segmentation_core.spark.scoring import score_spark  # noqa: E402
from segmentation_core.spark.session import get_session  # noqa: E402

__all__ = ["get_session", "score_spark", "train_spark"]
