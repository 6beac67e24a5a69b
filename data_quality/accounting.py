"""Row accounting: for a set of ingest batches, per channel, what landed, loaded, was quarantined (by reason)
and was a duplicate, with the identity landed = loaded + quarantined + duplicate checked twice: as recorded by
the loader in raw.ingest_batches, and against the rows that actually sit in the warehouse (records in the
checkpoint, rows in raw.quarantine, order versions and settlement lines loaded by those batches).

Labels are the loader's: a sales channel (`meituan`), `replay/<channel>` for replayed quarantined records,
`settlement/<channel>` and `reference/<table>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from data_quality.quarantine import quarantine_status_sql

# The loader's label of a landing path (kind/source/day/name), in SQL.
_PATH_LABEL = """
    CASE split_part({p}, '/', 1)
        WHEN 'reference' THEN 'reference/' || split_part({p}, '/', 2)
        WHEN 'settlements' THEN 'settlement/' || split_part({p}, '/', 2)
        ELSE CASE WHEN starts_with(split_part({p}, '/', 4), 'replay-') THEN 'replay/' ELSE '' END || split_part({p}, '/', 2)
    END
"""


def path_label(column: str) -> str:
    return _PATH_LABEL.format(p=column)


@dataclass(frozen=True)
class ChannelAccount:
    label: str
    batches: int
    files: int
    landed: int
    loaded: int
    quarantined: int
    duplicate: int
    unbalanced_batches: int  # batch rows where the recorded counts do not add up
    landed_in_checkpoint: int  # Σ records of the files these batches checkpointed
    quarantine_rows: int  # rows in raw.quarantine from these batches
    loaded_rows: int | None  # order versions / settlement lines written by these batches; None for reference data

    @property
    def balanced(self) -> bool:
        return self.unbalanced_batches == 0 and self.landed == self.loaded + self.quarantined + self.duplicate

    @property
    def mismatches(self) -> list[str]:
        out = []
        if self.landed != self.landed_in_checkpoint:
            out.append(f"landed {self.landed} but the checkpoint holds {self.landed_in_checkpoint} records")
        if self.quarantined != self.quarantine_rows:
            out.append(f"quarantined {self.quarantined} but raw.quarantine holds {self.quarantine_rows} rows")
        if self.loaded_rows is not None and self.loaded != self.loaded_rows:
            out.append(f"loaded {self.loaded} but {self.loaded_rows} rows were written")
        return out


@dataclass(frozen=True)
class Reason:
    label: str
    error_code: str
    quarantined: int
    open: int
    resolved: int
    replay_failed: int


@dataclass
class Report:
    batches: list[str]
    channels: list[ChannelAccount] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    other_days: list[str] = field(default_factory=list)  # days of other files the selected batches also loaded

    @property
    def identity_holds(self) -> bool:
        return all(c.balanced and not c.mismatches for c in self.channels)

    def totals(self, *, orders_only: bool = True) -> dict[str, int]:
        rows = [c for c in self.channels if not orders_only or "/" not in c.label or c.label.startswith("replay/")]
        return {k: sum(getattr(c, k) for c in rows) for k in ("landed", "loaded", "quarantined", "duplicate")}


def select_batches(con: duckdb.DuckDBPyConnection, *, date: str | None = None, batch: str | None = None) -> list[str]:
    if batch:
        return [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT batch_id FROM raw.ingest_batches WHERE batch_id = ?", [batch]
            ).fetchall()
        ]
    if date:
        return [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT batch_id FROM raw.ingest_files WHERE split_part(path, '/', 3) = ? ORDER BY 1", [date]
            ).fetchall()
        ]
    return [r[0] for r in con.execute("SELECT DISTINCT batch_id FROM raw.ingest_batches ORDER BY 1").fetchall()]


def collect(con: duckdb.DuckDBPyConnection, *, date: str | None = None, batch: str | None = None) -> Report:
    """The accounting of the batches that loaded `date`'s files (or one batch, or every batch)."""
    batches = select_batches(con, date=date, batch=batch)
    report = Report(batches)
    if not batches:
        return report
    sel = "(SELECT unnest($batches::VARCHAR[]))"
    params = {"batches": batches}
    rows = con.execute(
        f"""
        WITH recorded AS (
            SELECT channel AS label, count(DISTINCT batch_id) AS batches, sum(files) AS files, sum(landed) AS landed,
                   sum(loaded) AS loaded, sum(quarantined) AS quarantined, sum(duplicate) AS duplicate,
                   count(*) FILTER (WHERE landed IS DISTINCT FROM loaded + quarantined + duplicate) AS unbalanced
            FROM raw.ingest_batches WHERE batch_id IN {sel} GROUP BY channel
        ), checkpoint AS (
            SELECT {path_label("path")} AS label, sum(records) AS records
            FROM raw.ingest_files WHERE batch_id IN {sel} GROUP BY 1
        ), quarantined AS (
            SELECT channel AS label, count(*) AS n
            FROM raw.quarantine WHERE batch_id IN {sel} GROUP BY 1
        ), loaded AS (
            SELECT CASE WHEN starts_with(split_part(source_file, '/', 4), 'replay-') THEN 'replay/' ELSE '' END
                       || split_part(order_key, ':', 1) AS label, count(*) AS n
            FROM raw.order_versions WHERE batch_id IN {sel} GROUP BY 1
            UNION ALL
            SELECT 'settlement/' || channel, count(*)
            FROM raw.settlement_lines WHERE batch_id IN {sel} GROUP BY 1
        )
        SELECT r.label, r.batches, r.files, r.landed, r.loaded, r.quarantined, r.duplicate, r.unbalanced,
               coalesce(c.records, 0), coalesce(q.n, 0),
               CASE WHEN starts_with(r.label, 'reference/') THEN NULL ELSE coalesce(l.n, 0) END
        FROM recorded r
        LEFT JOIN checkpoint c USING (label) LEFT JOIN quarantined q USING (label) LEFT JOIN loaded l USING (label)
        ORDER BY starts_with(r.label, 'reference/'), starts_with(r.label, 'settlement/'), r.label
    """,
        params,
    ).fetchall()
    report.channels = [ChannelAccount(*(row[0], *(int(v) if v is not None else None for v in row[1:]))) for row in rows]
    report.reasons = [
        Reason(*row)
        for row in con.execute(
            f"""
        SELECT channel, error_code, count(*), count(*) FILTER (WHERE status = 'open'),
               count(*) FILTER (WHERE status = 'resolved'), count(*) FILTER (WHERE status = 'replay_failed')
        FROM ({quarantine_status_sql()}) WHERE batch_id IN {sel}
        GROUP BY channel, error_code
        ORDER BY starts_with(channel, 'reference/'), starts_with(channel, 'settlement/'), channel, 3 DESC, 2
    """,
            params,
        ).fetchall()
    ]
    if date:
        report.other_days = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT split_part(path, '/', 3) FROM raw.ingest_files "
                f"WHERE batch_id IN {sel} AND split_part(path, '/', 3) <> $date ORDER BY 1",
                {**params, "date": date},
            ).fetchall()
        ]
    return report
