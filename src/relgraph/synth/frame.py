"""Compact column containers that render a table to CSV text or typed Parquet columns on demand."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.synth.ids import BoolArray, IntArray, prefixed

NOT_MADE: Final = frozenset(
    {("accounts", "currency"), ("guarantees", "currency"), ("guarantees", "guarantee_id")}
)
"""Optional columns the synthetic bank leaves out, as an export may (every amount is CNY):
its files stay as they were before the model had them."""


def made_columns(table: model.Table) -> tuple[str, ...]:
    """The columns of ``table`` the synthetic bank writes, in the order of ``model``."""
    return tuple(c for c in table.column_names if (table.name, c) not in NOT_MADE)


Fmt = Literal["csv", "parquet"]
Rows = slice | IntArray
"""A contiguous ``slice(start, stop)`` or an int64 index array."""


def _select(values: np.ndarray[Any, Any], rows: Rows) -> np.ndarray[Any, Any]:
    return values[rows]


def _mask(valid: BoolArray | None, rows: Rows) -> BoolArray | None:
    return None if valid is None else ~valid[rows]


class Column(ABC):
    """One column of a synthetic table, held compactly and rendered chunk by chunk."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def render(self, rows: Rows, fmt: Fmt) -> Any:
        """The values of ``rows`` as a pyarrow array of :meth:`arrow_type`."""

    @abstractmethod
    def take(self, index: IntArray) -> Column:
        """A column holding the rows ``index`` in that order."""

    def arrow_type(self, fmt: Fmt) -> Any:
        """Type of the rendered array: always text in CSV, the natural type in Parquet."""
        return pa.string()


@dataclass(frozen=True)
class Text(Column):
    """Strings held as a pyarrow array (null = missing)."""

    values: Any

    def __len__(self) -> int:
        return len(self.values)

    def render(self, rows: Rows, fmt: Fmt) -> Any:
        if isinstance(rows, slice):
            return self.values.slice(rows.start, rows.stop - rows.start)
        return self.values.take(pa.array(rows, type=pa.int64()))

    def take(self, index: IntArray) -> Column:
        return Text(self.values.take(pa.array(index, type=pa.int64())))


@dataclass(frozen=True)
class Coded(Column):
    """Integer codes into a label array (negative code = missing); cheap for repeated strings."""

    codes: IntArray
    labels: Any

    def __len__(self) -> int:
        return int(self.codes.size)

    def render(self, rows: Rows, fmt: Fmt) -> Any:
        sel = _select(self.codes, rows)
        return self.labels.take(pa.array(sel, type=pa.int64(), mask=sel < 0))

    def take(self, index: IntArray) -> Column:
        return Coded(self.codes[index], self.labels)


@dataclass(frozen=True)
class Prefixed(Column):
    """Identifiers ``prefix`` + zero-padded number, formatted only when written (``T000012345678``)."""

    prefix: str
    numbers: IntArray
    width: int

    def __len__(self) -> int:
        return int(self.numbers.size)

    def render(self, rows: Rows, fmt: Fmt) -> Any:
        return prefixed(self.prefix, _select(self.numbers, rows), self.width)

    def take(self, index: IntArray) -> Column:
        return Prefixed(self.prefix, self.numbers[index], self.width)


def format_fixed(units: IntArray, scale: int) -> Any:
    """Render integers counted in ``10**-scale`` as fixed-point text (``1234`` → ``"12.34"``)."""
    magnitude = np.abs(units)
    unit = 10**scale
    whole = pc.cast(pa.array(magnitude // unit, type=pa.int64()), pa.string())
    frac = pc.utf8_lpad(
        pc.cast(pa.array(magnitude % unit, type=pa.int64()), pa.string()), scale, "0"
    )
    text = pc.binary_join_element_wise(whole, frac, ".")
    negative = units < 0
    if negative.any():
        text = pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", text, ""), text)
    return text


@dataclass(frozen=True)
class Fixed(Column):
    """A decimal held as an integer count of ``10**-scale`` (money in cents, shares in 1e-4)."""

    units: IntArray
    scale: int = 2
    valid: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.units.size)

    def render(self, rows: Rows, fmt: Fmt) -> Any:
        sel = _select(self.units, rows)
        mask = _mask(self.valid, rows)
        if fmt == "parquet":
            return pa.array(
                np.round(sel / 10**self.scale, self.scale), type=pa.float64(), mask=mask
            )
        text = format_fixed(sel, self.scale)
        if mask is not None and mask.any():
            text = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), text)
        return text

    def take(self, index: IntArray) -> Column:
        return Fixed(
            self.units[index], self.scale, None if self.valid is None else self.valid[index]
        )

    def arrow_type(self, fmt: Fmt) -> Any:
        return pa.float64() if fmt == "parquet" else pa.string()


