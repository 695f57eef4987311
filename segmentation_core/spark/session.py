"""The Spark session the engine runs on: a cluster master, local mode, or Spark Connect.

* ``SPARK_REMOTE`` (e.g. ``sc://host:15002``): a Spark Connect session; it wins over the master.
* ``SPARK_MASTER`` (e.g. ``spark://host:7077``, ``yarn``, ``k8s://...``, ``local[2]``): a classic
  session on that master. Unset: the master ``spark-submit`` was given, else ``local[*]``.

Local sessions are kept quiet and self-contained: no web UI (``spark.ui.enabled=false``), log
level ERROR, and ``PYSPARK_PYTHON`` set to this interpreter when unset, so Python workers have the
same packages as the driver (the system ``python3`` lacks pyarrow, and ``mapInArrow`` would fail).
Column names are case-sensitive, as everywhere else in the product (``Age`` and ``age`` are two
columns).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pyspark.sql import SparkSession

from segmentation_core.settings import CoreSettings, get_settings

#: The application name clusters show.
APP_NAME = "customer-segmentation"
#: The master when neither SPARK_MASTER nor spark-submit names one.
DEFAULT_MASTER = "local[*]"

#: Settings every session of the engine gets (a Spark Connect server keeps its own static ones).
SESSION_CONF: Mapping[str, str] = {
    "spark.sql.caseSensitive": "true",
    "spark.sql.session.timeZone": "UTC",
}
#: Settings of a classic (non-Connect) session: quiet, small local shuffles.
CLASSIC_CONF: Mapping[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def is_connect(spark: SparkSession) -> bool:
    """Whether ``spark`` is a Spark Connect session (no SparkContext, no JVM in this process)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def _launched_by_spark_submit() -> bool:
    """Whether ``spark-submit`` started this process (its JVM waits for us, with the master and
    every ``--conf`` it was given)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def get_session(
    settings: CoreSettings | None = None, *, conf: Mapping[str, str] | None = None
) -> SparkSession:
    """The engine's session from ``SPARK_REMOTE`` / ``SPARK_MASTER`` (see the module doc).

    Reuses the active session of this process when there is one (``getOrCreate``), so a
    ``spark-submit`` job, a notebook or the test suite share theirs. ``conf`` adds settings.
    """
    settings = settings or get_settings()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(APP_NAME)
    if settings.spark_remote:
        builder = builder.remote(settings.spark_remote)
        extra: dict[str, str] = {}
    else:
        if settings.spark_master:
            builder = builder.master(settings.spark_master)
        elif not _launched_by_spark_submit():
            builder = builder.master(DEFAULT_MASTER)
        # else: spark-submit's --master (and the rest of its configuration) stands
        extra = dict(CLASSIC_CONF)
    for key, value in {**extra, **SESSION_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)  # also on a session that existed before
    if not is_connect(spark):
        spark.sparkContext.setLogLevel("ERROR")
    return spark
