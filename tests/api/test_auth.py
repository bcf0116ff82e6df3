"""API keys from the environment or a file, roles, and masking."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from relgraph.api.audit_key import AuditKey
from relgraph.api.auth import KeyRing, Role, key_id
from relgraph.api.masking import mask_email, mask_id_number, mask_name, mask_phone
from relgraph.config import ConfigError

AUDIT_KEY = AuditKey(b"audit-key-for-the-tests-0123456789", "test")


def test_keys_from_env_and_file(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text(
        "# campaign tools\ncampaign:campaign-key-0123456789\n\n  # team B\nrisk:risk-key-0123456789\n"
    )
    ring = KeyRing.from_env(
        {
            "RELGRAPH_API_KEYS": "analyst:analyst-key-0123456789",
            "RELGRAPH_API_KEYS_FILE": str(keys_file),
        }
    ).named_with(AUDIT_KEY)
    assert len(ring) == 3
    campaign = ring.authenticate("Bearer campaign-key-0123456789")
    assert campaign is not None
    assert campaign.role is Role.CAMPAIGN
    assert campaign.key_id == key_id("campaign-key-0123456789", AUDIT_KEY)
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


SECRET = "s3cr3t-key-0123456789"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("boss:key-0123456789abcdef", "entry 1: unknown role 'boss'"),
        ("analyst", "entry 1: expected 'role:key'"),
        ("analyst:short", "entry 1: keys must be at least 16 characters"),
        # Once a trailing comment: the key was silently cut at the '#'.
        (f"analyst:{SECRET}#more-of-the-key", "entry 1: '#' may only start a comment line"),
        (f"analyst:{SECRET}  # team A", "entry 1: '#' may only start a comment line"),
        (f"risk:{SECRET}\nanalyst:{SECRET[:8]} {SECRET[8:]}", "entry 2: keys may not contain whitespace"),
        (f"analyst:{SECRET}\tx", "entry 1: keys may not contain whitespace"),
        (f"analyst:{SECRET}密钥", "entry 1: keys must be printable ASCII"),
        (f"analyst:{SECRET}\x07", "entry 1: keys must be printable ASCII"),
        (f"# keys\nanalyst:{SECRET},campaign:{SECRET}",
         "entry 3: the key of RELGRAPH_API_KEYS, entry 2 is listed again under another role"),
        (f"metrics:{SECRET}\nadmin:{SECRET}", "entry 2: the key of .* listed again"),
        ("analyst:" + "短" * 4 + "x" * 12, "entry 1: keys must be printable ASCII"),
    ],
)  # fmt: skip
def test_bad_key_settings_are_named(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        KeyRing.from_env({"RELGRAPH_API_KEYS": value})
    assert SECRET not in str(refused.value)
    assert SECRET[:8] not in str(refused.value)


def test_a_key_under_two_roles_across_env_and_file_is_refused(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"# ops\nadmin:{SECRET}\n")
    with pytest.raises(ConfigError, match=r"keys, entry 2: the key of RELGRAPH_API_KEYS, entry 1"):
        KeyRing.from_env(
            {"RELGRAPH_API_KEYS": f"analyst:{SECRET}", "RELGRAPH_API_KEYS_FILE": str(keys_file)}
        )
    # The same key twice under the same role is harmless.
    keys_file.write_text(f"analyst:{SECRET}\n")
    ring = KeyRing.from_env(
        {"RELGRAPH_API_KEYS": f"analyst:{SECRET}", "RELGRAPH_API_KEYS_FILE": str(keys_file)}
    )
    assert len(ring) == 1


def test_scrape_keys_may_read_metrics_only() -> None:
    ring = KeyRing.from_env(
        {
            "RELGRAPH_API_KEYS": f"metrics:{SECRET},admin:admin-key-0123456789,risk:risk-key-0123456789"
        }
    ).named_with(AUDIT_KEY)
    assert len(ring) == 2  # the scrape key is not a key that may query
    assert ring.authenticate(f"Bearer {SECRET}") is None
    assert ring.may_scrape(f"Bearer {SECRET}") is True
    assert ring.may_scrape("Bearer admin-key-0123456789") is True
    assert ring.may_scrape("Bearer risk-key-0123456789") is False
    assert ring.may_scrape("Bearer nobody-key-0123456789") is None
    assert ring.may_scrape(None) is None


def test_a_key_id_tells_nothing_about_the_key_without_the_audit_key() -> None:
    # Other roles read key ids (`decidedBy`); a plain hash of a weak key could be tested
    # offline against guesses, an HMAC under the audit key cannot.
    weak = "password12345678"
    ring = KeyRing({weak: Role.RISK})
    with pytest.raises(RuntimeError, match="no audit key"):
        ring.authenticate(f"Bearer {weak}")
    named = ring.named_with(AUDIT_KEY).authenticate(f"Bearer {weak}")
    other = ring.named_with(AuditKey(b"another-audit-key-0123456789abcdef", "t")).authenticate(
        f"Bearer {weak}"
    )
    assert named is not None
    assert other is not None
    plain = hashlib.sha256(weak.encode()).hexdigest()
    assert plain[:12] not in named.key_id
    assert named.key_id.startswith("k_")
    assert len(named.key_id) == 14
    assert named.key_id != other.key_id  # named by the secret, not by the key alone
    assert named.key_id == key_id(weak, AUDIT_KEY)  # and stable under one audit key


def test_missing_keys_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RELGRAPH_API_KEYS_FILE: cannot read"):
        KeyRing.from_env({"RELGRAPH_API_KEYS_FILE": str(tmp_path / "nope")})


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    # An 8-digit local landline: 623****5678 would hide one digit (ten numbers to try).
    assert mask_phone("6234 5678") == "****5678"
    assert mask_phone("021-6234 5678") == "021****5678"
    assert mask_id_number("11010519720610333X") == "1101***********X"
    assert mask_email("li.wei@example.cn") == "l***@example.cn"
    assert mask_name("Li Wei") == "L**"
    assert mask_phone(None) is None
