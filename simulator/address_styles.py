"""How people write one door differently on each app: the same place, other characters.

Every variant names the same door as the canonical text (building, unit and room are kept), so ground truth,
which uses the true address identity, is unchanged. The styles are the ordinary ones seen on delivery apps:
室 dropped, 号楼 written 栋 or 幢, full-width digits, the building number in Chinese numerals, the city or the
whole 上海市+district left out, a space or comma between road and building, the building's or estate's name
after the road's number (bare, in brackets, or first with the road address in brackets), a dash after the
building word, a zero-padded building number or a note after the room, and Meituan's POI form
where the map pick gives a place name and the customer types the rest in brackets.
"""

from __future__ import annotations

import random
import re
import zlib

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_CN_DIGITS = "零一二三四五六七八九"
_BUILDING = re.compile(r"(\d+)号楼")
_ROAD_NO = re.compile(r"^(.*?(?:路|街|公路)\d+(?:弄|号))(.*)$")


def _cn_number(n: int) -> str:
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")


def _drop_room(t: str, r: random.Random) -> str:
    return t[:-1] if t.endswith("室") else t


def _building_word(t: str, r: random.Random) -> str:
    return _BUILDING.sub(lambda m: m.group(1) + r.choice(("栋", "幢")), t, count=1)


def _full_width(t: str, r: random.Random) -> str:
    return t.translate(_FULL_WIDTH)


def _chinese_building(t: str, r: random.Random) -> str:
    return _BUILDING.sub(
        lambda m: _cn_number(int(m.group(1))) + "号楼" if int(m.group(1)) < 100 else m.group(0), t, count=1
    )


def _no_city(t: str, r: random.Random) -> str:
    return t.removeprefix("上海市")


def _separator(t: str, r: random.Random) -> str:
    m = _ROAD_NO.match(t)
    return f"{m.group(1)}{r.choice((' ', '，', ','))}{m.group(2)}" if m and m.group(2) else t


STYLES = (_drop_room, _building_word, _full_width, _chinese_building, _no_city, _separator)

# Estates and office buildings have names, which people add after the road's number, put in brackets, or
# write first with the road address in brackets (华润时代广场(张杨路500号)1203室); one name per door. Chosen
# from the text with crc32, not from the order's random stream, so the other styles draw what they drew.
PLACE_NAMES = ("华润时代广场", "阳光花园", "东方明珠苑", "锦绣华庭", "金桥大厦", "上海环球金融中心", "莘城苑")
PLACE_NAME_SHARE = 0.3
_DISTRICT_PREFIX = re.compile(r"^((?:上海市)?[^路街弄号]*?区)?(.*)$")


def with_place_name(text: str, door: str) -> str:
    """`text` with the place name of `door` (the door's own text) in one of the three ways people write it."""
    m = _ROAD_NO.match(text)
    if not m or not m.group(2):
        return text
    name = PLACE_NAMES[zlib.crc32(door.encode()) % len(PLACE_NAMES)]
    road, rest = m.groups()
    form = zlib.crc32(text.encode()) % 3
    if form == 0:
        return f"{road}{name}{rest}"
    if form == 1:
        return f"{road}({name}){rest}"
    district, road_only = _DISTRICT_PREFIX.match(road).groups()
    return f"{district or ''}{name}({road_only}){rest}"


# Typed marks that change no door: a dash after the building word (3号楼-501室), a building number padded
# with a zero (03号楼), or a note to the rider after the room (501室，到了打电话). Chosen by crc32 of the text,
# like the place name, so the random stream is unchanged.
TYPING_MARK_SHARE = 0.2
_SINGLE_DIGIT_BUILDING = re.compile(r"(?<!\d)(\d)(号楼|栋|幢)(?=\d)")
_BUILDING_THEN_ROOM = re.compile(r"(号楼|栋|幢)(?=\d)")
RIDER_NOTES = ("，到了打电话", " 王女士收", "（到了敲门）")


def with_typing_mark(text: str) -> str:
    """`text` with a dash after its building word, its one-digit building number zero-padded, or a note."""
    chosen = zlib.crc32(text.encode())
    if chosen % 3 == 0:
        return _BUILDING_THEN_ROOM.sub(r"\1-", text, count=1)
    if chosen % 3 == 1:
        return _SINGLE_DIGIT_BUILDING.sub(r"0\1\2", text, count=1)
    return text + RIDER_NOTES[chosen // 3 % len(RIDER_NOTES)]


def write_differently(text: str, r: random.Random, share: float = 0.5) -> str:
    """With probability `share`, one or two ordinary rewritings of `text`, sometimes with the door's place
    name or a typed mark; otherwise `text` itself."""
    if r.random() >= share:
        return text
    door = text
    for style in r.sample(STYLES, r.choice((1, 1, 2))):
        text = style(text, r)
    if zlib.crc32(text.encode()) % 100 < PLACE_NAME_SHARE * 100:
        text = with_place_name(text, door)
    if zlib.crc32(b"mark:" + text.encode()) % 100 < TYPING_MARK_SHARE * 100:
        text = with_typing_mark(text)
    return text


def meituan_poi(text: str, r: random.Random) -> str:
    """Meituan's map-picked form: the place (road and number) then what the customer typed in brackets,
    e.g. `田林路897号 (4号楼1304)`; the district is left to the reverse-geocoded part after `@#`."""
    m = _ROAD_NO.match(text)
    if not m or not m.group(2):
        return text
    place = re.sub(r"^上海市|^.*?区|^.*?(?:街道|镇)", "", m.group(1))
    place = re.sub(r"^.*?(?:街道|镇)", "", place)
    rest = _drop_room(m.group(2), r)
    return f"{place} ({rest})"
