"""User-facing text in Chinese (the default) and English. Code, keys and data values stay English.

``t(key, lang, **values)`` looks a text up and fills its ``{placeholders}``; ``label(kind, code, lang)``
translates a data code (channel, exception type, ...) and falls back to the code itself for codes it does
not know, so a new value in the data shows up rather than breaking the page.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"

TEXT: dict[str, dict[Lang, str]] = {
    # navigation
    "app.title": {"zh": "订单中台", "en": "orderhub"},
    "nav.operations": {"zh": "运营", "en": "Operations"},
    "page.live": {"zh": "实时运营", "en": "Live operations"},
    # snapshot state
    "snapshot.missing": {
        "zh": "还没有可用的数据快照（{path}）。流水线第一次运行完成后，本页会自动显示数据。",
        "en": "No data snapshot yet ({path}). This page shows data as soon as the pipeline's first run has finished.",
    },
    "snapshot.unreadable": {
        "zh": "无法读取数据快照 {path}：{error}。请检查流水线的 serving 发布步骤；本页会自动重试。",
        "en": "Cannot read the data snapshot {path}: {error}. Check the pipeline's serving publish step; "
        "this page retries automatically.",
    },
    "snapshot.no_orders": {
        "zh": "数据快照中还没有订单。",
        "en": "The data snapshot holds no orders yet.",
    },
    "stamp.updated": {"zh": "最后更新：{age}", "en": "Last updated {age}"},
    "stamp.unknown": {"zh": "最后更新：未知", "en": "Last updated: unknown"},
    "stamp.details": {
        "zh": "运行 {run_id} · 最新订单 {latest_order} · 每 {refresh} 秒自动刷新",
        "en": "Run {run_id} · latest order {latest_order} · refreshes every {refresh} s",
    },
    "age.seconds": {"zh": "{n} 秒前", "en": "{n} s ago"},
    "age.minutes": {"zh": "{n} 分钟前", "en": "{n} min ago"},
    "age.hours": {"zh": "{n} 小时前", "en": "{n} h ago"},
    # live page
    "live.business_day": {"zh": "营业日 {date}", "en": "Business day {date}"},
    "intake.title": {"zh": "实时接入（近 {n} 分钟，秒级）", "en": "Live intake (last {n} minutes, seconds behind)"},
    "intake.orders_minute": {"zh": "本分钟订单", "en": "Orders this minute"},
    "intake.orders": {"zh": "订单", "en": "Orders"},
    "intake.units_reserved": {"zh": "锁定件数", "en": "Units reserved"},
    "intake.refused_short": {"zh": "缺货拒单", "en": "Refused: out of stock"},
    "intake.accepted_short": {"zh": "缺货接单", "en": "Accepted short"},
    "intake.released": {"zh": "释放（取消）", "en": "Released (cancelled)"},
    "intake.rate_limited": {"zh": "限流", "en": "Rate limited"},
    "intake.channel": {"zh": "渠道", "en": "Channel"},
    "tile.orders": {"zh": "订单数", "en": "Orders"},
    "tile.paid_amount": {"zh": "实付金额", "en": "Paid amount"},
    "tile.cancel_rate": {"zh": "取消率", "en": "Cancellation rate"},
    "tile.exceptions": {"zh": "异常数", "en": "Exceptions"},
    "tile.loaded": {"zh": "已入库记录", "en": "Records loaded"},
    "tile.quarantined": {"zh": "隔离记录", "en": "Records quarantined"},
    "help.cancel_rate": {"zh": "已取消 {n} 单", "en": "{n} orders cancelled"},
    "help.exceptions": {
        "zh": "本营业日（北京时间）开始以来产生的异常",
        "en": "Exceptions raised since this business day began (Beijing time)",
    },
    "help.loaded": {
        "zh": "本营业日开始以来的订单渠道批次：落地 {landed} 条，重复 {duplicate} 条",
        "en": "Order-channel batches since this business day began: {landed} landed, {duplicate} duplicates",
    },
    "help.quarantined": {"zh": "隔离率 {rate}（占落地记录）", "en": "{rate} of landed records"},
    "ingest.unbalanced": {
        "zh": "有 {n} 个导入批次记账不平衡（落地 ≠ 入库 + 隔离 + 重复），请检查流水线日志。",
        "en": "{n} ingest batches do not balance (landed ≠ loaded + quarantined + duplicate); check the pipeline logs.",
    },
    "section.orders_over_time": {"zh": "各渠道订单趋势", "en": "Orders per channel over time"},
    "chart.hourly": {"zh": "按小时", "en": "Per hour"},
    "chart.recent": {"zh": "最近 {n} 分钟（按分钟）", "en": "Last {n} minutes (per minute)"},
    "section.channels": {"zh": "渠道明细", "en": "Channels"},
    "section.ingest": {"zh": "入库与隔离（按渠道）", "en": "Loaded vs quarantined per channel"},
    "ingest.reference": {
        "zh": "参考数据（{batches} 个批次）：落地 {landed}，入库 {loaded}，隔离 {quarantined}，重复 {duplicate}",
        "en": "Reference data ({batches} batches): {landed} landed, {loaded} loaded, {quarantined} quarantined, "
        "{duplicate} duplicates",
    },
    "ingest.settlement": {
        "zh": "结算对账单（{batches} 个批次）：落地 {landed}，入库 {loaded}，隔离 {quarantined}，重复 {duplicate}",
        "en": "Settlement statements ({batches} batches): {landed} landed, {loaded} loaded, {quarantined} quarantined, "
        "{duplicate} duplicates",
    },
    "section.quarantine": {"zh": "主要隔离原因", "en": "Top quarantine reasons"},
    "section.exceptions": {"zh": "最新异常", "en": "Newest exceptions"},
    "no_data": {"zh": "暂无数据", "en": "No data"},
    # column headers
    "col.channel": {"zh": "渠道", "en": "Channel"},
    "col.time": {"zh": "时间", "en": "Time"},
    "col.hour": {"zh": "小时", "en": "Hour"},
    "col.minute": {"zh": "分钟", "en": "Minute"},
    "col.orders": {"zh": "订单数", "en": "Orders"},
    "col.paid_amount": {"zh": "实付金额", "en": "Paid amount"},
    "col.cancelled": {"zh": "已取消", "en": "Cancelled"},
    "col.cancel_rate": {"zh": "取消率", "en": "Cancel rate"},
    "col.delivery": {"zh": "配送", "en": "Delivery"},
    "col.self_pickup": {"zh": "自提", "en": "Self-pickup"},
    "col.in_store": {"zh": "到店", "en": "In-store"},
    "col.batches": {"zh": "批次", "en": "Batches"},
    "col.landed": {"zh": "落地", "en": "Landed"},
    "col.loaded": {"zh": "入库", "en": "Loaded"},
    "col.quarantined": {"zh": "隔离", "en": "Quarantined"},
    "col.duplicate": {"zh": "重复", "en": "Duplicate"},
    "col.quarantine_rate": {"zh": "隔离率", "en": "Quarantine rate"},
    "col.error_code": {"zh": "原因代码", "en": "Error code"},
    "col.records": {"zh": "记录数", "en": "Records"},
    "col.first_at": {"zh": "首次出现", "en": "First seen"},
    "col.last_at": {"zh": "最近出现", "en": "Last seen"},
    "col.raised_at": {"zh": "发生时间", "en": "Raised at"},
    "col.exception_type": {"zh": "类型", "en": "Type"},
    "col.severity": {"zh": "级别", "en": "Severity"},
    "col.store": {"zh": "门店", "en": "Store"},
    "col.order_key": {"zh": "订单号", "en": "Order key"},
    "col.action": {"zh": "处理动作", "en": "Action"},
    "col.detail": {"zh": "详情", "en": "Detail"},
    # --- pages beyond the live page ---
    "nav.inventory": {"zh": "库存", "en": "Inventory"},
    "nav.dispatch": {"zh": "配送", "en": "Dispatch"},
    "nav.finance": {"zh": "财务", "en": "Finance"},
    "nav.quality": {"zh": "数据质量", "en": "Data quality"},
    "page.exceptions": {"zh": "异常处理", "en": "Exceptions"},
    "page.parcels": {"zh": "合单与包裹", "en": "Merging and parcels"},
    "page.stock": {"zh": "库存与超卖", "en": "Stock and oversells"},
    "page.dispatch": {"zh": "骑手调度地图", "en": "Rider dispatch map"},
    "page.reconciliation": {"zh": "渠道对账", "en": "Settlement reconciliation"},
    "page.quality": {"zh": "数据质量", "en": "Data quality"},
    "stale.part": {
        "zh": "{part}未随本次运行更新，显示的是截至 {as_of}（北京时间）的数据：{problem}",
        "en": "{part} was not refreshed by the last run; shown as of {as_of} (Beijing time): {problem}",
    },
    "run.failed_refreshed": {
        "zh": "上次运行失败，但数据均已更新（已加载并标记问题订单）：{problem}",
        "en": "The last run failed, though everything shown was refreshed (the orders at fault are loaded and "
        "flagged): {problem}",
    },
    "stale.never": {"zh": "从未生成", "en": "never built"},
    "stale.part.marts": {"zh": "订单、异常与库存", "en": "Orders, exceptions and stock"},
    "stale.part.dispatch": {"zh": "配送计划", "en": "The dispatch plan"},
    "snapshot.published": {
        "zh": "数据快照发布于 {published}（{age}）· 运行 {run_id} · 每 {refresh} 秒自动刷新",
        "en": "Snapshot published {published} ({age}) · run {run_id} · refreshes every {refresh} s",
    },
    "snapshot.tables_missing": {
        "zh": "暂无数据：数据快照中还没有 {tables}。{producer}完成后，本页会自动显示。",
        "en": "No data yet: the snapshot has no {tables}. This page fills in as soon as {producer} has run.",
    },
    "producer.stock": {"zh": "库存模型（流水线微批次）", "en": "the stock models (pipeline micro-batch)"},
    "producer.parcels": {"zh": "合单拆包模型（流水线微批次）", "en": "the parcel models (pipeline micro-batch)"},
    "producer.exceptions": {"zh": "异常模型（流水线微批次）", "en": "the exception models (pipeline micro-batch)"},
    "producer.dispatch": {
        "zh": "调度计划（流水线的 dispatch 步骤）",
        "en": "the dispatch plan (the pipeline's dispatch step)",
    },
    "producer.reconciliation": {
        "zh": "每日对账（orderhub recon run 或 T+1 定时任务）及随后一次微批次",
        "en": "the daily reconciliation (orderhub recon run or the T+1 schedule) and the next micro-batch",
    },
    "producer.quality": {
        "zh": "导入记账模型（流水线微批次）",
        "en": "the ingest accounting models (pipeline micro-batch)",
    },
    "filter.store": {"zh": "门店", "en": "Store"},
    "filter.all_stores": {"zh": "全部门店", "en": "All stores"},
    "filter.type": {"zh": "异常类型", "en": "Exception type"},
    "filter.all_types": {"zh": "全部类型", "en": "All types"},
    "filter.solver": {"zh": "求解器", "en": "Solver"},
    "filter.wave": {"zh": "波次", "en": "Wave"},
    "filter.all_waves": {"zh": "全部波次", "en": "All waves"},
    "filter.recon_date": {"zh": "对账日", "en": "Recon date"},
    "list.truncated": {"zh": "仅显示前 {n} 行", "en": "Showing the first {n} rows"},
    # exceptions page
    "exc.open_total": {"zh": "未处理异常", "en": "Open exceptions"},
    "exc.high": {"zh": "高优先级", "en": "High severity"},
    "exc.types": {"zh": "异常类型数", "en": "Exception types"},
    "exc.by_type": {"zh": "按类型与处理动作", "en": "By type and action"},
    "exc.list": {"zh": "未处理异常明细（最新在前）", "en": "Open exceptions (newest first)"},
    "exc.none": {"zh": "当前没有未处理的异常。", "en": "No open exceptions."},
    "exc.dispatch_note": {
        "zh": "包含调度计划产生的异常（最新计划日）。",
        "en": "Includes the exceptions raised by the dispatch plan (latest planned day).",
    },
    "col.high": {"zh": "高", "en": "High"},
    "col.medium": {"zh": "中", "en": "Medium"},
    "col.other": {"zh": "其他", "en": "Other"},
    "col.open": {"zh": "未处理", "en": "Open"},
    "col.source": {"zh": "来源", "en": "Source"},
    # parcels page
    "parcels.day": {"zh": "营业日 {date}（配送订单）", "en": "Business day {date} (delivery orders)"},
    "tile.delivery_orders": {"zh": "配送订单", "en": "Delivery orders"},
    "tile.merged_orders": {"zh": "合单订单", "en": "Merged orders"},
    "tile.parcels_sent": {"zh": "实际包裹", "en": "Parcels sent"},
    "tile.saved_by_merge": {"zh": "合单节省包裹", "en": "Parcels saved by merging"},
    "tile.split_groups": {"zh": "拆包的合单组", "en": "Merge groups split"},
    "help.merged_orders": {
        "zh": "合单率 {rate}；{groups} 个两单及以上的合单组",
        "en": "{rate} of delivery orders; {groups} groups of two or more",
    },  # noqa: E501 (a table row or a translation reads best whole)
    "help.parcels_sent": {
        "zh": "不合单时为 {n} 个包裹（同样的拆包规则）",
        "en": "{n} parcels without merging (same split rules)",
    },
    "help.saved_by_merge": {
        "zh": "相比每单单独打包（同样拆包规则）节省 {pct}",
        "en": "{pct} fewer than packing every order alone (same split rules)",
    },  # noqa: E501 (a table row or a translation reads best whole)
    "help.split_groups": {
        "zh": "按温区拆 {zone} 组，超重/超体积 {limits} 组，超限单件 {oversize} 个",
        "en": "{zone} by temperature zone, {limits} over weight/volume, {oversize} oversize units",
    },
    "parcels.by_store": {"zh": "各门店", "en": "Per store"},
    "parcels.trend": {"zh": "最近 {n} 天：包裹数", "en": "Last {n} days: parcels"},
    "col.date": {"zh": "日期", "en": "Date"},
    "col.merged_orders": {"zh": "合单订单", "en": "Merged orders"},
    "col.parcels_without_merge": {"zh": "不合单包裹（每单一个）", "en": "Parcels, one per order"},
    "col.parcels_split_without_merge": {"zh": "不合单包裹（按拆包规则）", "en": "Parcels without merging"},
    "col.parcels_after_split": {"zh": "实际包裹", "en": "Parcels sent"},
    "col.saved_by_merge": {"zh": "合单节省", "en": "Saved by merging"},
    "col.saved_pct": {"zh": "节省比例", "en": "Saved %"},
    "col.split_groups": {"zh": "拆包组", "en": "Split groups"},
    "col.series": {"zh": "指标", "en": "Measure"},
    "col.value": {"zh": "数量", "en": "Count"},
    # stock page
    "stock.as_of": {"zh": "库存截至 {time}（北京时间）", "en": "Stock as of {time} (Beijing time)"},
    "tile.positions": {"zh": "门店商品数", "en": "Store SKUs"},
    "tile.out_of_stock": {"zh": "无可售库存", "en": "Nothing left to sell"},
    "tile.oversold_positions": {"zh": "超卖商品", "en": "Oversold SKUs"},
    "tile.open_oversells": {"zh": "未解决超卖单", "en": "Open oversells"},
    "help.oversold_units": {"zh": "共超卖 {n} 件", "en": "{n} units sold that were not there"},
    "stock.by_store": {"zh": "各门店库存概况", "en": "Stock per store"},
    "stock.short": {
        "zh": "缺货与超卖商品（超卖最多在前）",
        "en": "Out-of-stock and oversold SKUs (most oversold first)",
    },
    "stock.oversells": {"zh": "超卖订单（未解决在前）", "en": "Oversold order lines (open first)"},
    "stock.feed": {"zh": "各渠道可售库存推送", "en": "Sellable stock pushed to each channel"},
    "col.sku": {"zh": "商品编码", "en": "SKU"},
    "col.product": {"zh": "商品", "en": "Product"},
    "col.product_category": {"zh": "品类", "en": "Category"},
    "col.positions": {"zh": "商品数", "en": "SKUs"},
    "col.on_hand": {"zh": "盘点库存", "en": "Counted"},
    "col.reserved": {"zh": "已占用", "en": "Reserved"},
    "col.released": {"zh": "已释放", "en": "Released"},
    "col.net_reserved": {"zh": "净占用", "en": "Net reserved"},
    "col.available": {"zh": "可用", "en": "Available"},
    "col.oversold": {"zh": "超卖件数", "en": "Oversold units"},
    "col.out_of_stock": {"zh": "无可售", "en": "Nothing to sell"},
    "col.oversold_positions": {"zh": "超卖商品", "en": "Oversold SKUs"},
    "col.open_oversells": {"zh": "未解决超卖", "en": "Open oversells"},
    "col.last_movement": {"zh": "最近变动", "en": "Last movement"},
    "col.ordered_at": {"zh": "下单时间", "en": "Ordered at"},
    "col.quantity": {"zh": "数量", "en": "Quantity"},
    "col.available_before": {"zh": "下单时可用", "en": "Available then"},
    "col.shortfall": {"zh": "短缺", "en": "Short by"},
    "col.status": {"zh": "状态", "en": "Status"},
    "col.allocation": {"zh": "分配方式", "en": "Allocation"},
    "col.listings": {"zh": "上架商品", "en": "Listings"},
    "col.sold_out": {"zh": "售罄", "en": "Sold out"},
    "col.sellable": {"zh": "可售件数", "en": "Sellable units"},
    "status.open": {"zh": "未解决", "en": "Open"},
    "status.resolved_at": {"zh": "已解决 {time}", "en": "Resolved {time}"},
    "allocation.share": {"zh": "固定份额 {pct}", "en": "Fixed share {pct}"},
    # dispatch page
    "dispatch.day": {"zh": "计划日 {date}", "en": "Plan for {date}"},
    "tile.routes": {"zh": "骑手趟次", "en": "Rider trips"},
    "tile.stops": {"zh": "配送包裹", "en": "Parcels routed"},
    "tile.distance": {"zh": "总里程", "en": "Distance"},
    "tile.on_time": {"zh": "准时率", "en": "On time"},
    "tile.unassigned": {"zh": "未派出包裹", "en": "Parcels not dispatched"},
    "help.distance_vs_greedy": {
        "zh": "贪心基线 {baseline}；节省 {saving}",
        "en": "Greedy baseline {baseline}; {saving} shorter",
    },
    "help.late_stops": {"zh": "预计迟到 {n} 单", "en": "{n} stops expected late"},
    "dispatch.solvers": {"zh": "求解器对比（全天）", "en": "Solvers compared (whole day)"},
    "dispatch.map": {"zh": "路线地图", "en": "Route map"},
    "dispatch.map_legend": {
        "zh": "深色大圆点：门店 · 线：骑手路线（从门店出发，按配送顺序）· 圆点：收货地址（绿色准时，红色预计迟到）。离线显示，无底图。",
        "en": "Large dark dots: stores · lines: rider routes (from the store, in delivery order) · dots: destinations "
        "(green on time, red expected late). Offline: no base map.",
    },
    "dispatch.route_tooltip": {"zh": "{stops} 个包裹 · {distance}", "en": "{stops} stops · {distance}"},
    "dispatch.stop_tooltip": {
        "zh": "预计到达 {arrival} · 承诺 {promised}",
        "en": "arrives {arrival} · promised {promised}",
    },
    "dispatch.no_stops": {"zh": "所选范围内没有路线。", "en": "No routes in this selection."},
    "dispatch.routes": {"zh": "骑手路线", "en": "Rider routes"},
    "dispatch.unassigned": {"zh": "未派出的包裹", "en": "Parcels not dispatched"},
    "col.solver": {"zh": "求解器", "en": "Solver"},
    "col.routes": {"zh": "趟次", "en": "Trips"},
    "col.stops": {"zh": "包裹", "en": "Stops"},
    "col.distance_km": {"zh": "里程(公里)", "en": "Distance (km)"},
    "col.duration": {"zh": "用时(分钟)", "en": "Time (min)"},
    "col.on_time_rate": {"zh": "准时率", "en": "On time"},
    "col.late_stops": {"zh": "预计迟到", "en": "Late"},
    "col.unassigned": {"zh": "未派出", "en": "Not dispatched"},
    "col.wave": {"zh": "波次", "en": "Wave"},
    "col.rider": {"zh": "骑手", "en": "Rider"},
    "col.vehicle": {"zh": "车辆", "en": "Vehicle"},
    "col.depart": {"zh": "出发", "en": "Departs"},
    "col.return": {"zh": "返回", "en": "Returns"},
    "col.load_kg": {"zh": "载重(公斤)", "en": "Load (kg)"},
    "col.parcel": {"zh": "包裹", "en": "Parcel"},
    "col.reason": {"zh": "原因", "en": "Reason"},
    "col.ready_at": {"zh": "可出库", "en": "Ready at"},
    "col.promised": {"zh": "承诺送达", "en": "Promised by"},
    "col.route": {"zh": "路线", "en": "Route"},
    "col.seq": {"zh": "顺序", "en": "Stop"},
    "col.arrival": {"zh": "预计到达", "en": "Arrives"},
    # reconciliation page
    "recon.day": {"zh": "对账日 {date}", "en": "Reconciliation for {date}"},
    "tile.balanced": {"zh": "已平账渠道", "en": "Channels balanced"},
    "tile.with_variances": {"zh": "有差异渠道", "en": "Channels with variances"},
    "tile.no_statement": {"zh": "未收到账单", "en": "No statement"},
    "tile.variance_abs": {"zh": "差异金额（绝对值）", "en": "Variance at stake"},
    "tile.settled_net": {"zh": "账单结算净额", "en": "Settled net"},
    "help.variance_net": {"zh": "净差异 {amount}；{n} 笔差异", "en": "Net {amount}; {n} variance items"},
    "help.cleared": {"zh": "跨日到账 {amount}", "en": "{amount} arrived late (timing differences)"},
    "recon.channels": {"zh": "各渠道对账结果", "en": "Per channel"},
    "recon.variances": {"zh": "差异明细（金额最大在前）", "en": "Variances (largest first)"},
    "recon.settlement": {"zh": "T+1 结算（次日到账）", "en": "T+1 settlement (paid out the next day)"},
    "recon.trend": {"zh": "最近 {n} 天差异金额", "en": "Variance at stake, last {n} days"},
    "recon.no_variances": {"zh": "当日没有差异。", "en": "No variances on this day."},
    "col.settlement_channel": {"zh": "结算渠道", "en": "Statement"},
    "col.day_status": {"zh": "状态", "en": "Status"},
    "col.statement_lines": {"zh": "账单行", "en": "Lines"},
    "col.items": {"zh": "对账项", "en": "Items"},
    "col.matched": {"zh": "相符", "en": "Matched"},
    "col.timing": {"zh": "跨日", "en": "Timing"},
    "col.awaiting": {"zh": "待结算", "en": "Awaiting"},
    "col.variances": {"zh": "差异", "en": "Variances"},
    "col.settled_net": {"zh": "结算净额", "en": "Settled net"},
    "col.variance_amount": {"zh": "差异金额", "en": "Variance"},
    "col.variance_abs": {"zh": "差异绝对值", "en": "At stake"},
    "col.recon_category": {"zh": "差异类型", "en": "Category"},
    "col.expected_net": {"zh": "应结净额", "en": "Expected net"},
    "col.net_amount": {"zh": "实结净额", "en": "Paid net"},
    "col.account": {"zh": "账户", "en": "Account"},
    "col.explanation": {"zh": "说明", "en": "Explanation"},
    "col.source_file": {"zh": "账单文件:行", "en": "Statement file:line"},
    "col.payout_date": {"zh": "到账日", "en": "Payout"},
    "col.payment_lines": {"zh": "收款行", "en": "Payments"},
    "col.refund_lines": {"zh": "退款行", "en": "Refunds"},
    "col.gross": {"zh": "交易额", "en": "Gross"},
    "col.refund_amount": {"zh": "退款额", "en": "Refunded"},
    "col.fee": {"zh": "手续费", "en": "Fees"},
    "col.net": {"zh": "净额", "en": "Net"},
    "col.stated_net": {"zh": "账单声明净额", "en": "Stated net"},
    "col.totals_agree": {"zh": "合计一致", "en": "Totals agree"},
    "yes": {"zh": "是", "en": "Yes"},
    "no": {"zh": "否", "en": "No"},
    # data quality page
    "dq.balance_ok": {
        "zh": "全部 {n} 个导入批次记账平衡（落地 = 入库 + 隔离 + 重复）。",
        "en": "All {n} ingest batches balance (landed = loaded + quarantined + duplicate).",
    },
    "tile.landed_all": {"zh": "累计落地记录", "en": "Records landed"},
    "tile.quarantine_rate": {"zh": "隔离率", "en": "Quarantine rate"},
    "help.quarantined_n": {"zh": "隔离 {n} 条记录", "en": "{n} records quarantined"},
    "tile.duplicates": {"zh": "重复推送", "en": "Duplicate pushes"},
    "tile.unbalanced": {"zh": "不平衡批次", "en": "Unbalanced batches"},
    "dq.by_channel": {"zh": "按渠道（全部批次）", "en": "Per channel (all batches)"},
    "dq.batches": {"zh": "最近的导入批次", "en": "Recent ingest batches"},
    "dq.quarantine": {"zh": "全部隔离原因", "en": "All quarantine reasons"},
    "col.batch": {"zh": "批次", "en": "Batch"},
    "col.files": {"zh": "文件", "en": "Files"},
    "col.balanced": {"zh": "平衡", "en": "Balanced"},
    "col.started": {"zh": "开始时间", "en": "Started"},
    "col.seconds": {"zh": "用时(秒)", "en": "Seconds"},
    # --- big-screen live page, derived serving tables, validation results ---
    # live page: big-screen tiles, the map, big-screen mode
    "tile.parcels": {"zh": "包裹数", "en": "Parcels"},
    "tile.merge_saved": {"zh": "合单节省包裹", "en": "Saved by merging"},
    "tile.fulfilment": {"zh": "准时履约率", "en": "Delivered on time"},
    "tile.exception_rate": {"zh": "异常率", "en": "Exception rate"},
    "delta.merge_saved": {"zh": "比不合单少", "en": "fewer than without merging"},
    "delta.fulfilment": {"zh": "准时 {on_time} / 到期 {due}", "en": "{on_time} of {due} due"},
    "delta.exception_orders": {"zh": "{n} 单有异常", "en": "{n} orders affected"},
    "help.parcels": {
        "zh": "本营业日的配送包裹（拆包后）；不合单时为 {n} 个（同样的拆包规则）",
        "en": "Delivery parcels of the business day (after splitting); {n} without merging (same split rules)",
    },
    "help.no_parcels": {"zh": "本营业日还没有包裹数据", "en": "No parcel figures for this business day yet"},
    "help.fulfilment": {
        "zh": "有承诺送达时间、未取消的配送单中，承诺时间已到或已送达的 {due} 单：按时送达 {on_time}，"
        "迟到送达 {late}，超时未送达 {overdue}。立即送（无承诺时间）的订单不计入。",
        "en": "Delivery orders with a promised time, not cancelled, whose promise has passed or that were "
        "delivered: {due}. On time {on_time}, delivered late {late}, overdue and not delivered {overdue}. "
        "ASAP orders (no promised time) are not counted.",
    },
    "help.no_fulfilment": {
        "zh": "数据快照中还没有履约数据（fulfilment_daily，由 serving 发布步骤生成）",
        "en": "The snapshot has no fulfilment figures yet (fulfilment_daily, made by the serving publish step)",
    },
    "help.exception_rate": {
        "zh": "本营业日开始以来出现异常的订单 {n} 单（同一订单多个异常只计一次），占订单数；其中 {open} 单仍未处理",
        "en": "{n} orders with an exception raised since the business day began (an order counts once), as a "
        "share of orders; {open} of them still open",
    },
    "section.live_map": {"zh": "门店、骑手与计划路线", "en": "Stores, riders and planned routes"},
    "live.map_legend": {
        "zh": "深色大圆点：门店 · 蓝点：骑手（按计划推算的当前位置）· 线：计划路线 · 小圆点：收货地址（绿色准时，红色预计迟到）。离线显示，无底图。",  # noqa: E501 (a table row or a translation reads best whole)
        "en": "Large dark dots: stores · blue dots: riders (where the plan has them now) · lines: planned routes · "
        "small dots: destinations (green on time, red expected late). Offline: no base map.",
    },
    "live.map_current": {
        "zh": "PyVRP 计划 {date} · 数据时间 {now} · {routes} 条路线在途或待出发",
        "en": "PyVRP plan for {date} · data time {now} · {routes} routes out or about to leave",
    },
    "live.map_latest_wave": {
        "zh": "PyVRP 计划 {date} · 数据时间 {now} · 没有在途路线，显示最近一个波次（{wave}）的 {routes} 条路线",
        "en": "PyVRP plan for {date} · data time {now} · no route is out: the latest wave ({wave}), {routes} routes",
    },
    "live.no_plan": {
        "zh": "还没有调度计划：数据快照中没有路线（由流水线的 dispatch 步骤生成）。",
        "en": "No dispatch plan yet: the snapshot has no routes (made by the pipeline's dispatch step).",
    },
    "rider.waiting": {"zh": "待出发 · {depart} 出发", "en": "waiting · leaves {depart}"},
    "rider.delivering": {"zh": "配送中 · 预计 {back} 返回", "en": "delivering · back {back}"},
    "rider.returning": {"zh": "返回门店 · 预计 {back} 到店", "en": "returning · back {back}"},
    "rider.back": {"zh": "已返回门店（{back}）", "en": "back at the store ({back})"},
    "wall.toggle": {"zh": "大屏模式", "en": "Big screen"},
    "wall.help": {
        "zh": "大字全屏显示，适合挂墙；网址加 ?wall=true 可直接以大屏模式打开",
        "en": "Large type, full width, for a wall screen; open the URL with ?wall=true to start in this mode",
    },
    # dispatch page: per store and wave
    "dispatch.plans": {"zh": "各门店与波次：计划对比贪心基线", "en": "Per store and wave, against the greedy baseline"},
    "col.greedy_distance_km": {"zh": "贪心里程(公里)", "en": "Greedy (km)"},
    "col.saving": {"zh": "里程节省", "en": "Shorter by"},
    "col.greedy_on_time_rate": {"zh": "贪心准时率", "en": "Greedy on time"},
    # stock page: SKUs at risk
    "tile.at_risk": {"zh": "缺货风险商品", "en": "SKUs at risk"},
    "help.at_risk": {
        "zh": "仍有库存，但不高于安全库存，或按盘点以来的销售速度不足 {hours} 小时可卖",
        "en": "Still in stock, but at or below the safety stock, or under {hours} h of cover at the pace sold "
        "since the count",
    },
    "stock.at_risk": {"zh": "缺货风险商品（可售时间最短在前）", "en": "SKUs at risk (least cover first)"},
    "col.safety_stock": {"zh": "安全库存", "en": "Safety stock"},
    "col.sold_since_count": {"zh": "盘点后售出", "en": "Sold since count"},
    "col.units_per_hour": {"zh": "每小时售出", "en": "Units per hour"},
    "col.hours_of_cover": {"zh": "可售小时", "en": "Hours of cover"},
    "col.risk": {"zh": "风险", "en": "Risk"},
    "risk.below_safety": {"zh": "不高于安全库存", "en": "At or below safety stock"},
    "risk.low_cover": {"zh": "不足 {hours} 小时可卖", "en": "Under {hours} h of cover"},
    # reconciliation page: drill-down, totals, export
    "filter.settlement_channel": {"zh": "结算渠道", "en": "Statement"},
    "filter.all_channels": {"zh": "全部渠道", "en": "All statements"},
    "filter.category": {"zh": "差异类型", "en": "Category"},
    "filter.all_categories": {"zh": "全部类型", "en": "All categories"},
    "recon.variance_totals": {
        "zh": "所选差异 {n} 笔 · 差异净额 {net} · 差异绝对值 {abs}",
        "en": "{n} variance items chosen · net {net} · at stake {abs}",
    },
    "recon.export": {"zh": "下载对账工作簿（Excel）", "en": "Download the reconciliation workbook (Excel)"},
    "recon.export_help": {
        "zh": "与 orderhub recon report 生成的工作簿相同：汇总表（含 T+1 到账）和各结算渠道的明细表。说明中的手机号与姓名已脱敏。",
        "en": "The workbook orderhub recon report writes: a summary sheet (with the T+1 payout) and one sheet of "
        "lines per statement. Phones and names in the explanations are masked.",
    },
    "recon.export_partial": {
        "zh": "数据快照只保留最近 7 个对账日的全部明细行；{date} 的工作簿只包含差异行（完整版请用 orderhub recon report）。",
        "en": "The snapshot keeps every line only for the latest 7 recon days; the workbook for {date} holds its "
        "variance lines only (use orderhub recon report for all of them).",
    },
    "recon.settlement_total": {"zh": "合计", "en": "Total"},
    # data quality page: validation results
    "dq.results": {"zh": "最新校验结果", "en": "Latest validation results"},
    "dq.no_results": {
        "zh": "还没有校验结果：数据快照中没有 dq_results_summary（数据质量校验套件运行后由 serving 发布步骤生成）。",
        "en": "No validation results yet: the snapshot has no dq_results_summary (published once the data quality "
        "suites have run).",
    },
    "dq.bad_columns": {
        "zh": "校验结果表缺少列 {columns}，无法显示这部分。",
        "en": "The validation tables lack the columns {columns}; that part cannot be shown.",
    },
    "dq.all_passed": {
        "zh": "最新校验：{suites} 个套件的 {n} 条规则全部通过。",
        "en": "Latest validation: all {n} expectations of {suites} suites pass.",
    },
    "dq.some_failed": {
        "zh": "最新校验：{n} 条规则中 {failed} 条未通过（严重 {critical} 条），共 {suites} 个套件。",
        "en": "Latest validation: {failed} of {n} expectations fail ({critical} critical), {suites} suites.",
    },
    "dq.expectations": {
        "zh": "每条规则的最新结果（未通过在前，严重在前）",
        "en": "Each expectation's latest result (failures first, critical first)",
    },
    "dq.validations": {"zh": "最近的校验运行", "en": "Recent validations"},
    "dq.quarantine_status": {"zh": "隔离记录处理状态（按原因与渠道）", "en": "Quarantine status by reason and channel"},
    "dq.failure_history": {"zh": "{failures} / {validations} 次", "en": "{failures} of {validations}"},
    "col.suite": {"zh": "校验套件", "en": "Suite"},
    "col.scope": {"zh": "范围", "en": "Scope"},
    "col.rule": {"zh": "规则", "en": "Rule"},
    "col.result": {"zh": "结果", "en": "Result"},
    "col.observed": {"zh": "实际值", "en": "Observed"},
    "col.unexpected": {"zh": "不符合", "en": "Unexpected"},
    "col.failure_history": {"zh": "历史未通过", "en": "Failed before"},
    "col.validated_at": {"zh": "校验时间", "en": "Validated at"},
    "col.rows": {"zh": "行数", "en": "Rows"},
    "col.expectation_count": {"zh": "规则数", "en": "Expectations"},
    "col.failed": {"zh": "未通过", "en": "Failed"},
    "col.critical_failed": {"zh": "严重未通过", "en": "Critical failed"},
    "col.resolved": {"zh": "已重放解决", "en": "Resolved by replay"},
    "col.replay_failed": {"zh": "重放失败", "en": "Replay failed"},
    "result.pass": {"zh": "通过", "en": "Passed"},
    "result.fail": {"zh": "未通过", "en": "Failed"},
}

CODE_LABELS: dict[str, dict[str, dict[Lang, str]]] = {
    "channel": {
        "app": {"zh": "自营App", "en": "App"},
        "miniprogram": {"zh": "微信小程序", "en": "WeChat mini-program"},
        "meituan": {"zh": "美团", "en": "Meituan"},
        "eleme": {"zh": "饿了么", "en": "Eleme"},
        "pos": {"zh": "门店POS", "en": "Store POS"},
        "groupbuy": {"zh": "社区团购", "en": "Group-buy"},
    },
    # Whose statement a settlement line is on (the payment providers settle the app and mini-program orders).
    "settlement_channel": {
        "meituan": {"zh": "美团", "en": "Meituan"},
        "eleme": {"zh": "饿了么", "en": "Eleme"},
        "wechatpay": {"zh": "微信支付", "en": "WeChat Pay"},
        "alipay": {"zh": "支付宝", "en": "Alipay"},
        "pos": {"zh": "门店POS", "en": "Store POS"},
        "groupbuy": {"zh": "社区团购", "en": "Group-buy"},
    },
    "exception_type": {
        "bad_address": {"zh": "地址异常", "en": "Bad address"},
        "payment_missing": {"zh": "未见支付", "en": "Payment missing"},
        "late_risk": {"zh": "超时风险", "en": "Late risk"},
        "out_of_stock": {"zh": "缺货超卖", "en": "Out of stock"},
        "price_mismatch": {"zh": "价格不符", "en": "Price mismatch"},
        "dispatch_late_risk": {"zh": "无骑手可派", "en": "Not dispatched"},
    },
    "action": {
        "contact_customer": {"zh": "联系顾客", "en": "Contact customer"},
        "manual_review": {"zh": "人工审核", "en": "Manual review"},
        "expedite_dispatch": {"zh": "加急配送", "en": "Expedite dispatch"},
        "replenish": {"zh": "补货", "en": "Replenish"},
        "assign_cold_box_rider": {"zh": "安排带冷箱骑手", "en": "Assign a cold-box rider"},
        "split_or_van": {"zh": "拆包或派车", "en": "Split or send a van"},
        "add_rider": {"zh": "增派骑手", "en": "Add a rider"},
        "geocode_address": {"zh": "补全地址坐标", "en": "Geocode the address"},
    },
    "source": {
        "orders": {"zh": "订单", "en": "Orders"},
        "dispatch": {"zh": "调度", "en": "Dispatch"},
    },
    "solver": {
        "pyvrp": {"zh": "PyVRP 优化", "en": "PyVRP"},
        "greedy": {"zh": "贪心基线", "en": "Greedy baseline"},
        "ortools": {"zh": "OR-Tools", "en": "OR-Tools"},
    },
    "unassigned_reason": {
        "no rider with cold box": {"zh": "无带冷箱骑手", "en": "No rider with a cold box"},
        "overweight for every rider": {"zh": "超过所有骑手载重", "en": "Over every rider's capacity"},
        "cannot reach within promise": {"zh": "承诺时间内无法送达", "en": "Cannot arrive in time"},
        "not selected by solver": {"zh": "运力不足未排入", "en": "Not enough riders"},
        "no rider at store": {"zh": "门店无骑手", "en": "No rider at the store"},
        "no coordinates": {"zh": "地址无坐标", "en": "Address has no coordinates"},
    },
    "vehicle": {
        "ebike": {"zh": "电动车", "en": "E-bike"},
        "bike": {"zh": "自行车", "en": "Bicycle"},
        "van": {"zh": "面包车", "en": "Van"},
    },
    "allocation": {
        "shared": {"zh": "共享库存池", "en": "Shared pool"},
        "fixed_share": {"zh": "固定份额", "en": "Fixed share"},
    },
    "day_status": {
        "balanced": {"zh": "已平账", "en": "Balanced"},
        "variances": {"zh": "有差异", "en": "Variances"},
        "no_statement": {"zh": "未收到账单", "en": "No statement"},
    },
    "recon_category": {
        "matched": {"zh": "相符", "en": "Matched"},
        "timing_difference": {"zh": "跨日到账", "en": "Timing difference"},
        "awaiting_settlement": {"zh": "待结算", "en": "Awaiting settlement"},
        "missing_settlement": {"zh": "漏结算", "en": "Missing settlement"},
        "unknown_order": {"zh": "无对应订单", "en": "Unknown order"},
        "amount_mismatch": {"zh": "金额不符", "en": "Amount mismatch"},
        "fee_mismatch": {"zh": "手续费不符", "en": "Fee mismatch"},
        "duplicate_settlement": {"zh": "重复结算", "en": "Duplicate settlement"},
        "unexpected_refund": {"zh": "异常退款", "en": "Unexpected refund"},
        "unexpected_settlement": {"zh": "异常结算", "en": "Unexpected settlement"},
        "tender_total_mismatch": {"zh": "收款方式合计不符", "en": "Tender total mismatch"},
        "unallocated_adjustment": {"zh": "未分摊调整", "en": "Unallocated adjustment"},
    },
    # What a validation suite covered (data_quality/results.py: batch | day | table).
    "dq_scope": {
        "batch": {"zh": "导入批次", "en": "Ingest batch"},
        "day": {"zh": "营业日", "en": "Day"},
        "table": {"zh": "数据表", "en": "Mart"},
    },
    "severity": {
        "warning": {"zh": "警告", "en": "Warning"},
        "critical": {"zh": "严重", "en": "Critical"},
        "high": {"zh": "高", "en": "High"},
        "medium": {"zh": "中", "en": "Medium"},
        "low": {"zh": "低", "en": "Low"},
    },
}


def t(key: str, lang: Lang = DEFAULT_LANG, **values: object) -> str:
    """The text for ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    text = TEXT[key][lang]
    return text.format(**values) if values else text


def label(kind: str, code: str | None, lang: Lang = DEFAULT_LANG) -> str:
    """The display label of a data code (e.g. ``label("channel", "meituan", "zh") == "美团"``)."""
    if code is None:
        return "—"
    return CODE_LABELS[kind].get(code, {}).get(lang, code)
