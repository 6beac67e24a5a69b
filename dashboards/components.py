"""Rendering pieces every page shares: the page frame (settings, refresh, snapshot state), the snapshot stamps
(a caption on most pages; "last updated", large, on the live page), the "no data yet" message, masked tables,
charts and filters.

Tables are built with :func:`frame`, which passes every cell through :func:`dashboards.masking.mask_cell`:
no page can show an unmasked phone number, whatever column it turns up in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import duckdb
import pandas as pd
import streamlit as st

from dashboards import settings, snapshot
from dashboards.formatting import format_age, format_count, format_time
from dashboards.i18n import Lang, t
from dashboards.masking import mask_cell
from dashboards.queries.clickhouse import ClickHouseStore, StoreUnreadable
from dashboards.queries.live import LiveData
from dashboards.queries.reader import LOCAL_OFFSET, Row, SnapshotMeta, Source
from dashboards.ui import current_lang, wall_mode

T = TypeVar("T")


def run_page(title_key: str, body: Callable[[Source, Lang, float], None]) -> None:
    """The frame of a page: title, settings check, then ``body(source, lang, refresh)`` re-run every
    ``ORDERHUB_REFRESH_SECONDS`` (filters live inside the body, so picking one reruns only the body)."""
    lang = current_lang()
    st.title(t(title_key, lang))
    try:
        refresh = settings.refresh_seconds()
        settings.stale_after_seconds()
    except settings.SettingsError as exc:
        st.error(str(exc))
        return
    source = serving_source()

    @st.fragment(run_every=refresh)
    def panel() -> None:
        body(source, lang, refresh)

    panel()


def serving_source() -> Source:
    """Where the pages read: the snapshot's copy in ClickHouse when ``ORDERHUB_CLICKHOUSE_DSN`` is set, else the
    snapshot file."""
    dsn = settings.clickhouse_dsn()
    return ClickHouseStore(dsn) if dsn else settings.serving_path()


def load(source: Source, page: str, lang: Lang, **params: Any) -> Any | None:
    """The page's data from the snapshot, or None after telling the user why there is none (no snapshot yet:
    info; unreadable file or store: error naming it)."""
    return _loaded(lambda: snapshot.load_page(source, page, **params), source, lang)


def load_live(source: Source, lang: Lang) -> LiveData | None:
    """The live page's data, or None after saying why, as :func:`load`."""
    return _loaded(lambda: snapshot.load_live(source), source, lang)


def _loaded(read: Callable[[], T | None], source: Source, lang: Lang) -> T | None:
    try:
        data = read()
    except (duckdb.Error, StoreUnreadable) as exc:
        st.error(t("snapshot.unreadable", lang, path=source, error=exc))
        return None
    if data is None:
        st.info(t("snapshot.missing", lang, path=source))
    return data


def stamp(meta: SnapshotMeta | None, lang: Lang, refresh: float, now: datetime | None = None) -> None:
    """One caption: when the snapshot was published (Shanghai time) and how long ago; red when stale."""
    published = meta.published_at if meta else None
    if published is None:
        st.caption(f":red[{t('stamp.unknown', lang)}]")
        return
    age = _age(published, now)
    text = t(
        "snapshot.published",
        lang,
        published=format_time(to_local(published)),
        age=format_age(age, lang),
        run_id=_run_id(meta),
        refresh=f"{refresh:g}",
    )
    st.caption(f":red[{text}]" if _is_stale(age) else text)
    stale_parts(meta, lang)


def live_stamp(meta: SnapshotMeta | None, lang: Lang, refresh: float, now: datetime | None = None) -> None:
    """The live page's stamp, read from across the room: "last updated N s ago" in large type (a heading in
    big-screen mode; red and bold when stale), then the run, the newest order and the refresh interval."""
    published = meta.published_at if meta else None
    if published is None:
        st.markdown(f":red[{t('stamp.unknown', lang)}]")
    else:
        age = _age(published, now)
        text = t("stamp.updated", lang, age=format_age(age, lang))
        # On the wall the stamp is a heading: "is this screen live?" must be answerable from across the room.
        heading = "#### " if wall_mode() else ""
        st.markdown(heading + (f":red[**{text}**]" if _is_stale(age) else text))
    latest = meta.latest_order_at if meta else None
    st.caption(
        t(
            "stamp.details",
            lang,
            run_id=_run_id(meta),
            latest_order=format_time(to_local(latest)),
            refresh=f"{refresh:g}",
        )
    )
    stale_parts(meta, lang)


