"""Regions, dwellings and address text in the styles different source systems keep.

Customers live in five cities where the bank has branches (weights in ``CITIES``); their ids
carry the code of the county where they were born, which is the city they live in for 40%
and any of 30 counties otherwise (internal migration). Dwellings sit in residential
compounds of a few hundred flats, so many addresses differ only by building, unit or room.
"""

from __future__ import annotations

from typing import Final

import numpy as np

# (region code, province/city prefix, district)
REGIONS: Final = (
    (110105, "北京市", "朝阳区"), (110108, "北京市", "海淀区"), (310104, "上海市", "徐汇区"),
    (310115, "上海市", "浦东新区"), (440305, "广东省深圳市", "南山区"),
    (440304, "广东省深圳市", "福田区"), (330106, "浙江省杭州市", "西湖区"),
    (510107, "四川省成都市", "武侯区"), (110101, "北京市", "东城区"),
    (310101, "上海市", "黄浦区"), (440106, "广东省广州市", "天河区"),
    (320102, "江苏省南京市", "玄武区"), (320505, "江苏省苏州市", "虎丘区"),
    (420106, "湖北省武汉市", "武昌区"), (500103, "重庆市", "渝中区"),
    (610113, "陕西省西安市", "雁塔区"), (370202, "山东省青岛市", "市南区"),
    (120101, "天津市", "和平区"), (430104, "湖南省长沙市", "岳麓区"),
    (410105, "河南省郑州市", "金水区"), (350203, "福建省厦门市", "思明区"),
    (210102, "辽宁省沈阳市", "和平区"), (230103, "黑龙江省哈尔滨市", "南岗区"),
    (340104, "安徽省合肥市", "蜀山区"), (360102, "江西省南昌市", "东湖区"),
    (530102, "云南省昆明市", "五华区"), (450103, "广西壮族自治区南宁市", "青秀区"),
    (130102, "河北省石家庄市", "长安区"), (140105, "山西省太原市", "小店区"),
    (330102, "浙江省杭州市", "上城区"),
)  # fmt: skip
REGION_CODES: Final = np.array([r[0] for r in REGIONS], dtype=np.int64)
CITY_PREFIX: Final = np.array([r[1] for r in REGIONS], dtype=object)
DISTRICT: Final = np.array([r[2] for r in REGIONS], dtype=object)
CITIES: Final = np.array([0, 1, 2, 3, 4, 5, 6, 7])
"""Region indices where customers live (the bank's branch cities and districts)."""
CITY_WEIGHTS: Final = np.array([0.16, 0.12, 0.14, 0.12, 0.14, 0.10, 0.12, 0.10])
HOME_BORN_SHARE: Final = 0.40

ROADS: Final = np.array(
    [
        "中山路",
        "人民路",
        "解放路",
        "建设路",
        "和平路",
        "长江路",
        "黄河路",
        "新华路",
        "文化路",
        "朝阳路",
        "南京路",
        "北京路",
        "青年路",
        "东风路",
        "胜利路",
        "光明路",
        "幸福路",
        "学府路",
        "科技路",
        "滨江路",
        "复兴路",
        "振兴路",
        "团结路",
        "迎宾大道",
    ],
    dtype=object,
)
COMPOUNDS: Final = np.array(
    [
        "阳光花园",
        "幸福家园",
        "金色港湾",
        "翠苑",
        "锦绣华庭",
        "碧水湾",
        "香榭丽舍",
        "枫林绿洲",
        "世纪城",
        "丽景苑",
        "和谐家园",
        "东方明珠苑",
        "滨江花园",
        "名都",
        "星河湾",
        "万科城",
        "紫荆苑",
        "书香门第",
        "御景园",
        "春天里",
    ],
    dtype=object,
)
FLATS_PER_COMPOUND: Final = 300
_FULLWIDTH: Final = str.maketrans("0123456789-", "０１２３４５６７８９－")


def birth_regions(rng: np.random.Generator, city: np.ndarray) -> np.ndarray:
    """Region codes on the id: the home city's county for 40%, any county otherwise."""
    other = rng.integers(0, len(REGIONS), size=city.size)
    home = rng.random(city.size) < HOME_BORN_SHARE
    return REGION_CODES[np.where(home, city, other)]


class Dwellings:
    """Flats: city, compound, building, unit and room, as integer arrays."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.city = rng.choice(CITIES, size=n, p=CITY_WEIGHTS)
        n_compounds = max(1, n // FLATS_PER_COMPOUND + 1)
        # Compounds are per city; the compound number picks name, road and street number.
        self.compound = rng.integers(0, n_compounds, size=n)
        self.building = rng.integers(1, 31, size=n)
        self.unit = rng.integers(1, 5, size=n)
        self.room = rng.integers(1, 33, size=n) * 100 + rng.integers(1, 5, size=n)
        self.n = n

    def text(self, index: np.ndarray, style: np.ndarray) -> np.ndarray:
        """Address text of flats ``index`` in ``style``.

        0 full (province, city, district, road, number, compound, 栋/单元/室 — core banking);
        1 short (district onwards, building-unit-room with dashes — card applications);
        2 no province, 号楼 and 室 (loan files);
        3 like 0 but with full-width digits (a form typed on a phone).
        """
        city = self.city[index]
        comp = self.compound[index]
        road = ROADS[(comp * 7 + city) % ROADS.size]
        name = COMPOUNDS[(comp * 3 + city) % COMPOUNDS.size]
        number = (comp * 13 + city * 5) % 400 + 1
        b, u, r = self.building[index], self.unit[index], self.room[index]
        out = np.empty(index.size, dtype=object)
        for i in range(index.size):
            prefix, district = CITY_PREFIX[city[i]], DISTRICT[city[i]]
            s = style[i]
            if s == 1:
                out[i] = f"{district}{road[i]}{number[i]}号{name[i]}{b[i]}-{u[i]}-{r[i]}"
            elif s == 2:
                city_only = prefix.split("省")[-1]
                out[i] = f"{city_only}{district}{road[i]}{number[i]}号{name[i]}{b[i]}号楼{r[i]}室"
            else:
                text = (
                    f"{prefix}{district}{road[i]}{number[i]}号{name[i]}{b[i]}栋{u[i]}单元{r[i]}室"
                )
                out[i] = text.translate(_FULLWIDTH) if s == 3 else text
        return out

    def business_text(self, index: np.ndarray) -> np.ndarray:
        """Office address of flats used as business premises (a 写字楼 floor)."""
        city = self.city[index]
        comp = self.compound[index]
        road = ROADS[(comp * 11 + city) % ROADS.size]
        number = (comp * 17 + city) % 600 + 1
        floor = self.room[index] // 100
        return np.array(
            [
                f"{CITY_PREFIX[c]}{DISTRICT[c]}{rd}{no}号{fl}层"
                for c, rd, no, fl in zip(city, road, number, floor, strict=True)
            ],
            dtype=object,
        )
