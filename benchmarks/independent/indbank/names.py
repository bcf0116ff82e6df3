"""Chinese personal names in hanzi and in card-style pinyin, with homophone typos.

Surname shares follow the published ranking of the 2020 census surname report (王, 李, 张
about 7% each, a long tail after); the table is truncated at 100 surnames plus three compound
ones and renormalised. Given names are one character (30%) or two (70%) drawn with a
Zipf-like weight from a short list of popular characters, so common names such as 王伟, 张伟,
李娜 collide many times, as they do in real customer files.
"""

from __future__ import annotations

from typing import Final

import numpy as np

# (surname, pinyin, share in percent)
SURNAMES: Final = (
    ("王", "WANG", 7.1), ("李", "LI", 7.0), ("张", "ZHANG", 6.7), ("刘", "LIU", 5.4),
    ("陈", "CHEN", 4.5), ("杨", "YANG", 3.1), ("黄", "HUANG", 2.2), ("赵", "ZHAO", 2.0),
    ("吴", "WU", 2.0), ("周", "ZHOU", 1.9), ("徐", "XU", 1.5), ("孙", "SUN", 1.4),
    ("马", "MA", 1.3), ("朱", "ZHU", 1.2), ("胡", "HU", 1.1), ("郭", "GUO", 1.1),
    ("何", "HE", 1.1), ("林", "LIN", 1.0), ("高", "GAO", 1.0), ("罗", "LUO", 0.9),
    ("郑", "ZHENG", 0.8), ("梁", "LIANG", 0.8), ("谢", "XIE", 0.7), ("宋", "SONG", 0.6),
    ("唐", "TANG", 0.6), ("许", "XU", 0.6), ("韩", "HAN", 0.6), ("冯", "FENG", 0.6),
    ("邓", "DENG", 0.6), ("曹", "CAO", 0.5), ("彭", "PENG", 0.5), ("曾", "ZENG", 0.5),
    ("肖", "XIAO", 0.5), ("田", "TIAN", 0.5), ("董", "DONG", 0.5), ("袁", "YUAN", 0.4),
    ("潘", "PAN", 0.4), ("于", "YU", 0.4), ("蒋", "JIANG", 0.4), ("蔡", "CAI", 0.4),
    ("余", "YU", 0.4), ("杜", "DU", 0.4), ("叶", "YE", 0.4), ("程", "CHENG", 0.4),
    ("苏", "SU", 0.3), ("魏", "WEI", 0.3), ("吕", "LV", 0.3), ("丁", "DING", 0.3),
    ("任", "REN", 0.3), ("沈", "SHEN", 0.3), ("姚", "YAO", 0.3), ("卢", "LU", 0.3),
    ("姜", "JIANG", 0.3), ("崔", "CUI", 0.3), ("钟", "ZHONG", 0.3), ("谭", "TAN", 0.3),
    ("陆", "LU", 0.3), ("汪", "WANG", 0.3), ("范", "FAN", 0.3), ("金", "JIN", 0.3),
    ("石", "SHI", 0.3), ("廖", "LIAO", 0.3), ("贾", "JIA", 0.3), ("夏", "XIA", 0.2),
    ("韦", "WEI", 0.2), ("付", "FU", 0.2), ("方", "FANG", 0.2), ("白", "BAI", 0.2),
    ("邹", "ZOU", 0.2), ("孟", "MENG", 0.2), ("熊", "XIONG", 0.2), ("秦", "QIN", 0.2),
    ("邱", "QIU", 0.2), ("江", "JIANG", 0.2), ("尹", "YIN", 0.2), ("薛", "XUE", 0.2),
    ("闫", "YAN", 0.2), ("段", "DUAN", 0.2), ("雷", "LEI", 0.2), ("侯", "HOU", 0.2),
    ("龙", "LONG", 0.2), ("史", "SHI", 0.2), ("陶", "TAO", 0.2), ("黎", "LI", 0.2),
    ("贺", "HE", 0.2), ("顾", "GU", 0.2), ("毛", "MAO", 0.2), ("郝", "HAO", 0.2),
    ("龚", "GONG", 0.2), ("邵", "SHAO", 0.2), ("万", "WAN", 0.2), ("钱", "QIAN", 0.2),
    ("严", "YAN", 0.2), ("覃", "QIN", 0.2), ("武", "WU", 0.2), ("戴", "DAI", 0.2),
    ("莫", "MO", 0.2), ("孔", "KONG", 0.2), ("向", "XIANG", 0.2), ("汤", "TANG", 0.2),
    ("欧阳", "OUYANG", 0.05), ("司马", "SIMA", 0.02), ("诸葛", "ZHUGE", 0.01),
)  # fmt: skip

