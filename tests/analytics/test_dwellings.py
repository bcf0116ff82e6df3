"""Dwellings: one flat however each system wrote it, and never two flats as one."""

from __future__ import annotations

import pyarrow as pa

from relgraph.analytics.dwellings import dwellings

ESTATE = "南山区幸福路1号锦绣华庭"


def _of(texts: list[str]) -> list[int]:
    return dwellings(pa.array(texts, pa.string())).tolist()


def test_a_short_form_and_a_form_without_the_unit_are_the_full_forms_flat() -> None:
    full = "广东省深圳市" + ESTATE + "18栋1单元2704室"
    assert _of([ESTATE + "18-1-2704", full, "广东省深圳市" + ESTATE + "18栋2704室"]) == [1, 1, 1]


def test_a_form_that_fits_two_flats_stays_apart() -> None:
    # Two units have a room 2704, and 南山区 is a district of Shenzhen and of Hegang.
    assert _of(
        [
            "广东省深圳市" + ESTATE + "18栋1单元2704室",
            "广东省深圳市" + ESTATE + "18栋2单元2704室",
            "广东省深圳市" + ESTATE + "18栋2704室",  # which unit?
            "广东省深圳市" + ESTATE + "20栋1单元101室",
            "黑龙江省鹤岗市" + ESTATE + "20栋1单元101室",
            ESTATE + "20-1-101",  # which city?
        ]
    ) == [0, 1, 2, 3, 4, 5]


def test_two_spellings_of_one_flat_are_one_and_other_numbers_are_left_alone() -> None:
    assert _of(
        [
            ESTATE + "18-1-2704",
            ESTATE + "18栋1单元2704室",
            "北京市朝阳区幸福路1-3号",  # a street number range, not building–unit–room
            "北京市朝阳区幸福路1号",
            "8 stanley street miami",
            "8 stanley street",
        ]
    ) == [0, 0, 2, 3, 4, 5]


def test_no_addresses_no_dwellings() -> None:
    assert _of([]) == []