@dataclass(frozen=True)
class Integer(Column):
    """A whole number (null where ``valid`` is false)."""

    values: IntArray
    valid: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.values.size)

    def render(self, rows: Rows, fmt: Fmt) -> Any:
        arr = pa.array(_select(self.values, rows), type=pa.int64(), mask=_mask(self.valid, rows))
        return arr if fmt == "parquet" else pc.cast(arr, pa.string())

    def take(self, index: IntArray) -> Column:
        return Integer(self.values[index], None if self.valid is None else self.valid[index])

    def arrow_type(self, fmt: Fmt) -> Any:
        return pa.int64() if fmt == "parquet" else pa.string()


@dataclass(frozen=True)
class Boolean(Column):
    """A flag, written ``true``/``false`` in CSV."""

    values: BoolArray

    def __len__(self) -> int:
        return int(self.values.size)

    def render(self, rows: Rows, fmt: Fmt) -> Any:
        sel = _select(self.values, rows)
        if fmt == "parquet":
            return pa.array(sel, type=pa.bool_())
        return pa.array(["false", "true"], type=pa.string()).take(pa.array(sel.astype(np.int64)))

    def take(self, index: IntArray) -> Column:
        return Boolean(self.values[index])

    def arrow_type(self, fmt: Fmt) -> Any:
        return pa.bool_() if fmt == "parquet" else pa.string()


@dataclass(frozen=True)
class Date(Column):
    """A calendar date held as days since 1970-01-01, written ``YYYY-MM-DD``."""

    days: IntArray
    valid: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.days.size)

    def render(self, rows: Rows, fmt: Fmt) -> Any:
        sel = _select(self.days, rows).astype("datetime64[D]")
        return pc.cast(pa.array(sel, mask=_mask(self.valid, rows)), pa.string())

    def take(self, index: IntArray) -> Column:
        return Date(self.days[index], None if self.valid is None else self.valid[index])


@dataclass(frozen=True)
class Timestamp(Column):
    """A time held as seconds since the epoch, written ``YYYY-MM-DDTHH:MM:SS``."""

    seconds: IntArray
    valid: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.seconds.size)

    def render(self, rows: Rows, fmt: Fmt) -> Any:
        sel = _select(self.seconds, rows).astype("datetime64[s]")
        text = pc.cast(pa.array(sel, mask=_mask(self.valid, rows)), pa.string())
        # Arrow writes "YYYY-MM-DD HH:MM:SS"; the input format wants the ISO "T".
        return pc.binary_replace_slice(text, 10, 11, "T")

    def take(self, index: IntArray) -> Column:
        return Timestamp(self.seconds[index], None if self.valid is None else self.valid[index])


@dataclass(frozen=True)
class Frame:
    """The rows of one input table, column by column, in the order of ``model``."""

    table: model.Table
    columns: dict[str, Column]

    def __post_init__(self) -> None:
        if tuple(self.columns) != made_columns(self.table):
            raise ValueError(
                f"{self.table.name}: columns {tuple(self.columns)} != {made_columns(self.table)}"
            )
        lengths = {len(c) for c in self.columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"{self.table.name}: columns of different lengths {sorted(lengths)}")

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(next(iter(self.columns.values())))

    def schema(self, fmt: Fmt) -> Any:
        """The pyarrow schema of rendered rows."""
        return pa.schema([(name, col.arrow_type(fmt)) for name, col in self.columns.items()])

    def render(self, rows: Rows, fmt: Fmt) -> Any:
        """Rows as a pyarrow table in the file's representation."""
        arrays = [col.render(rows, fmt) for col in self.columns.values()]
        return pa.Table.from_arrays(arrays, schema=self.schema(fmt))

    def take(self, index: IntArray) -> Frame:
        """The rows ``index`` in that order (used to sort or shuffle a table before writing)."""
        return Frame(self.table, {name: col.take(index) for name, col in self.columns.items()})
