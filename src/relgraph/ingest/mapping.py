"""The mapping file: how a bank's own export maps onto the model.

A bank's export names its files, columns and codes its own way (``客户信息.csv``,
``性别``, ``男``/``女``, ``20240106 101500``). The mapping file (YAML, ``--mapping`` or
``mapping.yaml`` in the input directory) says which file is which table, which of the
bank's columns is which model column, how codes and formats translate, and which source
systems the bank has. It is validated here, whole, before anything is read: an unknown key
or a value of the wrong type stops the load naming the key path.

Applying it is :mod:`relgraph.ingest.readers`' job: the raw view is rewritten into the
canonical text the validator reads, so the validation rules stay one set.
"""

from __future__ import annotations

import unicodedata
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from relgraph import model
from relgraph.ingest.errors import IngestError

MAPPING_FILE: Final = "mapping.yaml"
"""The mapping file's name when it sits in the input directory (used without ``--mapping``)."""
ENCODINGS: Final = ("utf-8", "utf-8-sig", "gb18030", "gbk", "big5")
"""Encodings an input file may be in; every other one is transcoded to UTF-8 before reading."""
PERCENT: Final = "percent"
"""The number format of a share written as ``60%`` (``0.6`` is accepted too)."""
PERCENT_NUMBER: Final = "percent_number"
"""The number format of a column of percentages, the sign written or not (``持股比例(%)``):
``35.5`` and ``35.5%`` are 0.355, ``0.5`` is 0.005 (under :data:`PERCENT`, 50%)."""
UNITS: Final = {"千元": 1_000, "万元": 10_000, "百万元": 1_000_000, "亿元": 100_000_000}
"""Number formats of an amount column a bank reports in a unit of yuan (``资产规模(万元)``,
``注册资本(万元)``): each value is multiplied into yuan, to the fen. Without it such a column
loads 10,000 times too small and nothing looks wrong."""

_TOP_KEYS: Final = (
    "encoding", "timezone", "delimiter", "null_values", "source_systems", "files"
)  # fmt: skip
_FILE_KEYS: Final = (
    "table", "encoding", "timezone", "delimiter", "null_values", "columns", "constants",
    "values", "formats",
)  # fmt: skip
NULL_MARKERS: Final = ("\\N", "NULL", "null", "Null")
"""What database and warehouse exports write for a missing value in any column (``\\N``:
Hive, Sqoop, DataX, MySQL's ``INTO OUTFILE``; ``NULL``: most database tools): read as
empty. A mapping file's ``null_values`` adds a file's own (``-``, ``无``)."""
_DELIMITER_NAMES: Final = {"tab": "\t", "comma": ",", "pipe": "|", "semicolon": ";"}
"""Names a delimiter may be given by (a tab is hard to see in YAML)."""


@dataclass(frozen=True)
class FileMapping:
    """How one of the bank's files maps onto a model table.

    Attributes
    ----------
    name : str
        The file's name in the input directory (Unicode NFC).
    table : str
        The model table it holds.
    encoding, timezone, delimiter : str or None
        Per-file overrides of the mapping's defaults.
    columns : dict of str to str
        Model column -> the bank's column name.
    constants : dict of str to str
        Model column -> the one value it has for the whole file.
    values : dict of str to dict of str to str or None
        Model column -> (bank value -> model value, None for no value), matched after
        trimming.
    null_values : tuple of str
        Values that mean "no value" in every column of the file, beside
        :data:`NULL_MARKERS` and the mapping's own.
    formats : dict of str to str
        Model column -> a ``strptime`` format (date and timestamp columns), ``percent``,
        ``percent_number``, or a unit of yuan (:data:`UNITS`) of an amount column.
    """

    name: str
    table: str
    encoding: str | None = None
    timezone: str | None = None
    delimiter: str | None = None
    null_values: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadMapping:
    """A validated mapping file.

    Attributes
    ----------
    path : Path
        Where it was read from (always ignored by file discovery).
    text : str
        Its content, part of the load fingerprint: a changed mapping is a new load.
    encoding, timezone, delimiter : str or None
        Defaults for every file.
    source_systems : tuple of str or None
        The bank's source systems, highest precedence first; None keeps the model's.
    files : dict of str to FileMapping
        Keyed by file name (NFC).
    """

    path: Path
    text: str
    encoding: str | None = None
    timezone: str | None = None
    delimiter: str | None = None
    null_values: tuple[str, ...] = ()
    source_systems: tuple[str, ...] | None = None
    files: dict[str, FileMapping] = field(default_factory=dict)

    def for_file(self, name: str) -> FileMapping | None:
        return self.files.get(unicodedata.normalize("NFC", name))


