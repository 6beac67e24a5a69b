"""Chinese address parsing: province / city / district / street / detail, an admin code and a door key.

`cpca` does the administrative part (it carries the national division table and resolves short forms
like 浦东新区 without a province); it is vectorised over pandas and parses 30k addresses in well under a
second. See docs/decisions.md for the comparison with jionlp and addressparser. What cpca leaves as the
remainder is split into the township (街道/镇/乡) when present and the rest.

`address_key` is a canonical door key, `adcode|door`: the same physical door written the ordinary ways
people write it (室 or not, 栋/幢/号楼/座, a tower's letter without 座 (A2208, A-2208), 5-1202, 五号楼, full-width
digits, zero-padded numbers, a dash after a word, traditional characters, 小区 or not, a note after the door, a
landmark in brackets, the township (where towns share no road names) or the city left out, the building's or
estate's name after the road's number or not) gets one key, and a different room, unit, building, house number,
lane or road never does. When a form is ambiguous the key keeps it apart: a missed merge costs a second rider
trip, a wrong one sends a stranger's groceries to the wrong door. docs/decisions.md has the rules and the
measured precision and recall on tests/ingestion/fixtures/address_pairs.csv.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from functools import lru_cache

import polars as pl

from ingestion.lru import LruCache

# Municipalities: cpca reports their city level as 市辖区/县; the contract wants the city's own name.
_MUNICIPALITY_CITY_PLACEHOLDERS = {"市辖区", "县"}
_TOWNSHIP = re.compile(r"^(.{1,10}?(?:街道|镇|乡))")
_ROAD = re.compile(r"^(.{1,12}?(?:大道|路|街|巷|胡同|弄|道))")

PARSED_COLUMNS = ("province", "city", "district", "street", "address_detail", "admin_code", "address_key")

# The rules' edition. Keys are computed as orders are loaded, so a warehouse keeps the keys of the rules it
# loaded under: when what a text parses to changes (a rule here, or an upgrade of cpca or OpenCC), raise this
# and the next load re-keys every stored order once (ingestion/address_rekey.py) and dbt rebuilds the marts.
# tests/ingestion/test_address_key_rules.py fails when the keys change and this does not.
KEY_RULES_VERSION = 2

# Two orders whose keys agree but whose coordinates are further apart than this are not one door: the text
# matched by accident (the same road and number in a district cpca resolved wrongly, or a typo). Platforms
# geocode the same door within a few hundred metres of each other (map pick vs. typed address), hence the
# slack. The same number is the dbt var merge_max_distance_m (config/rules.yml).
DEFAULT_MAX_DISTANCE_M = 1000.0

# --- the door key ---------------------------------------------------------------------------------------

_BRACKETS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|【([^【】]*)】|〔([^〔〕]*)〕|<([^<>]*)>|《([^《》]*)》")
# Bracket text that names part of the door is kept, without its brackets: a phase or block (万科城(一期)5栋 vs
# (二期)5栋), and any number, because Meituan's map-picked POI form puts the door there: 宜山路1419弄 (22号1104).
# Bracket text without a number or door word is a landmark or a note to the rider (东门, 近地铁站, 彭江路南) and
# is dropped, as is a numbered gate or exit (2号门, 3号口).
_DOOR_PART = re.compile(r"\d|期|校区|分校|[东南西北a-z]区|栋|幢|座|号楼|单元|室|层")
_LANDMARK = re.compile(r"^[^\d]*\d+号?(?:门|出口|口)$|地铁|站$|附近|对面|旁边")
# A note to the rider after the door (，到了打电话; 放门口谢谢; 不要敲门): it starts with one of these words right
# after a number or a door word, where the door is complete. People write anything after it (谢谢, 就行, a
# second note), so what follows the first note word goes with it. After a name (宏泰广场电联) the door may not
# be complete, so there only a tail made of nothing but notes goes. Either way a tail that names a door part
# stays (送到5号楼1202 says where the door is), a missed merge at worst; phrases of notes that hold a door word's
# character (门口, 楼下, 敲门) are not door parts. Runs before Chinese numerals become digits, so a room written
# 三零一 with a note after it (三零一请电联) is still read as a room.
_NOTE_WORDS = (
    r"到了|到楼下|到门口|到家|到达|放|请|麻烦|谢谢|多谢|感谢|打电话|给我打|电话|电联|联系|敲门|不要|送到|送上|"
    r"送货|外卖|快递|收件人|备注|门口"
)
_ONLY_NOTES = r"请?电联|电话联系|联系电话|打电话|放门口|送上楼|门口|电话|手机|谢谢"
_NOTE_TAIL = re.compile(
    r"(?<=[\da-z零〇一二三四五六七八九十百号室房栋幢座楼层户元弄院#])(?:"
    + _NOTE_WORDS
    + r").*$|(?:"
    + _ONLY_NOTES
    + r")+$"
)
_NOTE_MARKS = frozenset("到放请麻谢多感打给电联敲不送外快收备门手")  # the first characters of the words above
_NOTE_PHRASES = re.compile(r"门口|楼下|楼上|上楼|下楼|敲门|开门|门铃|号码")
# A mobile number typed after the address (…302室 13812345678) is the customer's, not part of the door; it goes
# before a gap between two numbers is read as a dash (1203 13812345678 is not building 1203).
_TRAILING_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}\W*$")
# Words after the room that are not part of the door (王先生收, 到了, 旁边): once the room is given, no word after
# it names another door. A room is a number after a building, unit or floor word, or before 室/房; only Chinese
# words are dropped, with what follows them (电话13812345678), not a letter (1203a and 1203b can be two rooms),
# and none that names a part of an address or holds a number a door could have (15栋11梯282房: 梯 is a unit).
_ROOM_WORD = r"(?:室|房间|号房|房)"
_AFTER_THE_ROOM = re.compile(
    r"((?:[栋幢座层#]|单元)\d{2,5}"
    + _ROOM_WORD
    + r"?|\d{2,5}"
    + _ROOM_WORD
    + r")([\u4e00-\u9fff][\u4e00-\u9fff\da-z]*)$"
)
_DOOR_WORD_CHARACTERS = "栋幢座楼单元门室房层号弄院期区梯户"
_DOOR_WORDS = re.compile(f"[{_DOOR_WORD_CHARACTERS}]" + r"|(?<!\d)\d{2,5}(?!\d)")
# Except the side of a floor a room is on, or its 甲/乙: in Beijing and Tianjin 201东 and 201西 are two doors
# (and 101甲, 101乙), so a direction or stem right after the room is part of it. 201东 against a bare 201 then
# stays apart, a missed merge: the bare form does not say which of the two it is.
_ROOM_SIDES = r"[东西南北](?:翼|侧|户|边|头|套)?|中(?:间|户)|[甲乙丙丁]"
_ROOM_SIDE = re.compile(_ROOM_SIDES)
_SIDE_AFTER_A_ROOM = re.compile(r"(?<=\d{3})(?:" + _ROOM_SIDES + r")$")
_DOOR_WORD_ENDS = frozenset(_DOOR_WORD_CHARACTERS)
_ROOM_WORDS = frozenset("室房")
# 小区 (residential estate) after an estate's name is left out as often as written: 阳光花园小区 is 阳光花园.
_ESTATE_WORD = "小区"
# 第12层, 第5号楼: the ordinal adds nothing to the number.
_ORDINAL = re.compile(r"第(?=\d)")
# 2单501: 单 is short for 单元 before a number.
_SHORT_UNIT = re.compile(r"(?<=\d)单(?=\d)")
_CN_NUMERAL = re.compile(r"[零〇一二三四五六七八九十百千廿两]")
_COUNTED_NUMERAL = re.compile(
    r"(?<![零〇一二三四五六七八九十百千廿两])[零〇一二三四五六七八九十百千廿两]+"
    r"(?=号|栋|幢|座|楼|层|单元|室|房|弄|期|区|段|组|门|舍|路|街|$)"
)
_ROAD_NAME_ENDS = frozenset("路街")
_TENS = re.compile(r"[十百千廿]")
_DIGIT_BY_DIGIT = str.maketrans("零〇一二三四五六七八九两", "001234567892")
# Formal numerals (as on cheques) read as the ordinary ones; cn2an leaves a lone 叁 as it is.
_FORMAL_NUMERALS = str.maketrans("壹贰叁肆伍陆柒捌玖拾佰", "一二三四五六七八九十百")
# Separators between two numbers mean a dash (5 1202, 5/1202); elsewhere spaces and punctuation are noise.
_NUMBER_GAP = re.compile(r"(?<=\d)\s*(?:[-—–~/\\、,，.。\s]|\s*-\s*)\s*(?=\d)")
_NOISE = re.compile(r"[^\w\-#\u4e00-\u9fff]+|_")
# A dash beside a word (5栋-1202, 2单元-501, 380弄-5号楼, 500号-1203) separates what the word already does.
# Between two numbers or letters it is the 5-1202 form, which the rules below read as building and room.
_DASH_BESIDE_A_WORD = re.compile(r"(?<![\da-z])-|-(?![\da-z])")
_DASHES = re.compile(r"-{2,}")  # 2016--2136 is a range, one dash
# A zero-padded number (05号楼, 0501室, 02单元) is the number; after a letter or digit a zero is part of a code.
_LEADING_ZEROS = re.compile(r"(?<![\da-z])0+(?=\d)")
# The words a road's name ends with, before its house number.
_ROAD_ENDS = r"(?:大道|公路|路|街|巷|胡同)"
# A prefix naming the township or a development zone. 街道 is never part of a place name and is always
# dropped. 镇/乡 are part of names (西乡花园, 古镇路), and a town is dropped only before a road with a number
# (each town has its own 中心村) and only in a district whose towns do not repeat each other's road names
# (_TOWNS_SHARE_NO_ROADS): in a county, and in many districts that were counties until lately (崇明, 密云,
# 萧山, 万州), each town has its own 人民路, so 城桥镇人民路100号 and 新河镇人民路100号 are two doors, and with
# the town dropped they would be one key. Where the town is kept, a text that leaves it out gets another key:
# a missed merge. Both run before Chinese numerals become digits, so 七宝镇 and 五角场街道 are still words.
_STREET_OFFICE = re.compile(r"^[\u4e00-\u9fff]{2,8}?街道(?=..)")
_TOWN_BEFORE_ROAD = re.compile(
    r"^[\u4e00-\u9fff]{2,8}?(?:镇|乡|开发区|高新区|工业园区|园区)"
    r"(?=[\u4e00-\u9fffa-z\d]{2,12}?" + _ROAD_ENDS + r"[\d零〇一二三四五六七八九十百])"
)
# The districts where a town is dropped: Shanghai's, whose roads are named for the whole district, so that a road's
# name does not repeat from one town to the next (the premise on which the labelled and simulated orders match:
# 张江镇碧波路690号 against 碧波路690号, and Meituan's map-picked form, which never names the town). Not 崇明, a
# county until 2016 whose towns kept their own streets. No other city's districts are known to be like that, so
# there the town is kept; a district added here needs that premise checked first.
_TOWNS_SHARE_NO_ROADS = ("3101",)
_TOWNS_HAVE_THEIR_OWN_ROADS = frozenset({"310151"})
# A basement floor (负一楼, 地下1层, B1层, B1F) is one spelling, 负N层, kept apart from the floor above ground
# that the same number would otherwise name. B1 alone or B1-101 can be a tower B1, so only a floor word makes a
# B a basement.
_BASEMENT = re.compile(r"(?:负|地下)(\d{1,2})(?:楼层|层|楼)|(?<![\da-z])b(\d{1,2})(?:层|f)")
_BASEMENT_MARKS = frozenset("负下b")
_BUILDING_WORDS = r"(?:号楼|号栋|号幢|号座|栋|幢|座|#楼|#)"
_BUILDING = re.compile(r"(\d+|[a-z])" + _BUILDING_WORDS)
# 5楼2单元: a 楼 followed by a unit is a building, not a floor.
_BUILDING_BEFORE_UNIT = re.compile(r"(\d+|[a-z])楼(?=\d+单元)")
# Beijing and Tianjin say 2门 for the second unit (5号楼2门301).
# 2单元门301: the unit's door is the unit.
_UNIT = re.compile(r"(\d+)(?:单元门(?=\d)|单元|门洞|门(?=\d))")
_FLOOR = re.compile(r"(栋|单元)?(?<![\d负])(\d+)(楼层|层|楼|f)(?=(\d+)$)")
# 12F-1203, F12 1203 and F12 are the 12th floor. F glued to the room (F121203) does not say where the floor ends,
# and F12栋 is a building, so those stay as written.
_LETTER_FLOOR = re.compile(r"(?<![\da-z])(?:(\d{1,2})f-(?=\d)|f(\d{1,2})(?:-(?=\d)|(?![\d栋座幢号楼单室])))")
_FLOOR_ONLY = re.compile(r"(\d+)(?:楼层|层|楼|f)$")
_ROOM_SUFFIX = re.compile(r"(\d+)(?:" + _ROOM_WORD + r"|号)$")
_ROOM_ENDS = frozenset("室间房号")
# 5-1202, 5-2-1202 after the place name: building, (unit,) room.
_DASH3 = re.compile(r"(?<![\d#a-z路街道巷])(\d{1,3})-(\d{1,2})-(\d{3,5})$")
_DASH2 = re.compile(r"(?<![\d#a-z路街道巷])(\d{1,3})-(\d{3,5})$")
# In a lane or estate, 5号1202 (室) is building 5, room 1202: the 号 is the building's number.
_HOUSE_THEN_ROOM = re.compile(r"(\d{1,3})号(\d{3,5})$")
_HOUSE_THEN_UNIT = re.compile(r"(\d{1,3})号(?=\d{1,2}单元)")
_BUILDING_UNIT_DASH = re.compile(r"栋(\d{1,2})-(\d{3,5})$")
# A road's house number written without 号 (碧波路690 3号楼): the number is still the house number.
_ROAD_NUMBER = re.compile(r"(大道|公路|路|街|巷)(\d+)(?:-(?=\d+栋)|(?=[\u4e00-\u9fff])(?![号弄支栋单层室楼座幢]))")

# A building or estate name after a road's house number or a lane (张杨路500号华润时代广场1203, 莘松路380弄
# 莘城苑5号楼1202) repeats what the number already says: with it, in brackets or left out, it is one door. It is
# dropped only when a building, unit or room number follows, and only when it holds no word that tells two
# parts of one address apart (东区/西区, 一期, A座, 北楼, 写字楼, 2门, 北苑 and 南苑 of one lane; 东方 and 中心
# are names).
_ROAD_HOUSE = _ROAD_ENDS + r"\d+(?:号院|号|弄)"
_NAME_AFTER_ROAD_HOUSE = re.compile(r"(" + _ROAD_HOUSE + r")([\u4e00-\u9fff]+?)(?=[\da-z])")
_PART_OF_AN_ADDRESS = re.compile(
    r"[东南西北中](?:[苑园庭里侧块片部翼]|$)|区|期|座|栋|幢|楼|单元|室|层|门|号|弄|院|支|排|组|村|宅|负"
)
# 小区 and Shanghai's 新村 end an estate's name (阳光小区, 控江新村) the way 花园 and 苑 do, and say no more than
# they do, though 区 and 村 elsewhere name a part (东区, 张潭村3组): the name is read without them, so it is
# dropped as 阳光花园 is. What is left still decides (阳光东小区, 东新村 and 曹杨一村 are kept), and a bare 新村
# is a village's name.
_ESTATE_NAME_END = re.compile(r"(?:小区|新村)+$")
# A tower's letter written without 座 (A2208, A 2208, A-2208, A楼2208) is the tower, as in A座2208, when the single
# letter stands between the road's house number or the estate's name and the room. Not after a number, a door
# word or a road's name (5号A101, 2号楼A101: there the letter is part of the room's number), nor a letter after
# the room (2208A), nor B, F, L or S glued to the number, which malls and offices use for a basement, a floor, a
# level and a shop (B1206 may be B1's shop 206): B with a dash or 楼 is a tower, the others only with 楼.
_LETTER_TOWER = re.compile(
    r"(" + _ROAD_HOUSE + r"|[\u4e00-\u9fff](?<![" + _DOOR_WORD_CHARACTERS + r"负路街道巷]))"
    r"(?:([ac-eg-km-rt-z])-?|(b)-|([a-z])楼)(\d{3,5})$"
)
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")

# The point-of-interest form names the place first and the road address in brackets: 华润时代广场(张杨路500号)
# 1203, 莘城苑5号楼1202(莘松路380弄). The road address is moved to the front, where the rule above finds it.
_BRACKETED_ROAD_HOUSE = re.compile(r"\(([^()]*?" + _ROAD_HOUSE + r"[^()]*)\)")
_HAS_ROAD_HOUSE = re.compile(_ROAD_HOUSE)

# What each door rule's pattern cannot match without (door_key runs a rule only when one is there).
_OPENING_BRACKETS = frozenset("([【〔<《")
_BUILDING_MARKS = frozenset("栋幢座楼#")
_ROAD_MARKS = frozenset("道路街巷")
_FLOOR_MARKS = frozenset("层楼f")
_HOUSE_MARKS = frozenset("号弄")


def _cn_to_digits(text: str) -> str:
    """Chinese numerals that count something in the address (五号楼, 十二层, 二单元, a room 八零一 at the end)
    become digits; numerals inside names (九江路, 七宝, 五角场) stay words."""
    if not _CN_NUMERAL.search(text):
        return text
    import cn2an

    def digits(match: re.Match[str]) -> str:
        numeral = match.group(0)
        if text[match.end() : match.end() + 1] in _ROAD_NAME_ENDS:
            # A numeral in a road's name is a name: 五一路 (May Day Road) is not 五十一路, though cn2an reads both
            # as 51. People type the digit-by-digit ones as digits (宝民二路 as 宝民2路), and those read the same
            # either way; a name with 十 or 百 stays words, so that it never meets a digit-by-digit name.
            return numeral if _TENS.search(numeral) else numeral.translate(_DIGIT_BY_DIGIT)
        try:
            return str(cn2an.cn2an(numeral, "smart"))
        except (ValueError, KeyError, IndexError):
            return numeral

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _COUNTED_NUMERAL.sub(digits, text)


def _strip_brackets(text: str) -> str:
    def keep_door_part(match: re.Match[str]) -> str:
        inner = _cn_to_digits(next(g for g in match.groups() if g is not None))
        return inner if _DOOR_PART.search(inner) and not _LANDMARK.search(inner) else ""

    previous = None
    while previous != text:  # nested brackets: innermost first
        previous, text = text, _BRACKETS.sub(keep_door_part, text)
    return text


def _road_house_first(text: str) -> str:
    """华润时代广场(张杨路500号)1203 → 张杨路500号华润时代广场1203, when the text outside the brackets names no
    road house of its own."""
    match = _BRACKETED_ROAD_HOUSE.search(text)
    if match is None or _HAS_ROAD_HOUSE.search(text[: match.start()] + text[match.end() :]):
        return text
    return match.group(1) + text[: match.start()] + text[match.end() :]


def _drop_name_after_road_house(text: str) -> str:
    def without_name(match: re.Match[str]) -> str:
        road_house, name = match.groups()
        bare = _ESTATE_NAME_END.sub("", name)
        return match.group(0) if not bare or _PART_OF_AN_ADDRESS.search(bare) else road_house

    return _NAME_AFTER_ROAD_HOUSE.sub(without_name, text)


def _drop_note(text: str) -> str:
    note = _NOTE_TAIL.search(text)
    if note is None or _names_a_door_part(note.group(0)):
        return text
    return text[: note.start()]


def _names_a_door_part(tail: str) -> bool:
    return _DOOR_WORDS.search(_NOTE_PHRASES.sub("", tail)) is not None


def _drop_implied_floor(text: str) -> str:
    """8楼801 and 8层801室 are room 801: the floor is in the room number, so it adds nothing."""
    match = _FLOOR.search(text)
    if match is None:
        return _FLOOR_ONLY.sub(r"\1层", text)
    after, floor, _, room = match.groups()
    after = after or ""
    # 8楼801: the room number starts with the floor, so 8 is the floor and not a building.
    if room.startswith(floor) and len(room) == len(floor) + 2:
        return text[: match.start()] + after + room
    return text[: match.start()] + after + floor + "层" + room


@lru_cache(maxsize=200_000)
def door_key(detail: str, drop_town: bool = False) -> str:
    """The canonical door: 碧波路690号3号楼2单元501室 == 碧波路690号 3栋 2单元 五零一 == 碧波路690号3-2-501.

    Buildings become N栋, units N单元, rooms bare digits; floors implied by the room number are dropped.
    """
    # Each rule below runs only when the text holds a character its pattern cannot match without (after
    # _NOISE the text has no whitespace, so `$` is the end): most doors need a few of the rules, and a regex
    # run over the text costs about a microsecond even when it finds nothing.
    text = unicodedata.normalize("NFKC", detail).lower()
    text = text.replace("（", "(").replace("）", ")").translate(_FORMAL_NUMERALS)
    if _has_any(text, _OPENING_BRACKETS):
        text = _strip_brackets(_road_house_first(text))
    if text[-1:].isdigit() or not text[-1:].isalnum():
        text = _TRAILING_MOBILE.sub("", text)
    text = _NUMBER_GAP.sub("-", text)
    text = _NOISE.sub("", text)
    if "街道" in text:
        text = _STREET_OFFICE.sub("", text)
    if drop_town:
        text = _TOWN_BEFORE_ROAD.sub("", text)
    if _has_any(text, _NOTE_MARKS):
        text = _drop_note(text)
    text = _cn_to_digits(text)
    if _has_any(text, _BASEMENT_MARKS):
        text = _BASEMENT.sub(lambda m: f"负{m.group(1) or m.group(2)}层", text)
    text = text.replace("#楼", "栋").strip("-").rstrip("#")
    if "第" in text:
        text = _ORDINAL.sub("", text)
    if "-" in text:
        text = _DASH_BESIDE_A_WORD.sub("", _DASHES.sub("-", text))
    if _has_any(text, _HOUSE_MARKS):
        text = _drop_name_after_road_house(text)
    if _ESTATE_WORD in text:
        text = text.replace(_ESTATE_WORD, "")
    if "单" in text:
        text = _SHORT_UNIT.sub("单元", text)
    if "楼" in text and "单元" in text:
        text = _BUILDING_BEFORE_UNIT.sub(r"\1栋", text)
    if _has_any(text, _BUILDING_MARKS):
        text = _BUILDING.sub(r"\1栋", text)
    if _has_any(text, _ROAD_MARKS):
        text = _ROAD_NUMBER.sub(r"\1\2号", text)
    if "单元" in text or "门" in text:
        text = _UNIT.sub(r"\1单元", text)
    side = ""  # put back at the end, after the rules that read the room at the end of the text
    # Only where something can follow a room: a text ending in a Chinese word that is not a door word, or one
    # with 室/房 not at its end (the pattern costs a third of the key when run on every text).
    if ("\u4e00" <= text[-1:] <= "\u9fff" and text[-1] not in _DOOR_WORD_ENDS) or (
        _has_any(text, _ROOM_WORDS) and text[-1:] not in _ROOM_ENDS
    ):
        after_the_room = _AFTER_THE_ROOM.search(text)
        if after_the_room is not None:
            tail = after_the_room.group(2)
            on_side = _ROOM_SIDE.match(tail)
            if not _names_a_door_part(tail[on_side.end() if on_side else 0 :]):
                text, side = text[: after_the_room.start(2)], on_side.group(0) if on_side else ""
        else:
            on_side = _SIDE_AFTER_A_ROOM.search(text)
            if on_side is not None:
                text, side = text[: on_side.start()], on_side.group(0)
    if text[-1:] in _ROOM_ENDS:
        text = _ROOM_SUFFIX.sub(r"\1", text)
    if "f" in text:
        text = _LETTER_FLOOR.sub(lambda m: f"{m.group(1) or m.group(2)}层", text)
    if _has_any(text, _FLOOR_MARKS):
        text = _drop_implied_floor(text)
    if text[-1:].isdigit() and _has_any(text, _LETTERS):
        text = _LETTER_TOWER.sub(lambda m: f"{m.group(1)}{m.group(2) or m.group(3) or m.group(4)}栋{m.group(5)}", text)
    if "-" in text:
        text = _BUILDING_UNIT_DASH.sub(r"栋\1单元\2", text)
        text = _DASH3.sub(r"\1栋\2单元\3", text)
        text = _DASH2.sub(r"\1栋\2", text)
    if "号" in text:
        text = _HOUSE_THEN_UNIT.sub(r"\1栋", text)
        text = _HOUSE_THEN_ROOM.sub(r"\1栋\2", text)
    if "0" in text:
        # Last: the rules above tell a room from a floor or a unit by how many digits it has.
        text = _LEADING_ZEROS.sub("", text)
    return text + side


def _has_any(text: str, chars: frozenset[str]) -> bool:
    return not chars.isdisjoint(text)


# --- the admin part -------------------------------------------------------------------------------------


def _cpca_transform(addresses: list[str]):
    # cpca imports jieba-era code that emits noisy warnings at import; they say nothing about our data.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca

        return cpca.transform(addresses, pos_sensitive=True)


@lru_cache(maxsize=1)
def _districts_by_name() -> dict[str, list[tuple[str, float, float]]]:
    """District name -> [(adcode, lat, lng)] of every district of that name (朝阳区 is in Beijing and Changchun)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca
    out: dict[str, list[tuple[str, float, float]]] = {}
    for info in cpca.ad_2_addr_dict.values():
        if info.rank == info.RANK_COUNTY and info.latitude and info.longitude:
            out.setdefault(info.name, []).append((info.adcode, float(info.latitude), float(info.longitude)))
    return out


