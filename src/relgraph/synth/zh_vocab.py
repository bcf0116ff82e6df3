"""Word lists for the ``zh`` locale: hanzi names with their pinyin, places, streets and firms.

Every character used in a person's name is listed with its pinyin here, so the card system's
embossed name (``ZHANG XIUYING``) is derived from the very same table and no pinyin library
is needed.
"""

from __future__ import annotations

from typing import Final

# The 100 most common surnames with their published population shares (per cent; Ministry of
# Public Security household-register figures, rounded). The tail beyond them is not drawn,
# so the shares are renormalised over these 100 (they cover about 85% of the population).
SURNAMES: Final = (
    ("王", "wang", 7.12), ("李", "li", 7.00), ("张", "zhang", 6.67), ("刘", "liu", 5.38),
    ("陈", "chen", 4.53), ("杨", "yang", 3.08), ("黄", "huang", 2.23), ("赵", "zhao", 2.15),
    ("吴", "wu", 2.05), ("周", "zhou", 1.92), ("徐", "xu", 1.37), ("孙", "sun", 1.29),
    ("马", "ma", 1.24), ("朱", "zhu", 1.18), ("胡", "hu", 1.14), ("郭", "guo", 1.11),
    ("何", "he", 1.06), ("高", "gao", 1.00), ("林", "lin", 0.97), ("罗", "luo", 0.95),
    ("郑", "zheng", 0.88), ("梁", "liang", 0.86), ("谢", "xie", 0.73), ("宋", "song", 0.69),
    ("唐", "tang", 0.68), ("许", "xu", 0.66), ("韩", "han", 0.65), ("冯", "feng", 0.64),
    ("邓", "deng", 0.62), ("曹", "cao", 0.61), ("彭", "peng", 0.58), ("曾", "zeng", 0.57),
    ("肖", "xiao", 0.56), ("田", "tian", 0.53), ("董", "dong", 0.52), ("袁", "yuan", 0.51),
    ("潘", "pan", 0.50), ("于", "yu", 0.49), ("蒋", "jiang", 0.48), ("蔡", "cai", 0.47),
    ("余", "yu", 0.46), ("杜", "du", 0.45), ("叶", "ye", 0.44), ("程", "cheng", 0.43),
    ("苏", "su", 0.42), ("魏", "wei", 0.41), ("吕", "lv", 0.40), ("丁", "ding", 0.39),
    ("任", "ren", 0.38), ("沈", "shen", 0.37), ("姚", "yao", 0.36), ("卢", "lu", 0.35),
    ("姜", "jiang", 0.34), ("崔", "cui", 0.33), ("钟", "zhong", 0.32), ("谭", "tan", 0.31),
    ("陆", "lu", 0.30), ("汪", "wang", 0.29), ("范", "fan", 0.28), ("金", "jin", 0.27),
    ("石", "shi", 0.26), ("廖", "liao", 0.25), ("贾", "jia", 0.24), ("夏", "xia", 0.23),
    ("韦", "wei", 0.22), ("付", "fu", 0.21), ("方", "fang", 0.20), ("白", "bai", 0.20),
    ("邹", "zou", 0.19), ("孟", "meng", 0.19), ("熊", "xiong", 0.18), ("秦", "qin", 0.18),
    ("邱", "qiu", 0.17), ("江", "jiang", 0.17), ("尹", "yin", 0.16), ("薛", "xue", 0.16),
    ("闫", "yan", 0.15), ("段", "duan", 0.15), ("雷", "lei", 0.15), ("侯", "hou", 0.14),
    ("龙", "long", 0.14), ("史", "shi", 0.14), ("陶", "tao", 0.13), ("黎", "li", 0.13),
    ("贺", "he", 0.13), ("顾", "gu", 0.12), ("毛", "mao", 0.12), ("郝", "hao", 0.12),
    ("龚", "gong", 0.11), ("邵", "shao", 0.11), ("万", "wan", 0.11), ("钱", "qian", 0.10),
    ("严", "yan", 0.10), ("覃", "qin", 0.10), ("武", "wu", 0.10), ("戴", "dai", 0.10),
    ("莫", "mo", 0.09), ("孔", "kong", 0.09), ("向", "xiang", 0.09), ("汤", "tang", 0.09),
)  # fmt: skip

