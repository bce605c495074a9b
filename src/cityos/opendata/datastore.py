"""The DataStore: one table per resource, named by the resource id as in CKAN.

Tables live in the main database (schema ``datastore`` on PostgreSQL) so that catalog
changes and data changes commit together: an upload either lands whole or not at all.
Each table has ``_id`` (row number) and ``_full_text`` (the normalized text of the row, for
Japanese substring search with ``q``) besides the data columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from cityos.core import text
from cityos.core.errors import QueryTimeoutProblem, ValidationProblem

PG_SCHEMA = "datastore"
READER_ROLE = "cityos_datastore_reader"
MAX_LIMIT = 32000
DEFAULT_LIMIT = 100
SQL_MAX_ROWS = 32000
INTERNAL_FIELDS = ("_id", "_full_text")

SQL_TYPES = {
    "sqlite": {
        "text": "TEXT",
        "int": "INTEGER",
        "numeric": "REAL",
        "date": "TEXT",
        "time": "TEXT",
        "timestamp": "TEXT",
        "bool": "INTEGER",
    },
    "postgresql": {
        "text": "TEXT",
        "int": "BIGINT",
        "numeric": "DOUBLE PRECISION",
        "date": "DATE",
        "time": "TIME",
        "timestamp": "TIMESTAMPTZ",
        "bool": "BOOLEAN",
    },
}
FIELD_TYPES = tuple(SQL_TYPES["sqlite"])
_TYPE_ALIASES = {
    "int4": "int",
    "int8": "int",
    "integer": "int",
    "bigint": "int",
    "float": "numeric",
    "float8": "numeric",
    "double": "numeric",
    "number": "numeric",
    "string": "text",
    "varchar": "text",
    "timestamptz": "timestamp",
    "datetime": "timestamp",
    "boolean": "bool",
}


@dataclass(frozen=True)
class Field:
    """A data column: its name, its CKAN type and what kind of value the standard says it is."""

    name: str
    type: str
    kind: str = "text"
    label: str = ""


def normalize_type(name: str) -> str:
    lowered = name.strip().lower()
    lowered = _TYPE_ALIASES.get(lowered, lowered)
    if lowered not in FIELD_TYPES:
        raise ValidationProblem(
            f"型 {name!r} には対応していません（{', '.join(FIELD_TYPES)}） / "
            f"unsupported field type {name!r}",
            errors={"fields": [f"unsupported type {name}"]},
        )
    return lowered


def quote(identifier: str) -> str:
    if "\x00" in identifier:
        raise ValidationProblem("列名に NUL 文字は使えません / NUL in a column name")
    return '"' + identifier.replace('"', '""') + '"'


def table_ref(dialect: str, resource_id: str, suffix: str = "") -> str:
    name = quote(resource_id + suffix)
    return f"{PG_SCHEMA}.{name}" if dialect == "postgresql" else name


SEARCHABLE_KINDS = frozenset({"text", "id", "phone", "postcode"})
FULL_TEXT_SEPARATOR = (
    "|"  # survives normalization, so a term cannot run from one cell into the next
)


def full_text_of(values: Iterable[Any]) -> str:
    """What ``q`` searches in: the row's text values, normalized (width, kana, case).

    One normalization of the joined row is several times cheaper than one per cell, and
    this runs for every row of million-row uploads.
    """
    return text.search_key(FULL_TEXT_SEPARATOR.join(v for v in values if isinstance(v, str) and v))


# --- writing -------------------------------------------------------------------------------


def _column_defs(dialect: str, fields: Sequence[Field]) -> str:
    types = SQL_TYPES[dialect]
    id_def = "_id INTEGER PRIMARY KEY" if dialect == "sqlite" else "_id BIGSERIAL PRIMARY KEY"
    columns = [id_def] + [f"{quote(f.name)} {types[f.type]}" for f in fields]
    columns.append("_full_text TEXT")
    return ", ".join(columns)


def create_table(
    conn: Connection, resource_id: str, fields: Sequence[Field], suffix: str = ""
) -> None:
    dialect = conn.dialect.name
    conn.exec_driver_sql(
        f"CREATE TABLE {table_ref(dialect, resource_id, suffix)} ({_column_defs(dialect, fields)})"
    )
    if dialect == "postgresql":
        conn.exec_driver_sql(
            f"GRANT SELECT ON {table_ref(dialect, resource_id, suffix)} TO {READER_ROLE}"
        )


def table_exists(conn: Connection, resource_id: str) -> bool:
    if conn.dialect.name == "sqlite":
        row = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (resource_id,)
        ).first()
    else:
        row = conn.exec_driver_sql(
            "SELECT 1 FROM information_schema.tables WHERE table_schema=%s AND table_name=%s",
            (PG_SCHEMA, resource_id),
        ).first()
    return row is not None


def drop_table(conn: Connection, resource_id: str, suffix: str = "") -> None:
    conn.exec_driver_sql(
        f"DROP TABLE IF EXISTS {table_ref(conn.dialect.name, resource_id, suffix)}"
    )


def swap_in(conn: Connection, resource_id: str, suffix: str) -> None:
    """Replace the resource's table with the one loaded under ``resource_id + suffix``."""
    dialect = conn.dialect.name
    drop_table(conn, resource_id)
    conn.exec_driver_sql(
        f"ALTER TABLE {table_ref(dialect, resource_id, suffix)} RENAME TO {quote(resource_id)}"
    )


