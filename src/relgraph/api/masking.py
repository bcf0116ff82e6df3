"""Masking personal data for roles that may not see it in clear (``138****5678``).

Every mask applies to the *normalised* value and has a fixed shape, so the way a source
system happened to write a value (``+86 138-1234-5678``, full-width digits, a lower-case
``x``) and its length tell nothing: two records of one customer mask the same.
The normalisation is ingest's, one value at a time (:mod:`relgraph.normal_form`), so a mask
shows the digits of the number the store holds.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from relgraph import normal_form
from relgraph.record_rules import upgrade_legacy_id

PHONE_STARS: Final = "****"
ID_STARS: Final = "*" * 11
"""An id number masks to 16 characters: the first 4, 11 stars, the check character."""
_RESIDENT_ID: Final = re.compile(r"[0-9]{17}[0-9X]")
"""A GB 11643 resident id (a 15-digit one once upgraded): what shows a district."""


def normalise_phone(value: str) -> str:
    """The national number's digits, as ingest stores ``phone_norm`` (``normal_form.phone``).

    >>> normalise_phone("+86 400-810-8888"), normalise_phone("13800138000/13900139000")
    ('4008108888', '13800138000')
    """
    return normal_form.phone(value) or ""


def normalise_id_number(value: str) -> str:
    """Spaces and hyphens removed, upper-cased (``110105-1972 0610 333x`` → ``…333X``)."""
    return normal_form.id_number(value) or ""


def mask_phone(value: str | None) -> str | None:
    """The normalised number with at least four digits hidden: a mobile or a number with
    its area code (11+ digits) shows its first 3 and last 4 (``138****5678``); a shorter
    one (an 8-digit local landline, ``6234 5678``) its last 4 only (``****5678``: its
    first 3 would leave one digit, ten numbers, to try); under 8 digits none.

    >>> mask_phone("13812345678"), mask_phone("6234 5678"), mask_phone("95588")
    ('138****5678', '****5678', '****')
    """
    if not value:
        return value
    digits = normalise_phone(value)
    if len(digits) < 8:
        return PHONE_STARS  # too short to show any digit without giving most of it away
    if len(digits) < 11:
        return PHONE_STARS + digits[-4:]
    return digits[:3] + PHONE_STARS + digits[-4:]


def mask_id_number(value: str | None) -> str | None:
    """The first 4 characters (the district) and the check character: ``1101***********X``.

    The 17th character of a GB 11643 number encodes sex and characters 7–14 the birth date,
    which campaign keys may not read, so neither shows. A 15-digit number has no check
    character — its last digit is the one that encodes sex — so it is masked in its
    upgraded 18-character form: both forms of one person's number mask the same, in the
    same 16-character shape.

    Any other value (a passport, a Hong Kong identity card ``A123456(7)``, a number cut
    short) shows no character: its first four and last are no district and check
    character, and on a ten-character document number they leave a few thousand
    candidates that the id-miss budget, which counts resident-id-shaped searches only
    (:mod:`relgraph.api.id_misses`), would not see being tried.

    >>> mask_id_number("A123456(7)"), mask_id_number("1101051972061033")
    ('***********', '***********')
    """
    if not value:
        return value
    normal = upgrade_legacy_id(normalise_id_number(value))
    if not _RESIDENT_ID.fullmatch(normal):
        return ID_STARS
    return normal[:4] + ID_STARS + normal[-1]


def mask_email(value: str | None) -> str | None:
    """The first character of the local part and the domain: ``l***@example.cn``."""
    if not value:
        return value
    normal = unicodedata.normalize("NFKC", value).strip().lower()
    local, at, domain = normal.rpartition("@")
    if not at or not local or not domain:
        return "***"
    return local[0] + "***@" + domain


def mask_name(value: str | None) -> str | None:
    """The first letter, then a fixed ``**``: ``Li Wei`` → ``L**``, ``王小明`` → ``王**``."""
    if not value:
        return value
    normal = unicodedata.normalize("NFKC", value).strip()
    return (normal[:1] or "*") + "**"


def mask_evidence_ref(kind: str, ref: str, *, sees_raw_ids: bool, sees_contact: bool) -> str:
    """The identifier behind a piece of evidence, masked as the same field is elsewhere."""
    if kind == "id_document" and not sees_raw_ids:
        return mask_id_number(ref) or ref
    if kind == "phone" and not sees_contact:
        return mask_phone(ref) or ref
    if kind == "email" and not sees_contact:
        return mask_email(ref) or ref
    return ref
