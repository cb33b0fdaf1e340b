"""`--engine spark`: the analyzers run on Apache Spark (pyspark), over Parquet files or a Spark table.

Optional: needs `pip install -r requirements-spark.txt` and a Java runtime; this module is the
only one that imports pyspark, and only when the engine is chosen. The master comes from
`--spark-master`, `DIAGNOSTICS_SPARK_MASTER` or `[engines] spark_master` (default `local[*]`).
The session is kept quiet (log level WARN, no UI, no console progress) and, in local mode, uses
few shuffle partitions. Every derived table is a temporary view over a local checkpoint
(computed once, then read as rows, never recomputed from its lineage); SQL is compiled to the
"spark" dialect (`dialects.py`). Times are UTC: the session time zone is set to it, and results
come back through Arrow as UTC-aware datetimes.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from diagnostics.config import Config
from diagnostics.engines.base import Engine
from diagnostics.engines.source import canonical_select, check_columns, kind_of, naive_times_sql
from diagnostics.errors import InputError
from diagnostics.logs.schema import LINE_BITS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

LOCAL_SHUFFLE_PARTITIONS = 4  # a laptop's cores, not the cluster default of 200
LOG4J = Path(__file__).with_name("spark-log4j2.properties")
APP_NAME = "webhook-doctor"


def session(master: str) -> SparkSession:
    """The process's Spark session for `master` (created once, reused by later analyses)."""
    if shutil.which("java") is None and not _java_home():
        raise InputError("--engine spark needs a Java runtime (Debian: apt-get install openjdk-17-jre-headless)",
                         field="--engine")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise InputError("--engine spark needs pyspark: pip install -r requirements-spark.txt",
                         field="--engine") from exc
    builder = (
        SparkSession.builder.master(master).appName(APP_NAME)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG4J} -Duser.timezone=UTC")
    )
    if master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def _java_home() -> bool:
    import os

    home = os.environ.get("JAVA_HOME")
    return bool(home and (Path(home) / "bin" / "java").exists())


def plain(value: Any) -> Any:
    """Spark values as DuckDB gives them: whole decimals as int, other decimals as float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    return value


class SparkEngine(Engine):
    name: ClassVar[str] = "spark"
    dialect: ClassVar[str] = "spark"
    table = "_wd_attempts"

    def __init__(self, spark: SparkSession, shown: str) -> None:
        self.spark = spark
        self.shown = shown
        self.kept: dict[str, tuple[str, set[int]]] = {}  # view -> its SQL and the RDDs holding its rows
        self.rows_total = 0
        self.excluded = 0

    def fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        arrow = self._run(sql).toArrow()
        columns = [[plain(v) for v in column.to_pylist()] for column in arrow.columns]
        return list(arrow.column_names), list(zip(*columns, strict=True)) if columns else []

    def _run(self, sql: str) -> DataFrame:
        from pyspark.errors import PySparkException

        try:
            return self.spark.sql(sql)
        except PySparkException as exc:
            raise RuntimeError(f"Spark refused the analyzer SQL: {str(exc).splitlines()[0][:300]}\n{sql}") from exc

    def _persisted(self) -> Any:
        """The session's persisted RDDs by id (JavaSparkContext.getPersistentRDDs)."""
        return self.spark.sparkContext._jsc.getPersistentRDDs()

    def _keep(self, name: str, frame: DataFrame, sql: str) -> None:
        """Compute `frame` now, once, and cut it from its lineage: a cached frame whose SQL has a
        WITH clause is not recognized again when a later query reads its view (the CTE gets new
        ids), so every reader recomputed it (1M attempts: 133 of 224 s were the incident tables
        read back); a local checkpoint is read as the rows it holds. The RDDs it persisted are
        remembered, since `DataFrame.unpersist` does not release a checkpoint's blocks."""
        before = {int(i) for i in self._persisted().keySet().toArray()}
        frame = frame.localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        held = {int(i) for i in self._persisted().keySet().toArray()} - before
        old = self.kept.pop(name, None)
        if old is not None:
            self._release(old[1])
        self.kept[name] = (sql, held)

    def _release(self, rdd_ids: set[int]) -> None:
        persisted = self._persisted()
        for rdd_id in rdd_ids:
            rdd = persisted.get(rdd_id)
            if rdd is not None:
                rdd.unpersist(False)

    def materialize(self, name: str, select: str) -> None:
        sql = self.compile(select)
        if name in self.kept and self.kept[name][0] == sql:
            return  # the same table again (the inputs of an analysis never change)
        self._keep(name, self._run(sql), sql)

    def export(self, select: str, path: str) -> int:
        suffix = Path(path).suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise InputError(f"details file must end in .parquet or .csv, not {suffix or '(none)'}", file=path)
        # The details are one row per code and endpoint: small enough to write from the driver as one file.
        table = self._run(self.compile(select)).toArrow()
        tmp = f"{path}.tmp"
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        else:
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, tmp)
        Path(tmp).replace(path)
        return table.num_rows

    def close(self) -> None:
        """Drop this analysis's views and release their rows; the session stays for the next
        analysis in the process."""
        for name, (_, held) in self.kept.items():
            self._release(held)
            self.spark.catalog.dropTempView(name)
        self.kept.clear()

    def subject(self) -> str:
        row = self.rows(f"SELECT count(*) AS n, min(attempted_at) AS s, max(attempted_at) AS e FROM {self.table}")[0]
        return f"{self.shown}: {row['n']:,} attempts, {row['s']:%Y-%m-%d %H:%M} to {row['e']:%Y-%m-%d %H:%M} UTC"

    def import_metrics(self) -> dict[str, Any]:
        return {"sources": [self.shown], "rows": self.rows_total - self.excluded, "problem_total": self.excluded,
                "problems": []}

    def load(self, frame: DataFrame, *, in_place: bool) -> None:
        """Type the source rows (canonical names, `seq` already added) into the kept `attempts` view."""
        frame.createOrReplaceTempView("_wd_source")
        kinds = {f.name: kind_of(f.dataType.simpleString()) for f in frame.schema.fields if f.name != "_wd_seq"}
        check_columns(kinds, self.shown)
        naive = naive_times_sql("_wd_source", kinds)
        if naive and (value := self.value(naive)) is not None:
            raise InputError(f"attempted_at {str(value)[:40]!r} has no UTC offset; store times as timestamps "
                             "or with an offset (Z, +02:00)", file=self.shown, column="attempted_at")
        select = canonical_select("_wd_source", kinds, seq="_wd_seq", trim=not in_place)
        self.rows_total = int(self.value("SELECT count(*) FROM _wd_source") or 0)
        self.materialize(self.table, select)
        self.excluded = self.rows_total - int(self.value(f"SELECT count(*) FROM {self.table}") or 0)


