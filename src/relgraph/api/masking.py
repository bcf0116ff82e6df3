"""Masking personal data for roles that may not see it in clear (``138****5678``)."""

from __future__ import annotations


def mask_phone(value: str | None) -> str | None:
    """Keep the first 3 and last 4 digits: ``13812345678`` → ``138****5678``."""
    if not value:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(value: str | None) -> str | None:
    """Keep the first 4 and last 4 characters: ``1101**********333X``."""
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_email(value: str | None) -> str | None:
    """Keep the first character of the local part and the domain: ``l***@example.cn``."""
    if not value:
        return value
    local, at, domain = value.partition("@")
    if not at:
        return "*" * len(value)
    return (local[:1] + "***" if local else "***") + "@" + domain


def mask_name(value: str | None) -> str | None:
    """Keep the first letter of each word: ``Li Wei`` → ``L* W**``."""
    if not value:
        return value
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in value.split(" ") if w)
