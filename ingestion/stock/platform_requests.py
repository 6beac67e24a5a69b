"""The stock-update request each channel takes, built from {sku_id: units} of one store.

Sources (see docs/live-intake-stock.md for the citations in full):
- Meituan 闪购 `retail/sku/stock` (批量更新SKU库存): form fields `app_poi_code` and `food_data`, the latter
  JSON text of [{app_food_code, skus: [{sku_id, stock}]}], stock a string of a non-negative integer.
- Eleme `eleme.product.item.batchUpdateStock` (批量更新商品库存(新版)): params `stockMap` {Eleme SKU id: stock}.
- Our own channels (app, miniprogram, groupbuy): {store_id, items: [{sku_id, stock}]}.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

MEITUAN_PATH = "retail/sku/stock"
ELEME_METHOD = "eleme.product.item.batchUpdateStock"

# Items per call. Meituan documents at most 200 groups per batch stock call; Eleme's batch item calls take
# at most 50; our own endpoints take what we choose.
BATCH_LIMIT = {"meituan": 200, "eleme": 50}
OWN_BATCH_LIMIT = 500


def meituan(store_id: str, stock: Mapping[str, int]) -> dict:
    # The merchant's item code is our sku_id (app_food_code), and each item is sold as one spec of that code.
    food_data = [{"app_food_code": sku, "skus": [{"sku_id": sku, "stock": str(units)}]} for sku, units in stock.items()]
    return {
        "path": MEITUAN_PATH,
        "params": {"app_poi_code": store_id, "food_data": json.dumps(food_data, ensure_ascii=False)},
    }


def eleme(store_id: str, stock: Mapping[str, int], sku_ids: Mapping[str, int] | None = None) -> dict:
    """`sku_ids` maps our sku_id to Eleme's numeric SKU id; without it our codes stand in (the simulator)."""
    stock_map = {str(sku_ids[sku] if sku_ids is not None else sku): units for sku, units in stock.items()}
    return {"method": ELEME_METHOD, "shop_id": store_id, "params": {"stockMap": stock_map}}


def own(store_id: str, stock: Mapping[str, int]) -> dict:
    return {"store_id": store_id, "items": [{"sku_id": sku, "stock": units} for sku, units in stock.items()]}


def builder(channel: str, eleme_sku_ids: Mapping[str, int] | None = None) -> Callable[[str, Mapping[str, int]], dict]:
    if channel == "meituan":
        return meituan
    if channel == "eleme":
        return lambda store_id, stock: eleme(store_id, stock, eleme_sku_ids)
    return own


def batch_limit(channel: str) -> int:
    return BATCH_LIMIT.get(channel, OWN_BATCH_LIMIT)
