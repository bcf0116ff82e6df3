"""Word lists for a Chinese bank: pinyin names, places, streets, industries and brands."""

from __future__ import annotations

from typing import Final

# Pinyin surnames with rough population shares (per cent); the long tail is folded into the weights.
SURNAMES: Final = (
    ("Wang", 7.1), ("Li", 7.0), ("Zhang", 6.7), ("Liu", 5.4), ("Chen", 4.5), ("Yang", 3.1),
    ("Huang", 2.2), ("Zhao", 2.0), ("Wu", 2.0), ("Zhou", 1.9), ("Xu", 1.3), ("Sun", 1.2),
    ("Ma", 1.2), ("Zhu", 1.1), ("Hu", 1.1), ("Guo", 1.0), ("He", 1.0), ("Gao", 0.9),
    ("Lin", 0.9), ("Luo", 0.9), ("Zheng", 0.8), ("Liang", 0.8), ("Xie", 0.6), ("Song", 0.6),
    ("Tang", 0.5), ("Han", 0.5), ("Feng", 0.5), ("Deng", 0.5), ("Cao", 0.5), ("Peng", 0.5),
    ("Zeng", 0.5), ("Xiao", 0.4), ("Tian", 0.4), ("Dong", 0.4), ("Pan", 0.4), ("Yuan", 0.4),
    ("Cai", 0.3), ("Jiang", 0.3), ("Yu", 0.3), ("Du", 0.3), ("Ye", 0.3), ("Cheng", 0.3),
    ("Wei", 0.3), ("Su", 0.3), ("Lyu", 0.3), ("Ding", 0.3), ("Ren", 0.3), ("Lu", 0.3),
    ("Yao", 0.3), ("Shen", 0.3), ("Zhong", 0.3), ("Cui", 0.2), ("Tan", 0.2), ("Fan", 0.2),
    ("Jin", 0.2), ("Shi", 0.2), ("Liao", 0.2), ("Jia", 0.2), ("Xia", 0.2), ("Fu", 0.2),
    ("Fang", 0.2), ("Bai", 0.2), ("Zou", 0.2), ("Meng", 0.2), ("Qin", 0.2), ("Qiu", 0.2),
    ("Hou", 0.2), ("Jiang", 0.2), ("Xiong", 0.2), ("Kong", 0.1), ("Mao", 0.1), ("Qian", 0.1),
)  # fmt: skip

MALE_SYLLABLES: Final = (
    "Wei", "Qiang", "Lei", "Jun", "Yong", "Jie", "Tao", "Ming", "Chao", "Gang", "Hui", "Peng",
    "Hao", "Bo", "Jian", "Long", "Feng", "Hua", "Bin", "Xin", "Yu", "Zhi", "Kai", "Rui", "Tian",
    "Yang", "Wen", "Dong", "Liang", "Ping", "Cheng", "Guo", "Hai", "Jin", "Kang", "Lin", "Song",
    "Xiang", "Yi", "Zhen", "Zi", "Ran", "Xuan", "Hong", "Ze", "Yuan", "Shun", "Da",
)  # fmt: skip
FEMALE_SYLLABLES: Final = (
    "Fang", "Na", "Min", "Jing", "Li", "Yan", "Xiu", "Ying", "Juan", "Xia", "Lan", "Mei", "Ting",
    "Qian", "Yue", "Lu", "Xue", "Hui", "Qing", "Dan", "Ling", "Yun", "Shu", "Hong", "Wen", "Ya",
    "Xin", "Jia", "Yi", "Rong", "Gui", "Zi", "Shuang", "Xuan", "Hua", "Qi", "Yu", "Meng",
)  # fmt: skip

# (city, district, resident-id region code, telephone area code); districts are real, codes too.
DISTRICTS: Final = (
    ("Beijing", "Chaoyang", "110105", "010"), ("Beijing", "Haidian", "110108", "010"),
    ("Beijing", "Dongcheng", "110101", "010"), ("Beijing", "Xicheng", "110102", "010"),
    ("Beijing", "Fengtai", "110106", "010"), ("Shanghai", "Pudong", "310115", "021"),
    ("Shanghai", "Xuhui", "310104", "021"), ("Shanghai", "Jingan", "310106", "021"),
    ("Shanghai", "Huangpu", "310101", "021"), ("Shanghai", "Minhang", "310112", "021"),
    ("Guangzhou", "Tianhe", "440106", "020"), ("Guangzhou", "Yuexiu", "440104", "020"),
    ("Guangzhou", "Haizhu", "440105", "020"), ("Guangzhou", "Baiyun", "440111", "020"),
    ("Shenzhen", "Nanshan", "440305", "0755"), ("Shenzhen", "Futian", "440304", "0755"),
    ("Shenzhen", "Luohu", "440303", "0755"), ("Shenzhen", "Baoan", "440306", "0755"),
    ("Hangzhou", "Xihu", "330106", "0571"), ("Hangzhou", "Shangcheng", "330102", "0571"),
    ("Hangzhou", "Binjiang", "330108", "0571"), ("Nanjing", "Xuanwu", "320102", "025"),
    ("Nanjing", "Gulou", "320106", "025"), ("Nanjing", "Jianye", "320105", "025"),
    ("Chengdu", "Wuhou", "510107", "028"), ("Chengdu", "Jinjiang", "510104", "028"),
    ("Chengdu", "Qingyang", "510105", "028"), ("Wuhan", "Wuchang", "420106", "027"),
    ("Wuhan", "Jiangan", "420102", "027"), ("Wuhan", "Hongshan", "420111", "027"),
    ("Xi'an", "Yanta", "610113", "029"), ("Xi'an", "Beilin", "610103", "029"),
    ("Chongqing", "Yuzhong", "500103", "023"), ("Chongqing", "Jiangbei", "500105", "023"),
    ("Tianjin", "Heping", "120101", "022"), ("Tianjin", "Nankai", "120104", "022"),
    ("Suzhou", "Gusu", "320508", "0512"), ("Suzhou", "Wuzhong", "320506", "0512"),
    ("Qingdao", "Shinan", "370202", "0532"), ("Qingdao", "Laoshan", "370212", "0532"),
)  # fmt: skip

