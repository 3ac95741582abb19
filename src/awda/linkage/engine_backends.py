"""The two engines the linkage runs on: DuckDB in-process (default) and a local Spark session.

Both receive the feature batches, run the same SQL, hand Splink its `DatabaseAPI`, and return
results as pyarrow tables. Each keeps every file it writes (spill, shuffle, checkpoints) under
the private directory the engine gives it, which is removed when linkage ends.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

DUCKDB_MEMORY_LIMIT = "2GB"
SPARK_PARTITIONS = 4
# Spark logs through log4j2 straight to the terminal; only errors, never record values.
LOG4J2 = """status = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %c{1}: %m%n
rootLogger.level = error
rootLogger.appenderRef.console.ref = console
logger.splink.name = uk.gov.moj
logger.splink.level = off
"""


class Backend(Protocol):
    name: str

    def load(self, table: str, batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> None: ...
    def create(self, table: str, sql: str) -> None: ...
    def register_arrow(self, table: str, data: pa.Table) -> None: ...
    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...
    def arrow(self, sql: str) -> pa.Table: ...
    def database_api(self) -> Any: ...
    def close(self) -> None: ...


class DuckDBBackend:
    """An in-memory DuckDB that spills to the private directory when memory runs short."""

    name = "duckdb"

    def __init__(self, private_dir: Path) -> None:
        spill = private_dir / "duckdb-spill"
        spill.mkdir(mode=0o700)
        config: dict[str, str | bool | int | float | list[str]] = {
            "threads": os.cpu_count() or 1,
            "memory_limit": DUCKDB_MEMORY_LIMIT,
            "temp_directory": str(spill),
        }
        self.connection = duckdb.connect(":memory:", config=config)
        self.connection.execute("SET enable_progress_bar = false")  # it draws on stdout, over `--json` output

    def load(self, table: str, batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> None:
        failures: list[Exception] = []

        def watched() -> Iterator[pa.RecordBatch]:
            try:
                yield from batches
            except Exception as error:  # DuckDB wraps it; the caller gets the original (a row's ValidationFailed)
                failures.append(error)
                raise

        reader = pa.RecordBatchReader.from_batches(schema, watched())  # DuckDB pulls batch by batch
        self.connection.register("awda_stream", reader)
        try:
            self.connection.execute(f"create table {table} as select * from awda_stream")  # noqa: S608 (our table name)
        except duckdb.Error:
            if failures:
                raise failures[0] from None
            raise
        finally:
            self.connection.unregister("awda_stream")

    def create(self, table: str, sql: str) -> None:
        self.connection.execute(f"create table {table} as {sql}")

    def register_arrow(self, table: str, data: pa.Table) -> None:
        self.connection.register(table, data)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql).fetchall()

    def arrow(self, sql: str) -> pa.Table:
        return self.connection.sql(sql).to_arrow_table()

    def database_api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.connection)

    def close(self) -> None:
        self.connection.close()


class SparkBackend:
    """A local Spark session (`local[2]`, UI off) with Splink's similarity functions registered."""

    name = "spark"

    def __init__(self, private_dir: Path) -> None:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this interpreter, not the PATH's
        log_config = private_dir / "log4j2.properties"
        log_config.write_text(LOG4J2, encoding="utf-8")
        java_options = f"-Djava.io.tmpdir={private_dir} -Dlog4j2.configurationFile=file:{log_config}"
        builder = (
            SparkSession.builder.master("local[2]")
            .appName("awda-linkage")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(SPARK_PARTITIONS))
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.default.parallelism", str(SPARK_PARTITIONS))
            .config("spark.local.dir", str(private_dir / "spark-local"))
            .config("spark.sql.warehouse.dir", str(private_dir / "spark-warehouse"))
            .config("spark.driver.extraJavaOptions", java_options)
            .config("spark.driver.memory", "2g")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.codegen.wholeStage", "false")  # small local jobs: compiling costs more than it saves
            .config("spark.jars", similarity_jar_location())
        )
        self.spark = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")
        self.spark.sparkContext.setCheckpointDir(str(private_dir / "spark-checkpoints"))
        self._cached: list[Any] = []

    def load(self, table: str, batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> None:
        # Local mode: the driver holds the features once; a cluster reads partitioned files instead.
        frame = self.spark.createDataFrame(pa.Table.from_batches(list(batches), schema=schema))
        frame.createOrReplaceTempView(table)

    def create(self, table: str, sql: str) -> None:
        frame = self.spark.sql(sql).persist()
        frame.count()  # materialise once; Splink reads the table many times
        self._cached.append(frame)
        frame.createOrReplaceTempView(table)

    def register_arrow(self, table: str, data: pa.Table) -> None:
        self.spark.createDataFrame(data).createOrReplaceTempView(table)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def arrow(self, sql: str) -> pa.Table:
        table: pa.Table = self.spark.sql(sql).toArrow()
        return table

    def database_api(self) -> Any:
        from splink import SparkAPI

        return SparkAPI(spark_session=self.spark, break_lineage_method="persist")  # type: ignore[no-untyped-call]

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        self.spark.catalog.clearCache()
        self.spark.stop()


def open_backend(name: str, private_dir: Path) -> Backend:
    if name == "duckdb":
        return DuckDBBackend(private_dir)
    if name == "spark":
        return SparkBackend(private_dir)
    raise ValueError(name)