# People often name a district without its 区 (上海徐汇漕溪北路88号, 浦东张杨路500号), which cpca does not read.
# Such a short name is taken for the district only when a road with a house number follows it at once, so
# 浦东大道, 长宁路 and 浦东南路 stay roads and 北塔街道, 大关街道 and 独山港镇 stay townships, and only when one
# district of that name fits the province or city the text gives and the order's coordinates, with at least
# one of the two there (朝阳 is in Beijing and Changchun).
_ROAD_WITH_NUMBER = re.compile(r"^[^\W\d_镇乡区县市园村]{2,12}?" + _ROAD_ENDS + r"\d")
# County-level cities are candidates too, so a short 龙港 is both Huludao's 龙港区 and Wenzhou's 龙港市 and is
# left to the coordinates.
_SHORT_NAME_SUFFIXES = ("新区", "区", "县", "市")
# A district's centre further than this from the order's point is not the district the order names.
_SHORT_NAME_MAX_DISTANCE_M = 50_000.0


@lru_cache(maxsize=1)
def _districts_by_short_name() -> dict[str, list[tuple[str, str, float, float]]]:
    """徐汇 -> [(徐汇区, adcode, lat, lng)]; 浦东 -> 浦东新区; 朝阳 -> each 朝阳区 and 朝阳县."""
    out: dict[str, list[tuple[str, str, float, float]]] = {}
    for name, places in _districts_by_name().items():
        suffix = next((s for s in _SHORT_NAME_SUFFIXES if name.endswith(s)), None)
        if suffix and len(name) - len(suffix) >= 2:
            out.setdefault(name[: -len(suffix)], []).extend((name, *place) for place in places)
    return out


