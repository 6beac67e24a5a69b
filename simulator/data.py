"""Static vocabulary for the synthetic world: stores, their neighbourhoods, names and the product bases.

Kept apart from the sampling code so that the "facts" (real Shanghai roads, real districts, believable
groceries) can be reviewed and extended without reading any random-number logic. Every road/township
combination here has been checked to parse with cpca to the right district (see the simulator tests).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoreSeed:
    store_id: str
    name: str
    kind: str  # dark_store | shop
    district: str
    township: str
    road: str
    number: int
    lat: float  # GCJ-02
    lng: float
    # Where the store's customers live: townships (may be empty strings) and roads around the store.
    towns: tuple[str, ...]
    roads: tuple[str, ...]
    # Residential compounds that group-buy leaders run pickup points from.
    compounds: tuple[str, ...]


STORE_SEEDS: tuple[StoreSeed, ...] = (
    StoreSeed(
        "SH001",
        "鲜到家张江前置仓",
        "dark_store",
        "浦东新区",
        "张江镇",
        "碧波路",
        690,
        31.2035,
        121.5903,
        ("张江镇",),
        ("碧波路", "祖冲之路", "郭守敬路", "张衡路", "晨晖路", "科苑路", "高斯路"),
        ("汤臣豪园", "长泰东郊", "玉兰香苑", "张江汤臣"),
    ),
    StoreSeed(
        "SH002",
        "鲜到家花木店",
        "shop",
        "浦东新区",
        "花木街道",
        "芳甸路",
        199,
        31.2158,
        121.5534,
        ("花木街道", "北蔡镇"),
        ("芳甸路", "锦绣路", "梅花路", "樱花路", "丁香路", "花木路", "东方路"),
        ("联洋花园", "大华锦绣", "证大家园", "仁恒森兰"),
    ),
    StoreSeed(
        "SH003",
        "鲜到家徐家汇店",
        "shop",
        "徐汇区",
        "徐家汇街道",
        "漕溪北路",
        88,
        31.1925,
        121.4385,
        ("徐家汇街道", "天平路街道", "枫林路街道"),
        ("漕溪北路", "虹桥路", "天钥桥路", "南丹路", "零陵路", "肇嘉浜路"),
        ("汇贤居", "东方曼哈顿", "帝景苑", "西岸公寓"),
    ),
    StoreSeed(
        "SH004",
        "鲜到家田林前置仓",
        "dark_store",
        "徐汇区",
        "田林街道",
        "田林路",
        140,
        31.1714,
        121.4276,
        ("田林街道", "漕河泾街道"),
        ("田林路", "钦州路", "桂林路", "柳州路", "田林东路", "宜山路"),
        ("田林十二村", "华鼎公寓", "桂林苑", "漕河泾新苑"),
    ),
    StoreSeed(
        "SH005",
        "鲜到家静安寺店",
        "shop",
        "静安区",
        "静安寺街道",
        "愚园路",
        68,
        31.2235,
        121.4422,
        ("静安寺街道", "南京西路街道", "江宁路街道", "曹家渡街道"),
        ("愚园路", "华山路", "常德路", "武定路", "万航渡路", "胶州路", "康定路"),
        ("静安枫景", "嘉里华庭", "静安豪景", "中凯城市之光"),
    ),
    StoreSeed(
        "SH006",
        "鲜到家莘庄前置仓",
        "dark_store",
        "闵行区",
        "莘庄镇",
        "莘松路",
        380,
        31.1110,
        121.3832,
        ("莘庄镇", "古美路街道"),
        ("莘松路", "莘建路", "沪闵路", "莘朱路", "顾戴路", "都市路"),
        ("莘城苑", "春申景城", "绿地香树花城", "莘庄新村"),
    ),
    StoreSeed(
        "SH007",
        "鲜到家五角场店",
        "shop",
        "杨浦区",
        "五角场街道",
        "国定路",
        335,
        31.3010,
        121.5140,
        ("五角场街道", "殷行街道", "新江湾城街道", "控江路街道"),
        ("国定路", "政通路", "四平路", "国权路", "淞沪路", "政立路", "黄兴路"),
        ("创智坊", "政立小区", "国定一村", "新江湾尚景园"),
    ),
    StoreSeed(
        "SH008",
        "鲜到家七宝前置仓",
        "dark_store",
        "闵行区",
        "七宝镇",
        "七莘路",
        1888,
        31.1560,
        121.3520,
        ("七宝镇", "虹桥镇"),
        ("七莘路", "漕宝路", "新镇路", "富强街", "沪松公路", "吴中路"),
        ("万科城市花园", "七宝宝龙", "航华一村", "静安新城"),
    ),
)

# Relative weight of each store's neighbourhood in the customer base (dark stores serve wider areas).
STORE_CUSTOMER_WEIGHT: tuple[float, ...] = (1.4, 1.0, 1.1, 1.3, 0.9, 1.2, 1.0, 1.2)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅鹏飞晨宇浩然子轩欣怡雨婷佳琪思远嘉怡俊杰"
    "志强建国海燕晓东文博梓涵一鸣雪莉云峰丹丹颖慧立新春华国庆秋菊晓燕天佑若曦"
)
NICK_SUFFIXES = ("姐", "哥", "阿姨", "叔", "妈妈")

MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
# Platforms' privacy relay numbers: a small shared pool, so they identify nobody.
MEITUAN_RELAY_PREFIXES = ("170", "171")
ELEME_RELAY_PREFIXES = ("165", "167")

CASHIERS = ("C01", "C02", "C03", "C05", "C08", "C11", "C12")


@dataclass(frozen=True, slots=True)
class ProductBase:
    category: str
    temp_zone: str
    name: str
    measure: str  # g | ml | 枚 | 包 | 卷 | 只
    size: float  # the standard pack in `measure`
    price: float  # yuan for the standard pack
    grams_per_unit: float  # weight of one `measure` unit, for counted goods; 1.0 for g, ~1.03 for ml


# 60 ambient, 30 chilled, 10 frozen bases x 3 pack sizes = 300 SKUs with the requested 60/30/10 split.
PRODUCT_BASES: tuple[ProductBase, ...] = (
    # ambient: fruit
    ProductBase("水果", "ambient", "红富士苹果", "g", 1000, 12.9, 1),
    ProductBase("水果", "ambient", "赣南脐橙", "g", 1000, 11.9, 1),
    ProductBase("水果", "ambient", "海南香蕉", "g", 1000, 7.9, 1),
    ProductBase("水果", "ambient", "巨峰葡萄", "g", 500, 12.8, 1),
    ProductBase("水果", "ambient", "砂糖橘", "g", 1000, 9.9, 1),
    ProductBase("水果", "ambient", "库尔勒香梨", "g", 1000, 13.9, 1),
    ProductBase("水果", "ambient", "海南金煌芒", "g", 1000, 15.8, 1),
    ProductBase("水果", "ambient", "阳光玫瑰葡萄", "g", 500, 24.9, 1),
    ProductBase("水果", "ambient", "徐香猕猴桃", "g", 1000, 16.9, 1),
    ProductBase("水果", "ambient", "红心火龙果", "g", 1000, 14.9, 1),
    ProductBase("水果", "ambient", "百香果", "g", 500, 9.9, 1),
    ProductBase("水果", "ambient", "沃柑", "g", 1000, 10.9, 1),
    ProductBase("水果", "ambient", "西州蜜瓜", "g", 1500, 19.9, 1),
    ProductBase("水果", "ambient", "炎陵黄桃", "g", 1000, 18.8, 1),
    ProductBase("水果", "ambient", "丑橘", "g", 1000, 13.5, 1),
    # ambient: grain, oil, seasoning
    ProductBase("粮油调味", "ambient", "东北大米", "g", 5000, 39.9, 1),
    ProductBase("粮油调味", "ambient", "五常稻花香米", "g", 2500, 45.0, 1),
    ProductBase("粮油调味", "ambient", "压榨花生油", "ml", 1800, 59.9, 0.92),
    ProductBase("粮油调味", "ambient", "菜籽油", "ml", 1800, 36.9, 0.92),
    ProductBase("粮油调味", "ambient", "特级生抽", "ml", 500, 9.9, 1.1),
    ProductBase("粮油调味", "ambient", "红烧老抽", "ml", 500, 8.9, 1.1),
    ProductBase("粮油调味", "ambient", "镇江香醋", "ml", 500, 7.5, 1.05),
    ProductBase("粮油调味", "ambient", "精制食用盐", "g", 400, 3.5, 1),
    ProductBase("粮油调味", "ambient", "绵白糖", "g", 400, 6.9, 1),
    ProductBase("粮油调味", "ambient", "蚝油", "ml", 500, 11.9, 1.2),
    ProductBase("粮油调味", "ambient", "黄酒料酒", "ml", 500, 6.5, 1),
    ProductBase("粮油调味", "ambient", "龙须挂面", "g", 900, 8.9, 1),
    ProductBase("粮油调味", "ambient", "中筋面粉", "g", 2500, 17.9, 1),
    ProductBase("粮油调味", "ambient", "黄小米", "g", 1000, 12.9, 1),
    ProductBase("粮油调味", "ambient", "黑芝麻糊", "g", 600, 19.9, 1),
    # ambient: snacks
    ProductBase("休闲零食", "ambient", "原味薯片", "g", 100, 7.9, 1),
    ProductBase("休闲零食", "ambient", "苏打饼干", "g", 400, 12.9, 1),
    ProductBase("休闲零食", "ambient", "每日坚果", "g", 375, 49.9, 1),
    ProductBase("休闲零食", "ambient", "奶油夏威夷果", "g", 250, 29.9, 1),
    ProductBase("休闲零食", "ambient", "原味开心果", "g", 250, 32.9, 1),
    ProductBase("休闲零食", "ambient", "五香牛肉干", "g", 200, 35.8, 1),
    ProductBase("休闲零食", "ambient", "即食海苔", "g", 40, 9.9, 1),
    ProductBase("休闲零食", "ambient", "九制话梅", "g", 150, 8.8, 1),
    ProductBase("休闲零食", "ambient", "黑巧克力", "g", 100, 15.9, 1),
    ProductBase("休闲零食", "ambient", "山核桃瓜子", "g", 500, 13.9, 1),
    # ambient: drinks
    ProductBase("酒水饮料", "ambient", "天然矿泉水", "ml", 1500, 2.5, 1),
    ProductBase("酒水饮料", "ambient", "100%橙汁", "ml", 1000, 15.9, 1.04),
    ProductBase("酒水饮料", "ambient", "可乐", "ml", 330, 3.0, 1.04),
    ProductBase("酒水饮料", "ambient", "无糖绿茶", "ml", 500, 4.5, 1),
    ProductBase("酒水饮料", "ambient", "无糖乌龙茶", "ml", 500, 5.5, 1),
    ProductBase("酒水饮料", "ambient", "苏打水", "ml", 410, 4.0, 1),
    ProductBase("酒水饮料", "ambient", "椰子水", "ml", 1000, 16.9, 1.02),
    ProductBase("酒水饮料", "ambient", "原味豆奶", "ml", 250, 3.5, 1.03),
    ProductBase("酒水饮料", "ambient", "柠檬茶", "ml", 500, 5.0, 1.03),
    ProductBase("酒水饮料", "ambient", "白桃气泡水", "ml", 480, 5.5, 1.02),
    # ambient: household
    ProductBase("日用百货", "ambient", "原木抽纸", "包", 6, 19.9, 90),
    ProductBase("日用百货", "ambient", "厨房纸巾", "卷", 2, 12.9, 150),
    ProductBase("日用百货", "ambient", "食品保鲜袋", "卷", 1, 9.9, 120),
    ProductBase("日用百货", "ambient", "洗洁精", "ml", 1000, 12.9, 1.05),
    ProductBase("日用百货", "ambient", "加厚垃圾袋", "卷", 3, 11.9, 110),
    # ambient: eggs & bakery
    ProductBase("蛋品烘焙", "ambient", "散养土鸡蛋", "枚", 10, 19.9, 50),
    ProductBase("蛋品烘焙", "ambient", "新鲜鸡蛋", "枚", 10, 13.9, 55),
    ProductBase("蛋品烘焙", "ambient", "全麦吐司", "g", 400, 12.9, 1),
    ProductBase("蛋品烘焙", "ambient", "黄油面包", "g", 300, 10.9, 1),
    ProductBase("蛋品烘焙", "ambient", "咸鸭蛋", "枚", 6, 15.9, 70),
    # chilled: vegetables
    ProductBase("新鲜蔬菜", "chilled", "有机菠菜", "g", 300, 7.9, 1),
    ProductBase("新鲜蔬菜", "chilled", "上海青", "g", 500, 4.9, 1),
    ProductBase("新鲜蔬菜", "chilled", "西兰花", "g", 500, 6.9, 1),
    ProductBase("新鲜蔬菜", "chilled", "普罗旺斯番茄", "g", 500, 8.9, 1),
    ProductBase("新鲜蔬菜", "chilled", "水果黄瓜", "g", 500, 7.5, 1),
    ProductBase("新鲜蔬菜", "chilled", "球生菜", "g", 400, 4.5, 1),
    ProductBase("新鲜蔬菜", "chilled", "胡萝卜", "g", 500, 3.9, 1),
    ProductBase("新鲜蔬菜", "chilled", "娃娃菜", "g", 600, 5.9, 1),
    ProductBase("新鲜蔬菜", "chilled", "鲜香菇", "g", 250, 6.9, 1),
    ProductBase("新鲜蔬菜", "chilled", "长茄子", "g", 500, 5.5, 1),
    ProductBase("新鲜蔬菜", "chilled", "西芹", "g", 500, 5.9, 1),
    ProductBase("新鲜蔬菜", "chilled", "杏鲍菇", "g", 400, 7.9, 1),
    # chilled: meat & poultry
    ProductBase("肉禽", "chilled", "冷鲜猪里脊", "g", 400, 19.9, 1),
    ProductBase("肉禽", "chilled", "猪肋排", "g", 500, 39.9, 1),
    ProductBase("肉禽", "chilled", "谷饲牛腩", "g", 500, 49.9, 1),
    ProductBase("肉禽", "chilled", "鸡胸肉", "g", 500, 14.9, 1),
    ProductBase("肉禽", "chilled", "三黄鸡", "g", 1000, 32.9, 1),
    ProductBase("肉禽", "chilled", "鸡翅中", "g", 500, 29.9, 1),
    # chilled: dairy
    ProductBase("乳品", "chilled", "鲜牛奶", "ml", 950, 16.9, 1.03),
    ProductBase("乳品", "chilled", "原味酸奶", "g", 450, 12.9, 1),
    ProductBase("乳品", "chilled", "儿童奶酪棒", "g", 500, 39.9, 1),
    ProductBase("乳品", "chilled", "低脂鲜牛奶", "ml", 950, 17.9, 1.03),
    ProductBase("乳品", "chilled", "希腊酸奶", "g", 200, 9.9, 1),
    ProductBase("乳品", "chilled", "淡奶油", "ml", 250, 16.5, 1),
    # chilled: soy
    ProductBase("豆制品", "chilled", "内酯嫩豆腐", "g", 400, 3.5, 1),
    ProductBase("豆制品", "chilled", "卤水老豆腐", "g", 500, 4.5, 1),
    ProductBase("豆制品", "chilled", "现磨豆浆", "ml", 1000, 6.9, 1.02),
    # chilled: live & fresh seafood
    ProductBase("水产", "chilled", "鲜活基围虾", "g", 500, 49.9, 1),
    ProductBase("水产", "chilled", "鲜活鲈鱼", "g", 600, 29.9, 1),
    ProductBase("水产", "chilled", "鲜活花蛤", "g", 500, 15.9, 1),
    # frozen
    ProductBase("速冻食品", "frozen", "猪肉白菜水饺", "g", 500, 19.9, 1),
    ProductBase("速冻食品", "frozen", "荠菜鲜肉馄饨", "g", 500, 18.9, 1),
    ProductBase("速冻食品", "frozen", "黑芝麻汤圆", "g", 400, 12.9, 1),
    ProductBase("速冻食品", "frozen", "甜玉米段", "g", 800, 16.9, 1),
    ProductBase("速冻食品", "frozen", "原切西冷牛排", "g", 300, 59.9, 1),
    ProductBase("速冻食品", "frozen", "蟹粉小笼包", "g", 480, 26.9, 1),
    ProductBase("速冻食品", "frozen", "老上海葱油饼", "g", 900, 19.9, 1),
    ProductBase("冷冻水产", "frozen", "冷冻虾仁", "g", 500, 45.9, 1),
    ProductBase("冷冻水产", "frozen", "冷冻带鱼段", "g", 800, 39.9, 1),
    ProductBase("冷冻水产", "frozen", "冷冻三文鱼块", "g", 300, 49.9, 1),
)

# Pack-size variants: (size factor, price factor). Bigger packs are cheaper per unit.
PACK_VARIANTS: tuple[tuple[float, float], ...] = ((0.5, 0.56), (1.0, 1.0), (2.0, 1.88))

RIDER_SHIFTS: tuple[tuple[str, str], ...] = (
    ("07:00", "15:00"),
    ("10:00", "20:00"),
    ("14:00", "22:00"),
    ("16:00", "23:30"),
)
