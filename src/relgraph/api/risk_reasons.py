"""Why a risk score is what it is: reasons as typed data (``RiskReason``)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import strawberry


@strawberry.type(description="One reason behind a risk score, as data.")
class RiskReason:
    reason: str
    weight: float = strawberry.field(
        description="The reason's weight in the score (negative when it lowers it, e.g. routine)."
    )
    value: str = strawberry.field(
        description="The fact behind the reason, as JSON.",
        deprecation_reason="Use valueNumber, valueId or valueText.",
    )
    value_number: float | None = strawberry.field(
        default=None, description="The fact when it is a number (rounded for display)."
    )
    value_id: str | None = strawberry.field(
        default=None, description="The fact when it names an alert (a chain id)."
    )
    value_text: str | None = strawberry.field(
        default=None, description="The fact when it is a word (e.g. same_account, household)."
    )


def _typed_value(value: Any) -> tuple[float | None, str | None]:
    """A reason's fact as a number or a word (a one-number object, like the speed
    reason's median dwell, gives its number)."""
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, bool):
        return None, str(value).lower()
    if isinstance(value, int | float):
        number = float(value)
        return (None, None) if np.isnan(number) else (round(number, 4), None)
    if isinstance(value, str):
        return None, value
    return None, None


def risk_reasons(reasons: list[dict[str, Any]]) -> list[RiskReason]:
    """Reasons as stored (alert reasons, or an account's alerts) as typed RiskReasons."""
    out: list[RiskReason] = []
    for r in reasons:
        if "reason" in r:
            number, text = _typed_value(r.get("value"))
            chain = None
        else:
            # An account's reason is one of its alerts: the chain id, its score.
            number, text, chain = None, None, r.get("chain_id")
        out.append(
            RiskReason(
                reason=str(r.get("reason", r.get("typology", ""))),
                weight=round(float(r.get("weight", r.get("score", 0.0))), 4),
                value=json.dumps(r.get("value", r), ensure_ascii=False, default=str),
                value_number=number,
                value_id=None if chain is None else str(chain),
                value_text=text,
            )
        )
    return out