def _with_short_district(raw: str, own: tuple, lat: float | None, lng: float | None) -> tuple | None:
    """The row of a text whose district is named without its 区 (see _ROAD_WITH_NUMBER), or None.

    The district is looked for after the province or city cpca read, then at the start of the whole text:
    cpca reads a short 朝阳 as Liaoning's 朝阳市, and then only the coordinates can say which 朝阳 it is."""
    province, _, _, remainder, adcode, _, _ = own
    if isinstance(province, str) and isinstance(remainder, str) and isinstance(adcode, str):
        given = adcode[:4] if adcode[2:4] != "00" else adcode[:2]
        found = _short_district(raw, remainder.strip(), given, lat, lng)
        if found:
            return found
    return _short_district(raw, raw.strip(), "", lat, lng)


def _short_district(raw: str, text: str, given: str, lat: float | None, lng: float | None) -> tuple | None:
    """`text` read as a short district name and the door after it, that district within `given` (an adcode
    prefix, "" for any) and near the point."""
    located = lat is not None and lng is not None
    if not (given or located):
        return None  # a name alone is too weak: 龙港 is a 区 in Liaoning in cpca's table and a 市 in Zhejiang
    for size in (2, 3, 4):
        places = _districts_by_short_name().get(text[:size])
        road = _ROAD_WITH_NUMBER.match(text[size:]) if places else None
        if road and "街道" not in road.group(0):
            break
    else:
        return None
    places = [place for place in places if place[1].startswith(given)]
    if located:
        places = [place for place in places if distance_m(lat, lng, place[2], place[3]) <= _SHORT_NAME_MAX_DISTANCE_M]
    if len(places) != 1:
        return None
    name, district_code, _, _ = places[0]
    province_name, city_name, _ = _admin_names(district_code)
    return _row(raw, province_name, city_name, name, text[size:], district_code, 0, 0, lat, lng)