STREET_NAMES: Final = (
    "Jianguo", "Renmin", "Zhongshan", "Jiefang", "Heping", "Changan", "Nanjing", "Huaihai",
    "Dongfeng", "Xinhua", "Wenhua", "Chaoyang", "Fuxing", "Hongqiao", "Jinqiao", "Keyuan",
    "Xueyuan", "Binhe", "Huanshi", "Yingbin", "Zhongguancun", "Wangjing", "Shennan", "Tianhe",
    "Linjiang", "Qingnian", "Gongye", "Shiji", "Dongsan", "Xisi", "Guangming", "Minzhu",
    "Tiyu", "Yanan", "Baiyun", "Hubin", "Jinshui", "Wuyi", "Beihai", "Nanhu", "Xingfu",
    "Changjiang", "Huanghe", "Taibai", "Yuhua", "Qinghe", "Dongda", "Xiangyang", "Lianhua",
    "Jingshi", "Tongji", "Fuqian", "Huangpu", "Yuanda", "Kaifa", "Zijin", "Songshan", "Jinsha",
    "Caobao", "Hongxing",
)  # fmt: skip

# Each token: (full form, abbreviation) — the ingest normaliser expands the abbreviation back.
STREET_TYPES: Final = (("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"))
STREET_TYPE_WEIGHTS: Final = (0.6, 0.25, 0.15)
APARTMENT: Final = ("Apartment", "Apt")
BUILDING: Final = ("Building", "Bldg")
DISTRICT: Final = ("District", "Dist")

EMAIL_DOMAINS: Final = (
    ("163.com", 0.28), ("126.com", 0.12), ("sina.com", 0.08), ("139.com", 0.06),
    ("gmail.com", 0.06), ("hotmail.com", 0.05), ("foxmail.com", 0.05), ("sohu.com", 0.03),
)  # fmt: skip
QQ_SHARE: Final = 0.27
"""Share of e-mail addresses that are a QQ number at qq.com."""

MOBILE_PREFIXES: Final = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158,
    159, 166, 170, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 198, 199,
)  # fmt: skip

HOTLINES: Final = ("95588", "400-820-8888")
"""Call-centre numbers that customers type in instead of their own (shared by many strangers)."""

INDUSTRIES: Final = (
    "utilities", "telecom", "retail", "catering", "hospitality", "manufacturing", "wholesale",
    "technology", "construction", "real_estate", "logistics", "healthcare", "education",
    "agriculture", "energy", "finance",
)  # fmt: skip
UTILITY_INDUSTRY: Final = 0
TELECOM_INDUSTRY: Final = 1
MERCHANT_INDUSTRIES: Final = (2, 3, 4)
OTHER_INDUSTRIES: Final = tuple(range(5, len(INDUSTRIES)))

# Company-name suffix per industry (index into INDUSTRIES).
INDUSTRY_SUFFIX: Final = (
    "Public Utilities Co., Ltd.", "Communications Co., Ltd.", "Trading Co., Ltd.",
    "Catering Management Co., Ltd.", "Hotel Management Co., Ltd.",
    "Precision Manufacturing Co., Ltd.", "Import & Export Co., Ltd.", "Technology Co., Ltd.",
    "Construction Engineering Co., Ltd.", "Real Estate Development Co., Ltd.",
    "Logistics Co., Ltd.", "Medical Technology Co., Ltd.", "Education Technology Co., Ltd.",
    "Agricultural Development Co., Ltd.", "New Energy Co., Ltd.", "Investment Management Co., Ltd.",
)  # fmt: skip

UTILITY_NAMES: Final = (
    ("State Grid {city} Electric Power Co.", 0),
    ("{city} Water Supply Group Co., Ltd.", 0),
    ("{city} Gas Group Co., Ltd.", 0),
    ("China Mobile {city} Co., Ltd.", 1),
    ("China Unicom {city} Branch", 1),
    ("China Telecom {city} Branch", 1),
    ("{city} Heating Power Co., Ltd.", 0),
    ("{city} Property Services Co., Ltd.", 0),
)

BRAND_HEADS: Final = (
    "Hua", "Zhong", "Xin", "Tian", "Heng", "Da", "Jin", "Sheng", "Long", "Feng", "Hong", "Kang",
    "Tai", "Rui", "Bo", "Yuan", "Hai", "Fu", "Chang", "Guo", "Ming", "An", "Jia", "Cheng", "Hao",
    "Wei", "Xing", "De", "Li", "Yong",
)  # fmt: skip
BRAND_TAILS: Final = (
    "xin", "da", "tai", "sheng", "yuan", "feng", "hua", "tong", "li", "cheng", "rui", "kang",
    "fa", "an", "ye", "hui", "lian", "mao", "tian", "bang", "run", "hong", "jia", "xiang",
)  # fmt: skip