# Given-name characters with pinyin, most popular first; drawn with Zipf-like weights so that
# the common ones (伟, 芳, 秀英 …) repeat: several 张伟 and 王芳 in a bank of 100,000.
MALE_CHARS: Final = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"),
    ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("刚", "gang"),
    ("辉", "hui"), ("鹏", "peng"), ("华", "hua"), ("飞", "fei"), ("鑫", "xin"),
    ("波", "bo"), ("斌", "bin"), ("宇", "yu"), ("浩", "hao"), ("凯", "kai"),
    ("健", "jian"), ("俊", "jun"), ("帆", "fan"), ("帅", "shuai"), ("旭", "xu"),
    ("宁", "ning"), ("龙", "long"), ("林", "lin"), ("欢", "huan"), ("阳", "yang"),
    ("建", "jian"), ("亮", "liang"), ("成", "cheng"), ("峰", "feng"), ("国", "guo"),
    ("平", "ping"), ("文", "wen"), ("东", "dong"), ("海", "hai"), ("志", "zhi"),
    ("晨", "chen"), ("博", "bo"), ("子", "zi"), ("轩", "xuan"), ("昊", "hao"),
    ("宏", "hong"), ("振", "zhen"), ("天", "tian"), ("然", "ran"), ("泽", "ze"),
    ("睿", "rui"), ("嘉", "jia"), ("毅", "yi"), ("兵", "bing"), ("春", "chun"),
    ("永", "yong"), ("金", "jin"), ("庆", "qing"), ("德", "de"), ("荣", "rong"),
    ("新", "xin"), ("利", "li"), ("清", "qing"), ("祥", "xiang"), ("光", "guang"),
    ("瑞", "rui"), ("晓", "xiao"), ("一", "yi"), ("思", "si"), ("安", "an"),
)  # fmt: skip
FEMALE_CHARS: Final = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("艳", "yan"), ("秀", "xiu"), ("英", "ying"), ("娟", "juan"), ("霞", "xia"),
    ("兰", "lan"), ("梅", "mei"), ("婷", "ting"), ("倩", "qian"), ("玲", "ling"),
    ("桂", "gui"), ("玉", "yu"), ("红", "hong"), ("燕", "yan"), ("雪", "xue"),
    ("慧", "hui"), ("琳", "lin"), ("洁", "jie"), ("萍", "ping"), ("丹", "dan"),
    ("颖", "ying"), ("凤", "feng"), ("云", "yun"), ("莉", "li"), ("晶", "jing"),
    ("琴", "qin"), ("欣", "xin"), ("怡", "yi"), ("佳", "jia"), ("雨", "yu"),
    ("涵", "han"), ("诗", "shi"), ("梦", "meng"), ("悦", "yue"), ("璐", "lu"),
    ("瑶", "yao"), ("蕾", "lei"), ("珊", "shan"), ("露", "lu"), ("淑", "shu"),
    ("春", "chun"), ("萌", "meng"), ("茜", "qian"), ("薇", "wei"), ("妍", "yan"),
    ("菲", "fei"), ("琪", "qi"), ("雯", "wen"), ("晓", "xiao"), ("小", "xiao"),
    ("月", "yue"), ("美", "mei"), ("华", "hua"), ("秋", "qiu"), ("婉", "wan"),
    ("琦", "qi"), ("馨", "xin"), ("宁", "ning"), ("思", "si"), ("彤", "tong"),
    ("可", "ke"), ("子", "zi"), ("一", "yi"), ("欢", "huan"), ("爱", "ai"),
)  # fmt: skip