def add_columns(conn: Connection, resource_id: str, fields: Sequence[Field]) -> None:
    dialect = conn.dialect.name
    for f in fields:
        conn.exec_driver_sql(
            f"ALTER TABLE {table_ref(dialect, resource_id)} "
            f"ADD COLUMN {quote(f.name)} {SQL_TYPES[dialect][f.type]}"
        )


def create_index(conn: Connection, resource_id: str, column: str) -> None:
    dialect = conn.dialect.name
    # A stable name (not hash(), which differs per process) so IF NOT EXISTS finds it again.
    digest = hashlib.sha1(f"{resource_id}:{column}".encode(), usedforsecurity=False).hexdigest()
    index_name = quote(f"ix_{resource_id[:20]}_{digest[:12]}")
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {index_name} ON {table_ref(dialect, resource_id)} "
        f"({quote(column)})"
    )


def insert_rows(
    conn: Connection,
    resource_id: str,
    fields: Sequence[Field],
    rows: Iterable[Sequence[Any]],
    suffix: str = "",
) -> int:
    """Bulk-load rows (data values followed by the row's ``_full_text``); returns the count.

    SQLite gets batched ``executemany``; PostgreSQL gets ``COPY``. Both run in the caller's
    transaction.
    """
    dialect = conn.dialect.name
    names = [quote(f.name) for f in fields] + ["_full_text"]
    target = table_ref(dialect, resource_id, suffix)
    raw: Any = conn.connection.driver_connection
    count = 0
    if dialect == "sqlite":
        sql = f"INSERT INTO {target} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        cursor = raw.cursor()
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, 5000)):
            cursor.executemany(sql, batch)
            count += len(batch)
        cursor.close()
        return count
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {target} ({', '.join(names)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def delete_rows(
    conn: Connection, resource_id: str, filters: dict[str, Any], fields: Sequence[Field]
) -> int:
    where, params = _where(conn.dialect.name, fields, filters, None)
    result = conn.exec_driver_sql(
        f"DELETE FROM {table_ref(conn.dialect.name, resource_id)}{where}", tuple(params)
    )
    return int(result.rowcount or 0)


def upsert_rows(
    conn: Connection,
    resource_id: str,
    fields: Sequence[Field],
    records: Sequence[dict[str, Any]],
    primary_key: Sequence[str],
    method: str,
) -> int:
    """CKAN's ``datastore_upsert``: insert, update by primary key, or both."""
    dialect = conn.dialect.name
    target = table_ref(dialect, resource_id)
    by_name = {f.name: f for f in fields}
    count = 0
    for number, record in enumerate(records, start=1):
        values = {name: value for name, value in record.items() if name in by_name}
        full_text = full_text_of(
            v for k, v in values.items() if by_name[k].kind in SEARCHABLE_KINDS
        )
        if method == "insert" or not primary_key:
            if method == "update":
                raise ValidationProblem(
                    "update には primary_key が必要です / update needs a primary key",
                    errors={"method": ["update needs a primary_key"]},
                )
            _insert_record(conn, target, values, full_text)
            count += 1
            continue
        missing = [k for k in primary_key if values.get(k) in (None, "")]
        if missing:
            raise ValidationProblem(
                f"{number}件目に主キー {', '.join(missing)} がありません / "
                f"record {number} lacks the primary key {', '.join(missing)}",
                errors={"records": [f"record {number}: primary key missing"]},
            )
        key_where = " AND ".join(f"{quote(k)} = {_ph(dialect)}" for k in primary_key)
        key_values = [values[k] for k in primary_key]
        existing = conn.exec_driver_sql(
            f"SELECT _id FROM {target} WHERE {key_where}", tuple(key_values)
        ).first()
        if existing is None:
            if method == "update":
                raise ValidationProblem(
                    f"{number}件目: 更新する行がありません / record {number}: no row to update",
                    errors={"records": [f"record {number}: key not found"]},
                )
            _insert_record(conn, target, values, full_text)
        else:
            assignments = [f"{quote(k)} = {_ph(dialect)}" for k in values] + [
                f"_full_text = {_ph(dialect)}"
            ]
            conn.exec_driver_sql(
                f"UPDATE {target} SET {', '.join(assignments)} WHERE _id = {_ph(dialect)}",
                (*values.values(), full_text, existing[0]),
            )
        count += 1
    return count


def _insert_record(conn: Connection, target: str, values: dict[str, Any], full_text: str) -> None:
    ph = _ph(conn.dialect.name)
    names = [quote(k) for k in values] + ["_full_text"]
    conn.exec_driver_sql(
        f"INSERT INTO {target} ({', '.join(names)}) VALUES ({', '.join([ph] * len(names))})",
        (*values.values(), full_text),
    )


def refresh_full_text(conn: Connection, resource_id: str, fields: Sequence[Field]) -> None:
    """Recompute ``_full_text`` after columns were added (rare; small tables)."""
    dialect = conn.dialect.name
    target = table_ref(dialect, resource_id)
    names = ", ".join(quote(f.name) for f in fields)
    rows = conn.exec_driver_sql(f"SELECT _id, {names} FROM {target}").all()
    ph = _ph(dialect)
    searchable = [i for i, f in enumerate(fields) if f.kind in SEARCHABLE_KINDS]
    for row in rows:
        conn.exec_driver_sql(
            f"UPDATE {target} SET _full_text = {ph} WHERE _id = {ph}",
            (full_text_of(row[1 + i] for i in searchable), row[0]),
        )


def _ph(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


# --- reading -------------------------------------------------------------------------------


@dataclass
class SearchQuery:
    filters: dict[str, Any]
    q: str | dict[str, str] | None
    fields: list[str] | None
    sort: list[tuple[str, str]]
    limit: int
    offset: int
    include_total: bool
    distinct: bool


def parse_sort(value: Any, known: set[str]) -> list[tuple[str, str]]:
    if value in (None, ""):
        return [("_id", "asc")]
    parts = value if isinstance(value, list) else str(value).split(",")
    result: list[tuple[str, str]] = []
    for part in parts:
        tokens = str(part).strip().split()
        if not tokens:
            continue
        name = tokens[0].strip('"')
        direction = tokens[1].lower() if len(tokens) > 1 else "asc"
        if name not in known or direction not in ("asc", "desc") or len(tokens) > 2:
            raise ValidationProblem(
                f"並べ替えの指定 {part!r} が正しくありません / invalid sort {part!r}",
                errors={"sort": [f'field "{name}" not in table or bad direction']},
            )
        result.append((name, direction))
    return result


def _coerce(value: Any, field_type: str, field_name: str, dialect: str) -> Any:
    if value is None:
        return None
    try:
        if field_type == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if field_type == "numeric":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if field_type == "bool":
            return str(value).lower() in ("true", "1", "t", "yes")
        if field_type == "date":
            parsed = dt.date.fromisoformat(str(value)[:10])
            return parsed.isoformat() if dialect == "sqlite" else parsed
        if field_type == "time":
            parsed_time = dt.time.fromisoformat(str(value))
            return parsed_time.isoformat() if dialect == "sqlite" else parsed_time
    except (TypeError, ValueError):
        raise ValidationProblem(
            f"列 {field_name} の値 {value!r} は型 {field_type} に合いません / "
            f"value {value!r} does not fit field {field_name} ({field_type})",
            errors={"filters": [f"invalid value for {field_name}"]},
        ) from None
    if isinstance(value, dict | list):
        raise ValidationProblem(
            f"列 {field_name} の値が正しくありません / invalid value for {field_name}",
            errors={"filters": [f"invalid value for {field_name}"]},
        )
    return str(value)


def _like_term(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(
    dialect: str,
    fields: Sequence[Field],
    filters: dict[str, Any],
    q: str | dict[str, str] | None,
) -> tuple[str, list[Any]]:
    by_name = {f.name: f for f in fields}
    by_name["_id"] = Field("_id", "int")
    clauses: list[str] = []
    params: list[Any] = []
    ph = _ph(dialect)
    for name, value in filters.items():
        field = by_name.get(name)
        if field is None:
            raise ValidationProblem(
                f"列 {name!r} はこの表にありません / field {name!r} is not in this table",
                errors={"filters": [f'field "{name}" not in table']},
            )
        values = value if isinstance(value, list) else [value]
        if not values:
            clauses.append("1 = 0")
            continue
        coerced = [_coerce(v, field.type, name, dialect) for v in values]
        non_null = [v for v in coerced if v is not None]
        parts = []
        if non_null:
            if len(non_null) == 1:
                parts.append(f"{quote(name)} = {ph}")
            else:
                parts.append(f"{quote(name)} IN ({', '.join([ph] * len(non_null))})")
            params.extend(non_null)
        if len(non_null) < len(coerced):
            parts.append(f"{quote(name)} IS NULL")
        clauses.append("(" + " OR ".join(parts) + ")")
    if isinstance(q, str) and q.strip():
        for term in _terms(q):
            clauses.append(f"_full_text LIKE {ph} ESCAPE '\\'")
            params.append(_like_term(term))
    elif isinstance(q, dict):
        for name, term in q.items():
            if name not in by_name:
                raise ValidationProblem(
                    f"列 {name!r} はこの表にありません / field {name!r} is not in this table",
                    errors={"q": [f'field "{name}" not in table']},
                )
            column = quote(name) if dialect == "sqlite" else f"CAST({quote(name)} AS TEXT)"
            clauses.append(f"{column} LIKE {ph} ESCAPE '\\'")
            params.append(_like_term(str(term)))
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    return where, params


def _terms(q: str) -> list[str]:
    """Search terms of ``q``: split on spaces before normalizing, which removes spaces."""
    return [key for part in text.normalize(q).split(" ") if (key := text.search_key(part))]


def search(
    conn: Connection, resource_id: str, fields: Sequence[Field], query: SearchQuery
) -> dict[str, Any]:
    dialect = conn.dialect.name
    known = {f.name for f in fields} | {"_id"}
    selected = query.fields if query.fields else ["_id", *[f.name for f in fields]]
    unknown = [name for name in selected if name not in known]
    if unknown:
        raise ValidationProblem(
            f"列 {', '.join(unknown)} はこの表にありません / fields not in this table: "
            f"{', '.join(unknown)}",
            errors={"fields": [f'field "{name}" not in table' for name in unknown]},
        )
    where, params = _where(dialect, fields, query.filters, query.q)
    target = table_ref(dialect, resource_id)
    columns = ", ".join(quote(name) for name in selected)
    distinct = "DISTINCT " if query.distinct else ""
    sort = query.sort
    if query.distinct:
        # With DISTINCT only selected columns can order the rows (PostgreSQL insists).
        sort = [(name, d) for name, d in sort if name in selected] or [(selected[0], "asc")]
    order = ", ".join(f"{quote(name)} {direction.upper()}" for name, direction in sort)
    ph = _ph(dialect)
    sql = (
        f"SELECT {distinct}{columns} FROM {target}{where}"
        f"{' ORDER BY ' + order if order else ''} LIMIT {ph} OFFSET {ph}"
    )
    rows = conn.exec_driver_sql(sql, (*params, query.limit, query.offset)).all()
    total = None
    if query.include_total:
        if query.distinct:
            count_sql = (
                f"SELECT COUNT(*) FROM (SELECT DISTINCT {columns} FROM {target}{where}) AS d"
            )
        else:
            count_sql = f"SELECT COUNT(*) FROM {target}{where}"
        total = conn.exec_driver_sql(count_sql, tuple(params)).scalar_one()
    return {"columns": selected, "rows": [tuple(r) for r in rows], "total": total}


def iter_all(
    conn: Connection, resource_id: str, fields: Sequence[Field], batch: int = 5000
) -> Iterator[tuple[Any, ...]]:
    """Every row in ``_id`` order (for downloads), streamed in batches."""
    target = table_ref(conn.dialect.name, resource_id)
    columns = ", ".join(["_id", *[quote(f.name) for f in fields]])
    # Options for this statement only: Connection.execution_options() would change the
    # connection itself, and every later statement of the session would use a cursor.
    result = conn.exec_driver_sql(
        f"SELECT {columns} FROM {target} ORDER BY _id",
        execution_options={"stream_results": True, "yield_per": batch},
    )
    for row in result:
        yield tuple(row)


def count_rows(conn: Connection, resource_id: str) -> int:
    target = table_ref(conn.dialect.name, resource_id)
    return int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {target}").scalar_one())


# --- read-only SQL (datastore_search_sql) ---------------------------------------------------

_LEADING_COMMENTS = re.compile(r"^\s*(?:(?:--[^\n]*\n)|(?:/\*.*?\*/)|\s)*", re.DOTALL)
_FORBIDDEN = re.compile(r"\b(set_config|pg_read\w*|pg_ls_\w+|lo_\w+|dblink\w*|pg_sleep\w*)\b", re.I)


@dataclass
class SqlResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def check_read_only_sql(sql: str) -> str:
    statement = sql.strip().rstrip(";").strip()
    if not statement:
        raise ValidationProblem(
            "SQL が空です / the SQL statement is empty", errors={"sql": ["empty"]}
        )
    body = _LEADING_COMMENTS.sub("", statement)
    first = body.split(None, 1)[0].upper() if body.split() else ""
    if first not in ("SELECT", "WITH", "VALUES", "(SELECT"):
        raise ValidationProblem(
            "読み取り専用です。SELECT 文だけが使えます / only a single read-only SELECT "
            "statement is allowed",
            errors={"sql": ["only SELECT is allowed"]},
        )
    if ";" in _strip_literals(statement):
        raise ValidationProblem(
            "SQL は1文だけにしてください / only one statement is allowed",
            errors={"sql": ["multiple statements"]},
        )
    if _FORBIDDEN.search(_strip_literals(statement)):
        raise ValidationProblem(
            "この関数は使えません / this function is not allowed in datastore_search_sql",
            errors={"sql": ["function not allowed"]},
        )
    return statement


def _strip_literals(sql: str) -> str:
    """The SQL without string literals and quoted identifiers (which may contain ';')."""
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", sql)


def run_sqlite_sql(
    database_path: str, statement: str, allowed_tables: set[str], time_limit_ms: int
) -> SqlResult:
    """Run one SELECT on a read-only connection that may read only ``allowed_tables``."""
    conn = sqlite3.connect(f"file:{database_path}?mode=ro", uri=True, timeout=5)
    deadline = time.monotonic() + time_limit_ms / 1000
    timed_out = False

    def authorizer(
        action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None
    ) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and arg1 in allowed_tables and arg2 != "_full_text":
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and arg1 in allowed_tables:
            return sqlite3.SQLITE_IGNORE  # _full_text reads as NULL
        return sqlite3.SQLITE_DENY

    def progress() -> int:
        nonlocal timed_out
        if time.monotonic() > deadline:
            timed_out = True
            return 1
        return 0

    try:
        conn.set_authorizer(authorizer)
        conn.set_progress_handler(progress, 10000)
        cursor = conn.execute(statement)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchmany(SQL_MAX_ROWS + 1)
        return SqlResult(columns, [tuple(r) for r in rows[:SQL_MAX_ROWS]], len(rows) > SQL_MAX_ROWS)
    except sqlite3.Error as exc:
        if timed_out:
            raise QueryTimeoutProblem(
                f"問い合わせが制限時間（{time_limit_ms} ms）を超えました / "
                f"the query ran longer than {time_limit_ms} ms",
                errors={"query": ["Query took too long"]},
            ) from None
        raise _sql_problem(str(exc)) from None
    finally:
        conn.close()


def run_postgres_sql(
    conn: Connection, statement: str, allowed_tables: set[str], time_limit_ms: int
) -> SqlResult:
    """Run one SELECT as the read-only reader role, in a read-only, time-limited transaction."""
    import psycopg

    raw: Any = conn.connection.driver_connection
    escaped = statement.replace("%", "%%")
    try:
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            cursor.execute(f"SET LOCAL statement_timeout = {int(time_limit_ms)}")
            cursor.execute(f"SET LOCAL search_path = {PG_SCHEMA}")
            cursor.execute(f"SET LOCAL ROLE {READER_ROLE}")
            cursor.execute("EXPLAIN (FORMAT JSON) " + escaped, ())
            plan = cursor.fetchone()[0]
            touched = _plan_relations(plan)
            outside = sorted(touched - allowed_tables)
            if outside:
                raise _sql_problem(f"permission denied for table {outside[0]}")
            cursor.execute(escaped, ())
            columns = [d.name for d in cursor.description or []]
            rows = cursor.fetchmany(SQL_MAX_ROWS + 1)
            if "_full_text" in columns:
                index = columns.index("_full_text")
                rows = [tuple(None if i == index else v for i, v in enumerate(r)) for r in rows]
            return SqlResult(
                columns, [tuple(r) for r in rows[:SQL_MAX_ROWS]], len(rows) > SQL_MAX_ROWS
            )
    except psycopg.errors.QueryCanceled:
        raise QueryTimeoutProblem(
            f"問い合わせが制限時間（{time_limit_ms} ms）を超えました / "
            f"the query ran longer than {time_limit_ms} ms",
            errors={"query": ["Query took too long"]},
        ) from None
    except psycopg.Error as exc:
        raise _sql_problem(str(exc).split("\n")[0]) from None


def _plan_relations(plan: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(plan["Relation Name"])
        for value in plan.values():
            found |= _plan_relations(value)
    elif isinstance(plan, list):
        for item in plan:
            found |= _plan_relations(item)
    return found


def _sql_problem(message: str) -> ValidationProblem:
    lowered = message.lower()
    if "not authorized" in lowered or "permission denied" in lowered or "read-only" in lowered:
        detail = (
            "公開データストアの表だけを読み取れます / only the public DataStore tables can be "
            "read, and nothing can be written"
        )
    else:
        detail = f"SQL エラー / SQL error: {message}"
    return ValidationProblem(detail, errors={"query": [message]})