def _admin_names(adcode: str) -> tuple[str | None, str | None, str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca
    return cpca.adcode_name(adcode[:2]), cpca.adcode_name(adcode[:4]), cpca.adcode_name(adcode)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine); GCJ-02's offset is the same for two nearby points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(min(1.0, a)))


def _nearest_same_name_district(district: str, lat: float | None, lng: float | None) -> str | None:
    """For a district named without its city (鼓楼区 is in four cities), the one nearest the order's point."""
    candidates = _districts_by_name().get(district, [])
    if len(candidates) < 2 or lat is None or lng is None:
        return None
    return min(candidates, key=lambda c: distance_m(lat, lng, c[1], c[2]))[0]


_TOWNSHIP_MARKS = frozenset("街镇乡")
_STREET_MARKS = frozenset("道路街巷同弄")


def _split_remainder(remainder: str) -> tuple[str | None, str]:
    # Each pattern ends within its first 12 or 14 characters, on one of these.
    township = _TOWNSHIP.match(remainder) if _has_any(remainder[:12], _TOWNSHIP_MARKS) else None
    if township:
        return township.group(1), remainder[township.end() :]
    road = _ROAD.match(remainder) if _has_any(remainder[:14], _STREET_MARKS) else None
    return (road.group(1) if road else None), remainder