def find_mapping(source: Path, explicit: Path | None) -> LoadMapping | None:
    """The mapping for a load of ``source``: ``explicit``, else ``source/mapping.yaml``, else None."""
    if explicit is not None:
        if not explicit.is_file():
            raise IngestError(f"mapping file {explicit} does not exist or is not a file")
        return read_mapping(explicit)
    default = source / MAPPING_FILE
    return read_mapping(default) if default.is_file() else None


class _TextLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """Safe YAML whose scalars are all text but ``null``: a bank's codes are text, and YAML
    1.1 would read ``010: deposit`` as the key 8 (octal), ``01`` as 1, ``no`` as false and
    ``2024-01-01`` as a date, so the code in the file would never match the export's."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in found if tag == "tag:yaml.org,2002:null"]
    for first, found in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_mapping(path: Path) -> LoadMapping:
    """Read and validate the mapping file at ``path``.

    Raises
    ------
    IngestError
        When the file is not UTF-8 YAML, or a key is unknown or holds the wrong type; the
        message names the key path (``files.客户信息.csv.values.gender: expected a mapping``).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = yaml.load(text, Loader=_TextLoader)  # noqa: S506 - a SafeLoader, see _TextLoader
    except yaml.MarkedYAMLError as exc:
        # PyYAML's own text is six lines with carets; one line with where and what is the
        # error line a load stops with.
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise IngestError(
            f"mapping file {path} is not valid YAML: {where}{exc.problem or exc}"
        ) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise IngestError(f"mapping file {path} cannot be read: {exc}") from exc
    if data is None:
        data = {}
    top = _mapping(data, "")
    _known_keys(top, _TOP_KEYS, "")
    files_raw = _mapping(top.get("files", {}), "files")
    files: dict[str, FileMapping] = {}
    for name, spec in files_raw.items():
        if not isinstance(name, str) or not name or "/" in name or "\\" in name:
            raise IngestError(
                f"{_where(path)}files.{name}: a file name in the input directory is expected"
            )
        key = unicodedata.normalize("NFC", name)
        files[key] = _file_mapping(key, spec, f"files.{name}", path)
    tables = [f.table for f in files.values()]
    twice = sorted({t for t in tables if tables.count(t) > 1})
    if twice:
        raise IngestError(
            f"{_where(path)}files: table(s) {', '.join(twice)} are mapped from more than one file"
        )
    systems = top.get("source_systems")
    source_systems: tuple[str, ...] | None = None
    if systems is not None:
        if not isinstance(systems, list) or not systems:
            raise IngestError(
                f"{_where(path)}source_systems: expected a non-empty list of system names"
            )
        names = [_text(s, f"source_systems[{i}]", path) for i, s in enumerate(systems)]
        repeated = sorted({s for s in names if names.count(s) > 1})
        if repeated:
            raise IngestError(
                f"{_where(path)}source_systems: {', '.join(repeated)} listed more than once"
            )
        source_systems = tuple(names)
    return LoadMapping(
        path=path,
        text=text,
        encoding=_encoding(top.get("encoding"), "encoding", path),
        timezone=_timezone(top.get("timezone"), "timezone", path),
        delimiter=_delimiter(top.get("delimiter"), "delimiter", path),
        null_values=_null_values(top.get("null_values"), "null_values", path),
        source_systems=source_systems,
        files=files,
    )