def to_local(value: datetime | None) -> datetime | None:
    """A naive UTC time of the snapshot as Shanghai wall time (UTC+8 all year)."""
    return None if value is None else value + LOCAL_OFFSET


def _age(published: datetime, now: datetime | None) -> float:
    return ((now or datetime.now(UTC).replace(tzinfo=None)) - published).total_seconds()


def _is_stale(age: float) -> bool:
    return age > settings.stale_after_seconds()


def _run_id(meta: SnapshotMeta | None) -> str:
    return f"`{((meta.run_id if meta else None) or '—').replace('`', '')}`"


def stale_parts(meta: SnapshotMeta | None, lang: Lang) -> None:
    """A warning per part the last run could not refresh (its step failed): what is shown is as of an earlier run.
    When every part was refreshed but the run still failed (an ERROR check on the batch), one warning says why."""
    if meta and meta.run_problems and not meta.stale_parts:
        st.warning(t("run.failed_refreshed", lang, problem=meta.run_problems[:300]))
    for part in meta.stale_parts if meta else ():
        as_of = format_time(to_local(part.as_of)) if part.as_of else t("stale.never", lang)
        st.warning(
            t(
                "stale.part",
                lang,
                part=t(f"stale.part.{part.part}", lang),
                as_of=as_of,
                problem=(part.problem or "")[:300],
            )
        )


def missing_tables(missing: Sequence[str], producer_key: str, lang: Lang) -> bool:
    """Say which tables the snapshot lacks and what will produce them; True when something is missing."""
    if not missing:
        return False
    st.info(
        t("snapshot.tables_missing", lang, tables=", ".join(f"`{m}`" for m in missing), producer=t(producer_key, lang))
    )
    return True


def frame(rows: Iterable[Row], lang: Lang, columns: dict[str, Callable[[Row], object]]) -> pd.DataFrame:
    """A display table: one column per ``{text key: cell function}``, every cell masked."""
    rows_ = list(rows)
    return pd.DataFrame(
        {t(key, lang): [mask_cell(cell(r)) for r in rows_] for key, cell in columns.items()}, dtype=object
    )


def table(data: pd.DataFrame, lang: Lang, *, limit: int | None = None) -> None:
    """Show a display table, or "no data"; say so when a bounded list was cut at ``limit`` rows."""
    if data.empty:
        st.caption(t("no_data", lang))
        return
    st.dataframe(data, hide_index=True, width="stretch")
    if limit is not None and len(data) >= limit:
        st.caption(t("list.truncated", lang, n=format_count(limit)))


def bar_chart(data: pd.DataFrame, lang: Lang, *, stack: bool | str = True, height: int | str = "content") -> None:
    """A long-format frame (x, series, y) as a bar chart; "no data" when empty."""
    if data.empty:
        st.caption(t("no_data", lang))
        return
    x, color, y = data.columns
    st.bar_chart(data, x=x, y=y, color=color, stack=stack, height=height)


def choose(
    label_key: str,
    options: Sequence[T],
    lang: Lang,
    *,
    key: str,
    all_key: str | None = None,
    format_option: Callable[[T], str] = str,
) -> T | None:
    """A select box over ``options``; with ``all_key`` the first choice is "all" (returns None)."""
    choices: list[T | None] = ([None] if all_key else []) + list(options)
    if not choices:
        return None

    def show(option: T | None) -> str:
        return t(all_key, lang) if option is None and all_key else format_option(option)  # type: ignore[arg-type]

    if st.session_state.get(key) not in choices:
        st.session_state.pop(key, None)
    return st.selectbox(t(label_key, lang), choices, format_func=show, key=key)


def yes_no(value: bool | None, lang: Lang) -> str:
    return "—" if value is None else t("yes" if value else "no", lang)
