"""API keys from the environment or a file, roles, and masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.api.auth import KeyRing, Role, key_id
from relgraph.api.masking import mask_email, mask_id_number, mask_name, mask_phone
from relgraph.config import ConfigError


def test_keys_from_env_and_file(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text(
        "# campaign tools\ncampaign:campaign-key-0123456789\n\nrisk:risk-key-0123456789  # team B\n"
    )
    ring = KeyRing.from_env(
        {
            "RELGRAPH_API_KEYS": "analyst:analyst-key-0123456789",
            "RELGRAPH_API_KEYS_FILE": str(keys_file),
        }
    )
    assert len(ring) == 3
    campaign = ring.authenticate("Bearer campaign-key-0123456789")
    assert campaign is not None
    assert campaign.role is Role.CAMPAIGN
    assert campaign.key_id == key_id("campaign-key-0123456789")
    assert "campaign-key" not in campaign.key_id
    assert ring.authenticate("bearer risk-key-0123456789").role is Role.RISK  # type: ignore[union-attr]
    for header in (
        None,
        "",
        "Bearer",
        "Basic analyst-key-0123456789",
        "Bearer analyst-key-012345678",
    ):
        assert ring.authenticate(header) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("boss:key-0123456789abcdef", "unknown role 'boss'"),
        ("analyst", "expected 'role:key'"),
        ("analyst:short", "keys must be at least 16 characters"),
    ],
)
def test_bad_key_settings_are_named(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        KeyRing.from_env({"RELGRAPH_API_KEYS": value})


def test_missing_keys_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RELGRAPH_API_KEYS_FILE: cannot read"):
        KeyRing.from_env({"RELGRAPH_API_KEYS_FILE": str(tmp_path / "nope")})


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("11010519720610333X") == "1101***********X"
    assert mask_email("li.wei@example.cn") == "l***@example.cn"
    assert mask_name("Li Wei") == "L**"
    assert mask_phone(None) is None
