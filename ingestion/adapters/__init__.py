"""One adapter per channel; `ADAPTERS` is the registry the loader dispatches on."""

from ingestion.adapters.base import ChannelSpec
from ingestion.adapters.eleme import ELEME
from ingestion.adapters.groupbuy import GROUPBUY
from ingestion.adapters.meituan import MEITUAN
from ingestion.adapters.own_apps import APP, MINIPROGRAM
from ingestion.adapters.pos import POS

ADAPTERS: dict[str, ChannelSpec] = {spec.channel: spec for spec in (APP, MINIPROGRAM, MEITUAN, ELEME, POS, GROUPBUY)}

__all__ = ["ADAPTERS", "ChannelSpec"]