_HADOOP_GLOB = frozenset("\\{}[]*?")


def literal_path(path: str) -> str:
    """A path Spark reads as that one file or folder: Hadoop expands `*`, `?`, `[...]` and
    `{a,b}` in every path it is given, so each such character is escaped with a backslash."""
    return "".join("\\" + ch if ch in _HADOOP_GLOB else ch for ch in path)


def _read(spark: SparkSession, sources: Sequence[str], table: str | None) -> tuple[DataFrame, str, bool]:
    """The source rows with `_wd_seq` (file index << 40 | row number, as the embedded path numbers them)."""
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F

    if table:
        if sources:
            raise InputError("give either Parquet files or --table with --engine spark, not both", field="--table")
        try:
            frame = spark.table(table)
        except PySparkException as exc:
            raise InputError(f"Spark has no table {table!r}", field="--table") from exc
        # A table has no line numbers: a unique id per row, fixed once the attempts are kept (checkpointed).
        return frame.withColumn("_wd_seq", F.monotonically_increasing_id()), f"Spark table {table}", False
    if not sources:
        raise InputError("give Parquet files or --table for --engine spark", field="--engine")
    frames = []
    for index, source in enumerate(sources):
        path = Path(source)
        if not path.exists():
            raise InputError("delivery-log file not found", file=source)
        if path.is_file() and path.suffix.lower() != ".parquet":
            raise InputError("--engine spark reads Parquet files (or a Spark table with --table)", file=source)
        try:
            frame = spark.read.parquet(literal_path(str(path)))
            frame = frame.select("*", F.col("_metadata.row_index").alias("_wd_row"))
        except PySparkException as exc:
            raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0][:160]})", file=source) from exc
        seq = (F.lit(index).cast("bigint") * F.lit(1 << LINE_BITS)) + F.col("_wd_row") + F.lit(1)
        frames.append(frame.withColumn("_wd_seq", seq).drop("_wd_row"))
    frame = frames[0]
    for other in frames[1:]:
        frame = frame.unionByName(other, allowMissingColumns=True)
    return frame, ", ".join(sources), True


def _mapped(frame: DataFrame, mapping: Any) -> DataFrame:
    from diagnostics.logs.canonical import validate_mapping
    from diagnostics.logs.schema import CANONICAL_COLUMNS

    mapping = validate_mapping(mapping)
    missing = [f"{canon}={src}" for canon, src in mapping.items() if src not in frame.columns]
    if missing:
        raise InputError(f"--map {', '.join(missing)}: no such column", field="--map")
    renames = {src: canon for canon, src in mapping.items()}
    keep = [c for c in frame.columns if c in renames or (c in CANONICAL_COLUMNS and c not in mapping) or c == "_wd_seq"]
    return frame.select(*[frame[f"`{c}`"].alias(renames.get(c, c)) for c in keep])


def open_engine(sources: Sequence[str], *, config: Config, mapping: Any = None, endpoint: str | None = None,
                since: datetime | None = None, until: datetime | None = None, table: str | None = None,
                query: str | None = None) -> SparkEngine:
    """A Spark engine over the Parquet files (or Spark table), filters applied, attempts kept."""
    from pyspark.sql import functions as F

    if query:
        raise InputError("--query is for database sources; with --engine spark give --table or Parquet files",
                         field="--query")
    spark = session(str(config.get("engines", "spark_master") or "local[*]"))
    frame, shown, in_place = _read(spark, list(sources), table)
    frame = _mapped(frame, mapping)
    if endpoint:
        frame = frame.where(F.col("endpoint") == endpoint)
    if since:
        frame = frame.where(F.col("attempted_at") >= F.lit(since))
    if until:
        frame = frame.where(F.col("attempted_at") < F.lit(until))
    engine = SparkEngine(spark, shown)
    try:
        engine.load(frame, in_place=in_place)
        if engine.rows_total - engine.excluded == 0:
            raise InputError("no delivery attempts to analyze (check the filters: --endpoint, --since, --until)")
    except BaseException:
        engine.close()
        raise
    return engine