def _file_mapping(name: str, spec: object, where: str, path: Path) -> FileMapping:
    body = _mapping(spec, where, path)
    _known_keys(body, _FILE_KEYS, where, path)
    if "table" not in body:
        raise IngestError(f"{_where(path)}{where}.table: the model table this file holds is needed")
    table_name = _text(body["table"], f"{where}.table", path)
    if table_name not in model.TABLES:
        raise IngestError(
            f"{_where(path)}{where}.table: {table_name!r} is not a table "
            f"(tables: {', '.join(model.TABLES)})"
        )
    table = model.TABLES[table_name]

    def columns_of(key: str) -> dict[str, object]:
        section = _mapping(body.get(key, {}), f"{where}.{key}", path)
        for column in section:
            if column not in table.column_names:
                raise IngestError(
                    f"{_where(path)}{where}.{key}.{column}: not a column of {table_name} "
                    f"({', '.join(table.column_names)})"
                )
        return section

    columns = {
        str(c): _text(v, f"{where}.columns.{c}", path) for c, v in columns_of("columns").items()
    }
    bank_names = list(columns.values())
    twice = sorted({c for c in bank_names if bank_names.count(c) > 1})
    if twice:
        raise IngestError(
            f"{_where(path)}{where}.columns: the bank's column(s) {', '.join(twice)} "
            "are mapped to more than one model column"
        )
    constants = {
        str(c): _scalar(v, f"{where}.constants.{c}", path)
        for c, v in columns_of("constants").items()
    }
    both = sorted(set(constants) & set(columns))
    if both:
        raise IngestError(
            f"{_where(path)}{where}.constants.{both[0]}: also mapped from a column; keep one"
        )
    values: dict[str, dict[str, str | None]] = {}
    for column, codes in columns_of("values").items():
        at = f"{where}.values.{column}"
        values[str(column)] = {
            _scalar(k, f"{at}", path): None if v is None else _scalar(v, f"{at}.{k}", path)
            for k, v in _mapping(codes, at, path).items()
        }
    formats: dict[str, str] = {}
    for column, fmt in columns_of("formats").items():
        at = f"{where}.formats.{column}"
        text = _text(fmt, at, path)
        dtype = table.column(str(column)).dtype
        if dtype in ("date", "timestamp"):
            if "%" not in text:
                raise IngestError(
                    f'{_where(path)}{at}: expected a strptime format such as "%Y%m%d"'
                )
        elif dtype == "float":
            if text not in (PERCENT, PERCENT_NUMBER) and text not in UNITS:
                raise IngestError(
                    f"{_where(path)}{at}: a number column takes '{PERCENT}', "
                    f"'{PERCENT_NUMBER}' or a unit of yuan ({', '.join(UNITS)}), not {text!r}"
                )
        else:
            raise IngestError(
                f"{_where(path)}{at}: formats apply to date, timestamp and number columns only"
            )
        formats[str(column)] = text
    return FileMapping(
        name=name,
        table=table_name,
        encoding=_encoding(body.get("encoding"), f"{where}.encoding", path),
        timezone=_timezone(body.get("timezone"), f"{where}.timezone", path),
        delimiter=_delimiter(body.get("delimiter"), f"{where}.delimiter", path),
        null_values=_null_values(body.get("null_values"), f"{where}.null_values", path),
        columns=columns,
        constants=constants,
        values=values,
        formats=formats,
    )


def _where(path: Path | None) -> str:
    return f"mapping file {path.name}: " if path is not None else ""


def _mapping(value: object, where: str, path: Path | None = None) -> dict[Any, Any]:
    if not isinstance(value, Mapping):
        raise IngestError(f"{_where(path)}{where or '(top level)'}: expected a mapping")
    return dict(value)