def _row(
    raw: str, province, city, district, remainder, adcode, province_pos, city_pos, lat: float | None, lng: float | None
) -> tuple | None:
    if not isinstance(district, str) or not isinstance(adcode, str):
        return None
    if province_pos == -1 and city_pos == -1:
        nearest = _nearest_same_name_district(district, lat, lng)
        if nearest and nearest != adcode:
            adcode = nearest
            province, city, district = _admin_names(adcode)
    if city in _MUNICIPALITY_CITY_PLACEHOLDERS or not isinstance(city, str):
        city = province
    remainder = remainder if isinstance(remainder, str) else ""
    street, detail = _split_remainder(remainder)
    # The key starts from cpca's whole remainder: _split_remainder's township split is for display and
    # would take 西乡 off 西乡花园; door_key drops a township only where that is safe.
    door = door_key(remainder, drop_town=_towns_share_no_roads(adcode)) if remainder else ""
    key = f"{adcode}|{door}" if door else None
    return (province, city, district, street, detail or None, adcode, key)


def _towns_share_no_roads(adcode: str) -> bool:
    return adcode.startswith(_TOWNS_SHARE_NO_ROADS) and adcode not in _TOWNS_HAVE_THEIR_OWN_ROADS


def _floats(series: pl.Series | None, n: int) -> list[float | None]:
    if series is None:
        return [None] * n
    return [float(v) if v is not None else None for v in series.cast(pl.Float64, strict=False).to_list()]


