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
        "en": "No data snapshot yet ({path}). This page shows data as soon as the pipeline's first run "
        "has finished.",
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
        "en": "{n} ingest batches do not balance (landed ≠ loaded + quarantined + duplicate); check the "
        "pipeline logs.",
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
    "exception_type": {
        "bad_address": {"zh": "地址异常", "en": "Bad address"},
        "payment_missing": {"zh": "未见支付", "en": "Payment missing"},
        "late_risk": {"zh": "超时风险", "en": "Late risk"},
    },
    "action": {
        "contact_customer": {"zh": "联系顾客", "en": "Contact customer"},
        "manual_review": {"zh": "人工审核", "en": "Manual review"},
        "expedite_dispatch": {"zh": "加急配送", "en": "Expedite dispatch"},
    },
    "severity": {
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