def _known_keys(
    body: dict[Any, Any], known: tuple[str, ...], where: str, path: Path | None = None
) -> None:
    for key in body:
        if key not in known:
            at = f"{where}.{key}" if where else str(key)
            raise IngestError(
                f"{_where(path)}{at}: unknown key (expected one of {', '.join(known)})"
            )


def _text(value: object, where: str, path: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise IngestError(f"{_where(path)}{where}: expected a non-empty text")
    return value.strip()


def _scalar(value: object, where: str, path: Path) -> str:
    """A YAML scalar as the text the validator reads (``true`` -> ``'true'``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value).strip()
    raise IngestError(f"{_where(path)}{where}: expected a single value")


def _null_values(value: object, where: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise IngestError(
            f"{_where(path)}{where}: expected a list of the texts that mean no value, "
            "such as ['-', '无']"
        )
    return tuple(value)


def _delimiter(value: object, where: str, path: Path) -> str | None:
    """What separates a CSV file's values: one to four ASCII characters (``|``, ``tab``,
    ``"\\x01"``, ``"|@|"``: data-warehouse unloads write several)."""
    if value is None:
        return None
    text = _DELIMITER_NAMES.get(str(value).lower(), str(value))
    if (
        not 1 <= len(text) <= 4
        or not text.isascii()
        or any(c in '"\r\n' or c.isalnum() for c in text)
    ):
        raise IngestError(
            f"{_where(path)}{where}: expected one to four characters between values, such "
            f"as ',', '|', ';', tab or '|@|' (not {value!r})"
        )
    return text


def _encoding(value: object, where: str, path: Path) -> str | None:
    if value is None:
        return None
    text = _text(value, where, path).lower().replace("_", "-")
    if text not in ENCODINGS:
        raise IngestError(f"{_where(path)}{where}: {value!r} is not one of {', '.join(ENCODINGS)}")
    return text


def _timezone(value: object, where: str, path: Path) -> str | None:
    if value is None:
        return None
    text = _text(value, where, path)
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise IngestError(
            f"{_where(path)}{where}: {text!r} is not a time zone name (e.g. Asia/Shanghai)"
        ) from exc
    return text


def check_encoding(value: str) -> str:
    """``value`` as one of :data:`ENCODINGS` (``--encoding``), or an IngestError."""
    text = value.strip().lower().replace("_", "-")
    if text not in ENCODINGS:
        raise IngestError(f"encoding {value!r} is not one of {', '.join(ENCODINGS)}")
    return text


_NUMERIC_WIDTH: Final = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "y": 2, "I": 2, "j": 3}
"""strptime's fixed-width numeric directives and their width when written in full."""


def compact_width(fmt: str) -> int | None:
    """The length a value must have when ``fmt`` puts two numbers side by side, else None.

    In ``%Y%m%d`` nothing but position separates the fields, and strptime takes the
    digits it is given: ``1949123`` would load as 1949-12-03 (or was it 01-23?). A value
    of such a format is read only at its full width; formats with separators keep
    strptime's leniency (``2024年1月1日`` with ``%Y年%m月%d日``). A format with a
    directive of no fixed width (``%f``, ``%z``, ``%b`` …) gets no guard.

    >>> compact_width("%Y%m%d"), compact_width("%Y%m%d %H%M%S"), compact_width("%Y-%m-%d")
    (8, 15, None)
    """
    width, adjacent, previous_numeric, i = 0, False, False, 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            directive = fmt[i + 1]
            i += 2
            if directive == "%":
                width, previous_numeric = width + 1, False
                continue
            if directive not in _NUMERIC_WIDTH:
                return None
            adjacent = adjacent or previous_numeric
            width, previous_numeric = width + _NUMERIC_WIDTH[directive], True
        else:
            width, previous_numeric, i = width + 1, False, i + 1
    return width if adjacent else None