# The same doors are ordered to again and again, and cpca is the slow part of parsing: what it makes of a
# text, and what a row makes of (text, fallback, point), depend on nothing else (not the warehouse), so
# they are kept for the process. Bounded: a few hundred bytes an entry.
CACHE_SIZE = 200_000
_CPCA_CACHE = LruCache(CACHE_SIZE)
_ROW_CACHE = LruCache(CACHE_SIZE)


def cache_stats() -> dict[str, tuple[int, int]]:
    """(hits, misses) of the process caches since the last `clear_caches`: cpca by text, rows by input."""
    return {"cpca": (_CPCA_CACHE.hits, _CPCA_CACHE.misses), "row": (_ROW_CACHE.hits, _ROW_CACHE.misses)}


def clear_caches() -> None:
    _CPCA_CACHE.clear()
    _ROW_CACHE.clear()


def simplified(text: str) -> str:
    """`text` with its traditional characters (號, 樓, 廣東, 區) in their simplified forms, so that cpca reads the
    places and the door key the numbers. Only characters outside GB2312, the simplified character set, are
    converted, each on its own: OpenCC's t2s reads running text by phrases and turns 乾 into 干 (乾县, 乾安县),
    a simplified character in its own right that GB2312 has."""
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return "".join(c if _in_gb2312(c) else _traditional_to_simplified().convert(c) for c in text)
    return text