# Aligned with ``vocab.DISTRICTS`` entry by entry (same region codes): province (empty for the
# four municipalities, whose city is the province-level unit), city, district.
DISTRICTS: Final = (
    ("", "北京市", "朝阳区"), ("", "北京市", "海淀区"), ("", "北京市", "东城区"),
    ("", "北京市", "西城区"), ("", "北京市", "丰台区"), ("", "上海市", "浦东新区"),
    ("", "上海市", "徐汇区"), ("", "上海市", "静安区"), ("", "上海市", "黄浦区"),
    ("", "上海市", "闵行区"), ("广东省", "广州市", "天河区"), ("广东省", "广州市", "越秀区"),
    ("广东省", "广州市", "海珠区"), ("广东省", "广州市", "白云区"),
    ("广东省", "深圳市", "南山区"), ("广东省", "深圳市", "福田区"),
    ("广东省", "深圳市", "罗湖区"), ("广东省", "深圳市", "宝安区"),
    ("浙江省", "杭州市", "西湖区"), ("浙江省", "杭州市", "上城区"),
    ("浙江省", "杭州市", "滨江区"), ("江苏省", "南京市", "玄武区"),
    ("江苏省", "南京市", "鼓楼区"), ("江苏省", "南京市", "建邺区"),
    ("四川省", "成都市", "武侯区"), ("四川省", "成都市", "锦江区"),
    ("四川省", "成都市", "青羊区"), ("湖北省", "武汉市", "武昌区"),
    ("湖北省", "武汉市", "江岸区"), ("湖北省", "武汉市", "洪山区"),
    ("陕西省", "西安市", "雁塔区"), ("陕西省", "西安市", "碑林区"),
    ("", "重庆市", "渝中区"), ("", "重庆市", "江北区"), ("", "天津市", "和平区"),
    ("", "天津市", "南开区"), ("江苏省", "苏州市", "姑苏区"), ("江苏省", "苏州市", "吴中区"),
    ("山东省", "青岛市", "市南区"), ("山东省", "青岛市", "崂山区"),
)  # fmt: skip

# Aligned with ``vocab.STREET_NAMES``; a street is name + one of STREET_TYPES (路, 街, 大道).
STREET_NAMES: Final = (
    "建国", "人民", "中山", "解放", "和平", "长安", "南京", "淮海", "东风", "新华", "文化",
    "朝阳", "复兴", "虹桥", "金桥", "科苑", "学院", "滨河", "环市", "迎宾", "中关村", "望京",
    "深南", "天河", "临江", "青年", "工业", "世纪", "东三环", "西四环", "光明", "民主", "体育",
    "延安", "白云", "湖滨", "金水", "五一", "北海", "南湖", "幸福", "长江", "黄河", "太白",
    "雨花", "清河", "东大", "向阳", "莲花", "京师", "同济", "府前", "黄浦", "远大", "开发",
    "紫金", "嵩山", "金沙", "漕宝", "红星",
)  # fmt: skip
STREET_TYPES: Final = ("路", "街", "大道")
SECTIONED_STREETS: Final = frozenset({1, 2, 8, 23, 39, 40, 41, 42})
"""Indexes of the street names long enough to be cut in sections (``人民路四段``)."""
SECTION_NUMERALS: Final = ("一", "二", "三", "四", "五", "六")

FULL_WIDTH_DIGITS: Final = "０１２３４５６７８９"

INDUSTRY_SUFFIX: Final = (
    "公用事业有限公司", "通信有限公司", "商贸有限公司", "餐饮管理有限公司", "酒店管理有限公司",
    "精密制造有限公司", "进出口有限公司", "科技有限公司", "建筑工程有限公司",
    "房地产开发有限公司", "物流有限公司", "医疗科技有限公司", "教育科技有限公司",
    "农业发展有限公司", "新能源有限公司", "投资管理有限公司",
)  # fmt: skip
HOLDING_SUFFIX: Final = "控股集团有限公司"

# Aligned with ``vocab.UTILITY_NAMES`` (same order and industries).
UTILITY_NAMES: Final = (
    "国网{city}供电公司", "{city}自来水集团有限公司", "{city}燃气集团有限公司",
    "中国移动通信集团{city}有限公司", "中国联合网络通信有限公司{city}分公司",
    "中国电信股份有限公司{city}分公司", "{city}热力有限公司", "{city}物业服务有限公司",
)  # fmt: skip

# Aligned with ``vocab.BRAND_HEADS`` / ``vocab.BRAND_TAILS``.
BRAND_HEADS: Final = (
    "华", "中", "新", "天", "恒", "大", "金", "盛", "隆", "丰", "宏", "康", "泰", "瑞", "博",
    "远", "海", "富", "昌", "国", "明", "安", "嘉", "诚", "豪", "伟", "兴", "德", "利", "永",
)  # fmt: skip
BRAND_TAILS: Final = (
    "信", "达", "泰", "盛", "源", "丰", "华", "通", "利", "成", "瑞", "康", "发", "安", "业",
    "辉", "联", "贸", "天", "邦", "润", "鸿", "佳", "祥",
)  # fmt: skip