# (character, pinyin, weight for men, weight for women); weights are relative popularity.
GIVEN: Final = (
    ("伟", "WEI", 30, 1), ("强", "QIANG", 14, 0), ("磊", "LEI", 14, 0), ("军", "JUN", 13, 1),
    ("勇", "YONG", 11, 0), ("杰", "JIE", 11, 1), ("涛", "TAO", 10, 0), ("斌", "BIN", 9, 0),
    ("超", "CHAO", 9, 0), ("明", "MING", 9, 2), ("刚", "GANG", 8, 0), ("平", "PING", 7, 4),
    ("辉", "HUI", 7, 1), ("鹏", "PENG", 7, 0), ("华", "HUA", 7, 5), ("飞", "FEI", 6, 1),
    ("鑫", "XIN", 6, 2), ("波", "BO", 6, 0), ("宇", "YU", 6, 1), ("浩", "HAO", 6, 0),
    ("凯", "KAI", 5, 0), ("健", "JIAN", 5, 0), ("俊", "JUN", 5, 0), ("帆", "FAN", 4, 1),
    ("建", "JIAN", 5, 0), ("国", "GUO", 5, 0), ("峰", "FENG", 5, 0), ("亮", "LIANG", 4, 0),
    ("成", "CHENG", 4, 0), ("龙", "LONG", 4, 0), ("文", "WEN", 4, 2), ("志", "ZHI", 4, 0),
    ("海", "HAI", 4, 0), ("东", "DONG", 4, 0), ("林", "LIN", 3, 2), ("博", "BO", 3, 0),
    ("晨", "CHEN", 3, 2), ("轩", "XUAN", 3, 0), ("子", "ZI", 3, 3), ("天", "TIAN", 3, 0),
    ("泽", "ZE", 3, 0), ("睿", "RUI", 3, 1), ("航", "HANG", 3, 0), ("新", "XIN", 2, 1),
    ("永", "YONG", 2, 0), ("春", "CHUN", 2, 3), ("小", "XIAO", 3, 4),
    ("芳", "FANG", 0, 25), ("娜", "NA", 0, 22), ("敏", "MIN", 1, 16), ("静", "JING", 0, 16),
    ("丽", "LI", 0, 15), ("艳", "YAN", 0, 13), ("娟", "JUAN", 0, 11), ("霞", "XIA", 0, 10),
    ("秀", "XIU", 0, 9), ("英", "YING", 0, 9), ("玲", "LING", 0, 9), ("燕", "YAN", 0, 8),
    ("红", "HONG", 0, 8), ("梅", "MEI", 0, 7), ("莉", "LI", 0, 6), ("婷", "TING", 0, 6),
    ("雪", "XUE", 0, 5), ("琳", "LIN", 0, 5), ("慧", "HUI", 0, 5), ("颖", "YING", 0, 5),
    ("晶", "JING", 0, 4), ("倩", "QIAN", 0, 4), ("洁", "JIE", 0, 4), ("欣", "XIN", 0, 4),
    ("怡", "YI", 0, 4), ("佳", "JIA", 1, 4), ("雨", "YU", 0, 4), ("萱", "XUAN", 0, 3),
    ("涵", "HAN", 0, 3), ("琪", "QI", 0, 3), ("桂", "GUI", 0, 3), ("兰", "LAN", 0, 3),
    ("凤", "FENG", 0, 3), ("淑", "SHU", 0, 2), ("珍", "ZHEN", 0, 2), ("玉", "YU", 0, 3),
    ("玮", "WEI", 1, 0), ("炜", "WEI", 1, 0), ("俐", "LI", 0, 1), ("菁", "JING", 0, 1),
    ("君", "JUN", 1, 1), ("铭", "MING", 1, 0), ("晖", "HUI", 1, 0), ("锋", "FENG", 1, 0),
    ("韬", "TAO", 1, 0), ("彬", "BIN", 1, 0), ("昊", "HAO", 1, 0), ("皓", "HAO", 1, 0),
    ("恺", "KAI", 1, 0), ("剑", "JIAN", 1, 0), ("骏", "JUN", 1, 0), ("凡", "FAN", 1, 1),
    ("诚", "CHENG", 1, 0), ("雯", "WEN", 0, 1), ("智", "ZHI", 1, 0), ("冬", "DONG", 1, 1),
    ("辰", "CHEN", 1, 0), ("亭", "TING", 0, 1), ("惠", "HUI", 0, 1), ("莹", "YING", 0, 1),
    ("茜", "QIAN", 0, 1), ("仪", "YI", 0, 1), ("嘉", "JIA", 1, 1), ("晗", "HAN", 0, 1),
    ("祺", "QI", 1, 0), ("琦", "QI", 0, 1), ("羽", "YU", 1, 1),
)  # fmt: skip

