"""Normalised identifiers: the rules that make shared identifiers really match."""

from __future__ import annotations

import pyarrow as pa
import pytest

from relgraph.ingest import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("(138) 0013 8000", "13800138000"),
        ("861012345", "861012345"),  # too short to carry a country code: kept
        ("010-5555-0001", "01055550001"),
        ("n/a", None),
        ("", None),
        (None, None),
    ],
)
def test_phone(raw: str | None, expected: str | None) -> None:
    assert normalise.phone([raw]).to_pylist() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Li.Wei@Example.CN ", "li.wei@example.cn"), ("   ", None), (None, None)],
)
def test_email(raw: str | None, expected: str | None) -> None:
    assert normalise.email([raw]).to_pylist() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Apt 3, 12 Lianhua Rd., Futian Dist.", "apartment 3 12 lianhua road futian district"),
        ("APT 3 ,12 LIANHUA ROAD ,FUTIAN DISTRICT", "apartment 3 12 lianhua road futian district"),
        ("Bldg. 28, 863 Qinghe Ave.", "building 28 863 qinghe avenue"),
        ("5 Street St", "5 street street"),
        ("Stanford Rd", "stanford road"),  # only whole words are expanded
        (" , ", None),
    ],
)
def test_address(raw: str, expected: str | None) -> None:
    assert normalise.address([raw]).to_pylist() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  ZHU   Tao ", "zhu tao"), ("Li\tWei", "li wei"), ("", None)],
)
def test_name(raw: str, expected: str | None) -> None:
    assert normalise.name([raw]).to_pylist() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("110105-1972 0610 333x", "11010519720610333X"), ("E12345678", "E12345678"), (" - ", None)],
)
def test_id_number(raw: str, expected: str | None) -> None:
    assert normalise.id_number([raw]).to_pylist() == [expected]


def test_accepts_arrow_and_keeps_length() -> None:
    values = pa.chunked_array([["A@B.C", None], ["x@y.z"]])
    assert normalise.email(values).to_pylist() == ["a@b.c", None, "x@y.z"]