@lru_cache(maxsize=4096)
def _in_gb2312(character: str) -> bool:
    try:
        character.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=1)
def _traditional_to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


def _cpca_rows(texts: list[str]) -> dict[str, tuple]:
    """cpca's reading of each text: (province, city, district, remainder, adcode, province_pos, city_pos)."""
    out: dict[str, tuple] = {}
    missing = []
    for t in texts:
        cached = _CPCA_CACHE.get(t)
        if cached is None:
            missing.append(t)
        else:
            out[t] = cached
    if missing:
        frame = _cpca_transform(missing)
        # As lists: iterating a pandas column yields the same Python values, one slow step at a time.
        columns = (frame[c].tolist() for c in ("省", "市", "区", "地址", "adcode", "省_pos", "市_pos"))
        for t, row in zip(missing, zip(*columns, strict=True), strict=True):
            _CPCA_CACHE.put(t, row)
            out[t] = row
    return out


def parse_addresses(
    addresses: pl.Series, fallback: pl.Series | None = None, lat: pl.Series | None = None, lng: pl.Series | None = None
) -> pl.DataFrame:
    """Parse a series of raw addresses; returns one row per input row, columns PARSED_COLUMNS.

    `fallback` is a second text for the same place whose administrative part is used when the address
    names no district (Meituan's reverse-geocoded address after @#, for a map-picked POI typed without
    one). `lat`/`lng` (GCJ-02) pick among districts of the same name when the address names no city.
    Unparseable addresses (no recognisable district) get nulls, which downstream raises as a
    bad-address exception instead of guessing.
    """
    n = len(addresses)
    raws = addresses.to_list()
    fallbacks = fallback.to_list() if fallback is not None else [None] * n
    lats, lngs = _floats(lat, n), _floats(lng, n)
    empty = (None,) * len(PARSED_COLUMNS)
    rows: list[tuple | None] = [None] * n
    todo: list[int] = []
    for i, (raw, fb, la, ln) in enumerate(zip(raws, fallbacks, lats, lngs, strict=True)):
        if not (isinstance(raw, str) and raw.strip()):
            rows[i] = empty
            continue
        # Most texts name their province or city, and then the point is never read: the row is cached
        # under the texts alone, so another order to the same door (another point) hits it too.
        cached = _ROW_CACHE.get((raw, fb), count=False)
        if cached is None:
            cached = _ROW_CACHE.get((raw, fb, la, ln), count=False)
        _ROW_CACHE.tally(cached is not None)
        if cached is None:
            todo.append(i)
        else:
            rows[i] = cached
    texts = {t for i in todo for t in (raws[i], fallbacks[i]) if isinstance(t, str) and t.strip()}
    plain = {t: simplified(t) for t in texts}
    cpca_rows = _cpca_rows(sorted(set(plain.values()))) if texts else {}
    for i in todo:
        # The cache is keyed by the texts as given; they are read in simplified characters.
        raw, fb, la, ln = raws[i], fallbacks[i], lats[i], lngs[i]
        text, fallback_text = plain[raw], plain.get(fb) if isinstance(fb, str) else None
        # A door ordered to twice in this batch is parsed once: the first of its rows has just cached it.
        cached = _ROW_CACHE.get((raw, fb), count=False)
        if cached is None:
            cached = _ROW_CACHE.get((raw, fb, la, ln), count=False)
        if cached is not None:
            rows[i] = cached
            continue
        own = cpca_rows[text]
        other = cpca_rows.get(fallback_text) if fallback_text is not None else None
        contradicted = (
            other is not None and isinstance(own[0], str) and isinstance(other[0], str) and own[0] != other[0]
        )
        parsed = None if contradicted else _row(text, *own, la, ln)
        if parsed is None and other is not None:
            parsed = _with_fallback_admin(text, own, other, la, ln)
        # _row's same-name district lookup reads the point; so does a short district name.
        point_read = own[5] == -1 and own[6] == -1
        if parsed is None and other is None:
            parsed = _with_short_district(text, own, la, ln)
            point_read = True
        rows[i] = parsed or empty
        _ROW_CACHE.put((raw, fb, la, ln) if point_read else (raw, fb), rows[i])
    # Column by column: polars converts a list of strings it infers several times faster than typed rows.
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(PARSED_COLUMNS)
    return pl.DataFrame(
        [pl.Series(c, values).cast(pl.String) for c, values in zip(PARSED_COLUMNS, columns, strict=True)]
    )