SURNAME_CHARS: Final = np.array([s[0] for s in SURNAMES], dtype=object)
SURNAME_PINYIN: Final = np.array([s[1] for s in SURNAMES], dtype=object)
_SURNAME_P: Final = np.array([s[2] for s in SURNAMES]) / sum(s[2] for s in SURNAMES)
GIVEN_CHARS: Final = np.array([g[0] for g in GIVEN], dtype=object)
GIVEN_PINYIN: Final = np.array([g[1] for g in GIVEN], dtype=object)
_GIVEN_P: Final = {
    "M": np.array([g[2] for g in GIVEN], float) / sum(g[2] for g in GIVEN),
    "F": np.array([g[3] for g in GIVEN], float) / sum(g[3] for g in GIVEN),
}
PINYIN_OF: Final = {g[0]: g[1] for g in GIVEN}
HOMOPHONES: Final[dict[str, tuple[str, ...]]] = {
    char: tuple(o for o, p in PINYIN_OF.items() if p == py and o != char)
    for char, py in PINYIN_OF.items()
}
"""Characters read the same: a clerk typing pinyin into an IME picks the wrong one."""
SINGLE_GIVEN_SHARE: Final = 0.30


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """Surname indices into ``SURNAMES``."""
    return rng.choice(len(SURNAMES), size=n, p=_SURNAME_P)


def given_names(rng: np.random.Generator, gender: np.ndarray) -> np.ndarray:
    """Given names (hanzi strings), one or two characters, drawn by gender."""
    n = gender.size
    first = np.empty(n, dtype=np.int64)
    second = np.empty(n, dtype=np.int64)
    for g in ("M", "F"):
        mask = gender == g
        k = int(mask.sum())
        first[mask] = rng.choice(len(GIVEN), size=k, p=_GIVEN_P[g])
        second[mask] = rng.choice(len(GIVEN), size=k, p=_GIVEN_P[g])
    single = rng.random(n) < SINGLE_GIVEN_SHARE
    out = GIVEN_CHARS[first] + np.where(single, "", GIVEN_CHARS[second])
    return out.astype(object)


def pinyin_given(given: np.ndarray) -> np.ndarray:
    """Card-style pinyin of given names: characters' syllables run together (XIAOMING)."""
    return np.array(["".join(PINYIN_OF[c] for c in g) for g in given], dtype=object)


def homophone_typo(rng: np.random.Generator, given: str) -> str:
    """Replace one character of ``given`` with a homophone, if one exists."""
    spots = [i for i, c in enumerate(given) if HOMOPHONES.get(c)]
    if not spots:
        return given
    i = spots[int(rng.integers(len(spots)))]
    options = HOMOPHONES[given[i]]
    return given[:i] + options[int(rng.integers(len(options)))] + given[i + 1 :]
