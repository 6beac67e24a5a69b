"""Which parcel each packable item goes in: the split half of merge-and-split.

Input: int_parcels__items (one row per item: an order line, or a quantity chunk of a line too big for one
parcel). Items are packed per (merge_group_id, travel_group): different travel groups never share a
parcel. Output: every column of int_parcels__items (so the marts read this table alone) plus the item's parcel_no
(1..n within the merge group and travel group), the packing facts of its group, and
order_alone_parcels: the parcels the item's order's items of that travel group would need packed on their
own, by the same rules (what splitting costs without merging; fct_merge_savings_daily compares the two).

* Fast path, in SQL: a (merge group, travel group) whose items together fit one parcel, with no oversize
  unit, is parcel 1. That is nearly every group, and it never leaves DuckDB.
* Over-limit groups are fetched into Python and packed as two-dimensional bin packing (weight and
  volume, limits from vars parcel_max_weight_g / parcel_max_volume_ml passed through the model's meta):
  - an oversize unit (one unit over a limit, flagged by int_parcels__items) gets a parcel of its own;
  - the rest: first-fit decreasing, run twice (items sorted by weight, then by their larger share of
    either limit) and the better kept;
  - lower bound = max(ceil(sum w / W), ceil(sum v / V), items over half the weight limit, items over
    half the volume limit) (two such items can never share a parcel); FFD at the bound is minimal;
  - above the bound with at most EXACT_MAX_ITEMS (10) items: exact branch-and-bound search for the fewest
    parcels (node budget per group); a completed search is a proof of minimality too.
  is_proven_minimal says whether the parcel count is proven the fewest for these items; lines that fit
  are kept whole, so "fewest" is over whole lines and the chunks int_parcels__items made.

Deterministic: items are ordered by size, then (order_key, line_no, chunk_no); parcels are numbered in
the order the packer opened them; oversize parcels come last.

dbt-duckdb runs this in the dbt process: `dbt.ref()` returns a DuckDB relation and `session` is the
DuckDB connection; the returned relation is written as the table.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

EXACT_MAX_ITEMS = 10
EXACT_NODE_BUDGET = 200_000


def _first_fit(order: list[int], w: list[int], v: list[int], cap_w: int, cap_v: int) -> list[list[int]]:
    """First fit over the items in `order`: each goes into the first open parcel it fits, else a new one."""
    bins: list[list[int]] = []
    room: list[list[int]] = []
    for i in order:
        for b, r in enumerate(room):
            if w[i] <= r[0] and v[i] <= r[1]:
                r[0] -= w[i]
                r[1] -= v[i]
                bins[b].append(i)
                break
        else:
            bins.append([i])
            room.append([cap_w - w[i], cap_v - v[i]])
    return bins


def _exact(
    order: list[int], w: list[int], v: list[int], cap_w: int, cap_v: int, lower: int, bins_max: int, budget: int
) -> tuple[list[list[int]] | None, bool]:
    """Fewest parcels for the items by depth-first search over lower..bins_max parcels.

    Items are placed in `order` (largest first); an item goes into an open parcel or opens ONE new one (all
    empty parcels are alike). Returns (parcels of the smallest feasible count or None, completed):
    (None, True) proves no packing with at most `bins_max` parcels exists; (None, False) means the node
    budget ran out and nothing is proven.
    """
    n = len(order)
    total_w = sum(w[i] for i in order)
    total_v = sum(v[i] for i in order)
    nodes = 0

    def search(k: int) -> list[list[int]] | None:
        nonlocal nodes
        room_w = [0] * k
        room_v = [0] * k
        bins: list[list[int]] = [[] for _ in range(k)]

        def place(pos: int, used: int, left_w: int, left_v: int) -> bool:
            nonlocal nodes
            nodes += 1
            if nodes > budget:
                raise TimeoutError
            if pos == n:
                return True
            # What is left must fit the room of open parcels plus the parcels not yet opened.
            if left_w > sum(room_w[:used]) + (k - used) * cap_w or left_v > sum(room_v[:used]) + (k - used) * cap_v:
                return False
            i = order[pos]
            for b in range(used):
                if w[i] <= room_w[b] and v[i] <= room_v[b]:
                    room_w[b] -= w[i]
                    room_v[b] -= v[i]
                    bins[b].append(i)
                    if place(pos + 1, used, left_w - w[i], left_v - v[i]):
                        return True
                    bins[b].pop()
                    room_w[b] += w[i]
                    room_v[b] += v[i]
            if used < k:
                room_w[used] = cap_w - w[i]
                room_v[used] = cap_v - v[i]
                bins[used].append(i)
                if place(pos + 1, used + 1, left_w - w[i], left_v - v[i]):
                    return True
                bins[used].pop()
            return False

        return [b for b in bins if b] if place(0, 0, total_w, total_v) else None

    try:
        for k in range(lower, bins_max + 1):
            found = search(k)
            if found is not None:
                return found, True
    except TimeoutError:
        return None, False
    return None, True


def pack_group(
    w: list[int], v: list[int], oversize: list[bool], keys: list[tuple], cap_w: int, cap_v: int
) -> tuple[list[int], int, bool, str]:
    """Pack one (merge group, travel group). Returns (parcel_no per item, lower bound, proven, method)."""
    n = len(w)
    normal = [i for i in range(n) if not oversize[i]]
    big = sorted((i for i in range(n) if oversize[i]), key=lambda i: keys[i])
    parcel_of = [0] * n
    proven = True
    method = "ffd"
    bins: list[list[int]] = []
    lower = 0
    if normal:
        by_weight = sorted(normal, key=lambda i: (-w[i], -v[i], keys[i]))
        by_share = sorted(normal, key=lambda i: (-max(w[i] / cap_w, v[i] / cap_v), -w[i], -v[i], keys[i]))
        bins = _first_fit(by_weight, w, v, cap_w, cap_v)
        other = _first_fit(by_share, w, v, cap_w, cap_v)
        if len(other) < len(bins):
            bins = other
        sum_w = sum(w[i] for i in normal)
        sum_v = sum(v[i] for i in normal)
        lower = max(
            math.ceil(sum_w / cap_w),
            math.ceil(sum_v / cap_v),
            sum(1 for i in normal if 2 * w[i] > cap_w),
            sum(1 for i in normal if 2 * v[i] > cap_v),
            1,
        )
        if len(bins) > lower:
            proven = False
            if len(normal) <= EXACT_MAX_ITEMS:
                found, completed = _exact(by_weight, w, v, cap_w, cap_v, lower, len(bins) - 1, EXACT_NODE_BUDGET)
                if found is not None:
                    bins = found
                # A completed search either found fewer parcels or proved FFD's count is the minimum.
                method = "exact" if completed else "ffd"
                proven = completed
    for b, members in enumerate(bins, start=1):
        for i in members:
            parcel_of[i] = b
    for j, i in enumerate(big, start=len(bins) + 1):
        parcel_of[i] = j
    return parcel_of, lower + len(big), proven, method if normal else "oversize_only"


def _parcels_needed(w: list[int], v: list[int], oversize: list[bool], keys: list[tuple], cap_w: int, cap_v: int) -> int:
    """Parcels one set of items needs under the same rules (1 when it fits one parcel)."""
    if sum(w) <= cap_w and sum(v) <= cap_v and not any(oversize):
        return 1
    return max(pack_group(w, v, oversize, keys, cap_w, cap_v)[0])


def _pending(model_name: str) -> str:
    return (
        "select batch_id from raw.ingest_batches "
        f"except select batch_id from pipeline.model_batches where model = '{model_name}'"
    )


def _touched_addresses(model_name: str) -> str:
    """The addresses this model owes a rebuild: macros/incremental.sql's touched_addresses(), which a Python
    model cannot call; tests/dbt/test_incremental_equivalence.py holds both to a full rebuild."""
    pending = _pending(model_name)
    return f"""
        select distinct address_key from raw.order_history
        where address_key is not null and order_key in (
            select order_key from raw.order_history where batch_id in ({pending})
            union
            select order_key from raw.order_events where batch_id in ({pending}))
    """


def _items_touched_literals(session, model_name: str) -> tuple[str | None, int | None]:
    """The addresses int_parcels__items rebuilt in its latest run, as a SQL literal list ('' for none), and that
    run's number (macros/rebuilt_seq.sql), when that run consumed every batch this model still owes, as it does
    whenever both run in one invocation; else (None, None). DuckDB pushes a literal list into the scans of the
    delete and of the items, where the subquery of _touched_addresses reads all of history
    (macros/batch_keys.sql)."""
    touched = "pipeline.int_parcels__items__touched"
    exists = session.execute(
        "select count(*) from duckdb_tables() "
        "where schema_name = 'pipeline' and table_name = 'int_parcels__items__touched'"
    ).fetchone()[0]
    if not exists:
        return None
    uncovered, literals, rebuilt_seq = session.execute(f"""
        select
            (select count(*) from ({_pending(model_name)}) as owed where batch_id not in (
                select batch_id from pipeline.model_batches
                where model = 'int_parcels__items'
                    and invocation_id = (select any_value(invocation_id) from {touched}))),
            (select coalesce(string_agg('''' || replace(address_key, '''', '''''') || '''', ', '), '')
             from {touched}),
            (select seq from pipeline.invocations
             where invocation_id = (select any_value(invocation_id) from {touched}))
    """).fetchone()
    if uncovered:
        return None, None
    return literals, rebuilt_seq


def model(dbt, session):
    # Incremental by address, as int_parcels__items (macros/incremental.sql); the post-hook in
    # _parcels__models.yml records the batches consumed.
    dbt.config(materialized="incremental", incremental_strategy="append", on_schema_change="fail")
    # dbt reads these calls statically: the keys must be literals.
    limits = {
        "parcel_max_weight_g": dbt.config.meta_get("parcel_max_weight_g"),
        "parcel_max_volume_ml": dbt.config.meta_get("parcel_max_volume_ml"),
    }
    missing = [key for key, value in limits.items() if value in (None, "")]
    if missing:
        raise ValueError(
            f"int_parcels__assignments: meta {', '.join(missing)} missing; it is set from vars in "
            "models/intermediate/parcels/_parcels__models.yml (run dbt with --vars from config/rules.yml)"
        )
    cap_w = int(limits["parcel_max_weight_g"])
    cap_v = int(limits["parcel_max_volume_ml"])

    items = dbt.ref("int_parcels__items")
    if dbt.is_incremental:
        by_address = str(dbt.config.meta_get("merges_by_address")).lower() == "true"
        touched = items_filter = None
        if by_address:
            literals, items_seq = _items_touched_literals(session, dbt.this.identifier)
            if literals is not None:
                touched = f"address_key in ({literals})" if literals else "false"
                if literals and items_seq is not None:
                    # That run rewrote every item at these addresses, so the items written before it can be
                    # skipped a row group at a time. Not in the delete: this table's rows carry its own numbers.
                    items_filter = f"{touched} and rebuilt_seq >= {items_seq}"
            else:
                # Once, not per use: the set is read by the delete and by the filter.
                session.execute(f"create or replace temp table __touched as {_touched_addresses(dbt.this.identifier)}")
                touched = "address_key in (select address_key from __touched)"
        session.execute(f"delete from {dbt.this}" + (f" where {touched}" if touched else ""))
        if touched:
            items = items.filter(items_filter or touched)
    items.create_view("__parcel_items", replace=True)
    session.execute(f"""
        create or replace temp table __parcel_groups as
        select
            merge_group_id,
            travel_group,
            sum(weight_g) > {cap_w} or sum(volume_ml) > {cap_v} or bool_or(oversize_unit) as needs_packing
        from __parcel_items
        group by merge_group_id, travel_group
    """)

    # Only the over-limit groups come into Python, ordered so each group is one contiguous run.
    slow = session.sql("""
        select i.*
        from __parcel_items i
        semi join (select merge_group_id, travel_group from __parcel_groups where needs_packing) g
            on g.merge_group_id = i.merge_group_id and g.travel_group = i.travel_group
        order by i.merge_group_id, i.travel_group, i.order_key, i.line_no, i.chunk_no
    """).to_arrow_table()

    n = slow.num_rows
    parcel_no = np.zeros(n, dtype=np.int32)
    parcels = np.zeros(n, dtype=np.int32)
    lower_bound = np.zeros(n, dtype=np.int32)
    proven = np.zeros(n, dtype=bool)
    method = np.empty(n, dtype=object)
    alone = np.zeros(n, dtype=np.int32)
    if n:
        mg = slow.column("merge_group_id").to_pylist()
        tg = slow.column("travel_group").to_pylist()
        ok = slow.column("order_key").to_pylist()
        ln = slow.column("line_no").to_pylist()
        ch = slow.column("chunk_no").to_pylist()
        w_all = slow.column("weight_g").to_pylist()
        v_all = slow.column("volume_ml").to_pylist()
        big_all = slow.column("oversize_unit").to_pylist()
        start = 0
        for end in range(1, n + 1):
            if end < n and mg[end] == mg[start] and tg[end] == tg[start]:
                continue
            keys = [(ok[i], ln[i], ch[i]) for i in range(start, end)]
            got, lower, is_proven, how = pack_group(
                w_all[start:end], v_all[start:end], big_all[start:end], keys, cap_w, cap_v
            )
            parcel_no[start:end] = got
            parcels[start:end] = max(got)
            lower_bound[start:end] = lower
            proven[start:end] = is_proven
            method[start:end] = how
            # What the same rules give each order of the group on its own (for the savings mart).
            sub = start
            for stop in range(start + 1, end + 1):
                if stop < end and ok[stop] == ok[sub]:
                    continue
                if sub == start and stop == end:
                    alone[sub:stop] = max(got)
                else:
                    alone[sub:stop] = _parcels_needed(
                        w_all[sub:stop],
                        v_all[sub:stop],
                        big_all[sub:stop],
                        keys[sub - start : stop - start],
                        cap_w,
                        cap_v,
                    )
                sub = stop
            start = end

    packed = slow
    for name, values, kind in (
        ("parcel_no", parcel_no, pa.int32()),
        ("parcels_in_travel_group", parcels, pa.int32()),
        ("lower_bound_parcels", lower_bound, pa.int32()),
        ("is_proven_minimal", proven, pa.bool_()),
        ("packing_method", method.tolist(), pa.string()),
        ("order_alone_parcels", alone, pa.int32()),
    ):
        packed = packed.append_column(name, pa.array(values, type=kind))
    session.register("__parcel_packed", packed)

    # Every column of int_parcels__items is carried through, so the marts read this table alone; rebuilt_seq is
    # this model's own (macros/rebuilt_seq.sql): its readers bound it by this model's ledger, not the items'.
    return session.sql("""
        select * replace ((select max(seq) from pipeline.invocations) as rebuilt_seq)
        from (
        select
            i.*,
            1::integer as parcel_no,
            1::integer as parcels_in_travel_group,
            1::integer as lower_bound_parcels,
            true as is_proven_minimal,
            'fits_one' as packing_method,
            1::integer as order_alone_parcels
        from __parcel_items i
        semi join (select merge_group_id, travel_group from __parcel_groups where not needs_packing) g
            on g.merge_group_id = i.merge_group_id and g.travel_group = i.travel_group
        union all by name
        select * from __parcel_packed
        )
    """)
