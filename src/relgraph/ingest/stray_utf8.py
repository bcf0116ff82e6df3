"""UTF-8 lines inside a GB18030 file: a line one system appended to another's export.

GB18030 decodes almost any byte sequence, so such a line loads without an error as
mojibake (王芳 as 鐜嬭姵). A line is taken for UTF-8 when its bytes are valid UTF-8, that
reading is Chinese text GBK can write, and the GB18030 reading holds characters outside
GB2312 (the 6,763 common hanzi, which real text rarely leaves). Measured on 97,526 lines
of the synthetic bank's customers holding hanzi: 5 GB18030 lines are also valid UTF-8, and
the rule takes none of them for UTF-8 (their UTF-8 reading is Cyrillic and Latin-1 junk);
of the same lines written in UTF-8, the GB18030 reading leaves GB2312 in 97,522.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Bytes = npt.NDArray[np.uint8]
Int64s = npt.NDArray[np.int64]


def _weights() -> npt.NDArray[np.int8]:
    byte = np.arange(256)
    high = byte >= 0x80
    cont = (byte & 0xC0) == 0x80
    need = (byte >= 0xC2).astype(np.int64) + (byte >= 0xE0) + (byte >= 0xF0)
    never = high & ~cont & ((byte < 0xC2) | (byte > 0xF4))
    weight: npt.NDArray[np.int8] = (cont.astype(np.int64) - need * high + never * 64).astype(
        np.int8
    )
    return weight


_WEIGHT = _weights()
"""Per byte value: +1 for a UTF-8 continuation byte, minus the continuation bytes a lead
byte calls for, +64 for a byte UTF-8 never holds."""


def stray_utf8_lines(arr: Bytes, newlines: Int64s) -> list[tuple[int, int]]:
    """(start, end) in ``arr`` of each line that is UTF-8 text in GB18030 bytes.

    ``newlines`` are the positions of ``arr``'s newline bytes; ``arr`` ends after its last
    line's newline (or holds one line without one). Vectorised: only the rare lines
    whose bytes are valid UTF-8 are decoded one by one.

    >>> import numpy as np
    >>> text = "C1,张三\\n".encode("gb18030") + "C2,王芳\\n".encode()
    >>> arr = np.frombuffer(text, np.uint8)
    >>> stray_utf8_lines(arr, np.flatnonzero(arr == 10))
    [(8, 17)]
    """
    if not bool((arr >= 0x80).any()):
        return []
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [arr.size]))
    keep = starts < arr.size  # no empty line after the last newline
    starts, ends = starts[keep], ends[keep]
    # Per line, continuation bytes minus the ones its lead bytes call for, and bytes UTF-8
    # never holds: zero for every valid UTF-8 line (and a few others, which decoding
    # then rules out); most GB18030 lines miss it. One table lookup per byte.
    balance = np.add.reduceat(_WEIGHT[arr], starts, dtype=np.int32)
    wide = np.add.reduceat(arr >= 0x80, starts, dtype=np.int32)
    found: list[tuple[int, int]] = []
    for i in np.flatnonzero((balance == 0) & (wide > 0)).tolist():
        start, end = int(starts[i]), int(ends[i])
        if _is_utf8_text(arr[start:end].tobytes()):
            found.append((start, end))
    return found


def _is_utf8_text(line: bytes) -> bool:
    try:
        text = line.decode("utf-8")
        text.encode("gbk")
    except UnicodeError:
        return False
    try:
        line.decode("gb18030").encode("gb2312")
    except UnicodeError:
        return True
    return False