def _with_fallback_admin(raw: str, own: tuple, other: tuple, lat: float | None, lng: float | None) -> tuple | None:
    """The typed text's door under the fallback's district.

    Used when the typed text names no district, or names a province the reverse geocode contradicts: cpca
    reads place words inside road names as places (东方路 -> 东方市 in Hainan, 桂林路 -> 桂林市), and the
    reverse geocode comes from the order's coordinates. Then the whole typed text is the door, since what cpca
    took for a place is part of the road.
    """
    province, city, district, remainder, _, _, _ = own
    fb_province, fb_city, fb_district, _, fb_adcode, _, _ = other
    if not isinstance(fb_district, str):
        return None
    misread = isinstance(province, str) and province != fb_province
    if not misread and isinstance(city, str) and city not in _MUNICIPALITY_CITY_PLACEHOLDERS and city != fb_city:
        return None
    typed_rest = raw if misread or not isinstance(remainder, str) else remainder
    return _row(raw, fb_province, fb_city, fb_district, typed_rest, fb_adcode, 0, 0, lat, lng)


def split_reverse_geocoded(text: str) -> tuple[str, str]:
    """Meituan's "typed@#reverse": the user typed the part before @#; after it is Meituan's reverse
    geocoding of the coordinates (it names the district a map-picked POI leaves out)."""
    typed, _, reverse = text.partition("@#")
    return typed, reverse


def same_door(
    key_a: str | None,
    key_b: str | None,
    point_a: tuple[float, float] | None = None,
    point_b: tuple[float, float] | None = None,
    max_distance_m: float = DEFAULT_MAX_DISTANCE_M,
) -> bool:
    """The pipeline's matching rule (int_merging__merge_groups applies the same): equal keys, and when both orders
    carry coordinates, no further apart than max_distance_m."""
    if key_a is None or key_a != key_b:
        return False
    if point_a is None or point_b is None:
        return True
    return distance_m(*point_a, *point_b) <= max_distance_m
