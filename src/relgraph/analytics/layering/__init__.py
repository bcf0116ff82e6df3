"""Layered transactions: multi-hop chains, cycles, scatter-gather and fan bursts, with risk scores.

Definitions (what the tests hold the code to; every threshold is a field of
:class:`LayeringParams`, environment ``RELGRAPH_LAYERING_<FIELD>``):

* An **eligible transfer** moves at least ``min_amount`` (default 0: no floor, so
  small-value laundering is not hidden; amounts are judged against the account's own
  history and the reporting threshold instead) between two different accounts.
* A **hop link** ``e → f`` joins two eligible transfers when ``f`` leaves the
  account ``e`` arrived at, strictly after ``e`` and at most ``window_hours``
  (default 72) later, and passes on between ``min_pass_share`` (0.8) and
  ``max_pass_share`` (1.0) of ``e``'s amount: skims are allowed, topping up with
  one's own money is not passing it on.
* A **chain** is a sequence of transfers ``e1 … ek`` through accounts
  ``a0 → a1 → … → ak``, each consecutive pair a hop link, with ``a0 … a(k-1)``
  distinct; ``ak`` is either new or ``a0`` (the money came home, and the chain ends
  there). Chains are reported **maximal**: the walk starts at a transfer no hop link
  enters and follows every hop link until none continues the chain (a link back to an
  intermediate account does not), the chain returns to ``a0``, or it holds
  ``max_hops`` (8) transfers (then it is marked truncated). A chain with at least
  ``min_hops`` (3) transfers is an alert. Its typology is ``cycle`` when ``ak`` is
  ``a0``, another account of the same holder, or an account of a person in the
  origin's household or hidden network (when those labels are given); otherwise
  ``layering_chain``.
* A **scatter-gather** is money split from account ``s`` over at least
  ``min_spokes`` (3) distinct middle accounts ``m`` that pass it on to one account
  ``g`` (**spokes** ``s → m → g``: hop links whose second transfer carries at least
  ``spoke_min_share`` (0.5) of the first, not a chain's ``min_pass_share`` — a mule
  keeps its cut, and three or more middles converging on one account are the pattern).
  The two-hop paths of one ``(s, g)`` pair are ordered by their first transfer and cut
  into episodes where two consecutive splits are more than ``window_hours`` apart; each
  episode with enough distinct middle accounts is one alert. A **slow scatter-gather** is
  the same among transfers that are not routine (:mod:`.routine`) with the window widened
  to ``cycle_horizon_days`` (30): money split on the 2nd, 6th and 10th of a month and
  each part passed on a week later. Slow and fast ones sharing a transfer are one alert.
* A **fan-in (fan-out) burst** at account ``h``: its incoming (outgoing) eligible
  transfers, in time order; every transfer that opens a ``window_hours`` window
  holding at least ``min_fan`` (5) of them marks that window dense; overlapping
  dense windows merge into one burst, which is an alert when it involves at least
  ``min_fan`` distinct counterparties. A burst is stored as **pieces** of at most three
  windows (:func:`.detectors._pieces`), each judged against the hub's history; a steady
  (merchant-like) hub's usual pieces are routine and not stored (:mod:`.routine`). A
  piece holds only transfers of comparable size — at least its median amount ÷
  ``COMPARABLE_RATIO`` (10): the hub's 34 bill paid in the week it sends out 30,000s is
  its own life, not part of the fan — and needs ``min_fan`` counterparties among them.
* A **gather-scatter**: money gathered at ``h`` from several accounts and scattered to
  several others — a scatter-gather turned inside out, so each side needs as many
  accounts as a scatter-gather's middles: a fan-in burst at ``h`` counted as above but
  with ``min_spokes`` (3) transfers and distinct counterparties instead of ``min_fan``,
  followed by such a fan-out burst at ``h`` that starts before the fan-in's last transfer
  plus the window, sending on between ``min_pass_share`` and ``max_pass_share`` of what
  came in (:func:`.detectors.gather_bursts`).
* A **round trip** (typology ``cycle``) and its caps: :mod:`.roundtrip`.
* **Routine** transfers, **structuring** runs, **slow fans** and a hub's **history**
  (fan excess against its own usual and its peers', pass-through): :mod:`.routine`.
* **Bipartite** blocks and **stacks** (two blocks passing layer to layer, or a block with a
  next or previous layer that need not be a block): :mod:`.blocks`.
* Amounts against the payer's own history (threshold avoidance, ordinary and unusual
  payments): :mod:`.amounts`.
* One alert per pattern (alerts of one typology sharing a transfer merge): :mod:`.merge`.

Risk score. Each alert carries *reasons*: facts with a weight in [0, 1] (weights
are fields of :class:`LayeringParams`). The score is their noisy-OR,
``1 − Π(1 − weight)``, so every reason raises it and none alone decides it:

* ``hops`` — layering chains and scatter-gathers: ``pass_weight`` (0.3) at ``min_hops``
  or ``min_spokes``, +0.05 per extra hop or middle account, at most 0.5 (they pass the
  money on by definition: the weight of a fan's ``pass_through``); round trips and
  blocks: ``hop_weight`` (0.15) at their fewest hops, likewise; fans: 0.1, and for
  an unusual fan 0.1 + (0.05 per distinct counterparty past ``min_fan``, at most 0.25)
  × its ``fan_excess`` weight ÷ 0.45 (size counts as far as the fan is unusual).
* ``speed`` — median time the money sat in an account (half the episode's span for a
  scatter-gather, the burst's span for fans):
  ≤ 1 h 0.3, ≤ 6 h 0.25, ≤ 24 h 0.15, else 0.
* ``retained`` — the share of the first amount that did not reach the end (data;
  weight 0.1 when under 10 %, i.e. almost everything passed through).
* ``new_accounts`` — accounts of the alert opened at most ``new_account_days`` (90)
  before its first transfer, from their opening day's first moment in the bank's zone
  (:mod:`.opening`): 0.6 × their share of the alert's accounts.
* ``linked_endpoints`` — origin and end (``s`` and ``g``) are the same account or
  holder (0.5), in one household (0.4), one hidden network (0.35), or share a
  private device (≤ ``max_device_sharers`` users; 0.35).
* ``structuring`` — transfers in ``[(1 − structuring_band) × reporting_threshold,
  reporting_threshold)`` (45,000–50,000 by default), each counted by its payer's
  threshold avoidance (:mod:`.amounts`), and pieces of a split payment (:mod:`.routine`),
  each counted whole: 0.6 × their share of the alert's transfers.
* ``round_trip`` — round trips: 0.9 × the ``linked_endpoints`` weight of the return
  (same account or holder 0.45, household 0.36, network 0.315); ``hops`` is 0 for a
  two-hop round trip (lent and paid back is no longer than an everyday exchange).
* ``fan_excess`` — fans: 0 up to ``fan_excess_ratio`` (2) times the hub's usual,
  rising to 0.45 at four times that (a fan-in at an enterprise's account: its excess
  over the bank's takings level, :mod:`.season`); with an unusual fan only, ``pass_through`` (≥
  ``min_pass_share`` of what came in left again: 0.3) and a new hub (``new_accounts``
  at least 0.3) — the mule reasons; a gather-scatter among strangers
  (``unrelated_persons``, below) counts ``pass_through`` whatever its excess: a person
  passing on to strangers what strangers paid in is the layering step itself, and a shop's
  settlement of its takings has a firm at the hub. A fan's ``new_accounts`` is otherwise
  the share rule above over the hub and its counterparties (recruited mules are new
  accounts; a payroll reaching a few new hires is a small share). ``unrelated_persons`` — fans and
  gather-scatters whose hub is a person's account and at least four in five of whose
  counterparties are accounts of persons unrelated to it (no ``linked_endpoints`` link):
  0.25 (:func:`.hubs.unrelated_persons`); blocks and stacks at least four in five of whose
  distinct payer–payee pairs are accounts of two unrelated persons: 0.25
  (:func:`.blocks.unrelated_pairs`). ``unfunded`` — a fan-out among strangers whose
  hub received under half of what it paid out in the ``cycle_horizon_days`` before its
  last payment: 0.15, and 0.3 when it received nothing at all then (:mod:`.funds`).
* ``routine`` — negative: the score is multiplied by ``1 − routine_weight × share``
  of the alert's routine transfers (never for ``structuring`` alerts).
* ``ordinary`` — negative, round trips and blocks: ``1 − ordinary_weight × share`` of
  payments ordinary for their payer (for round trips, or paid before: at most half the
  payer's high); fans: the whole discount when within the hub's habits (every transfer at
  most the hub's high), unless among strangers (``unrelated_persons``) and reaching the
  reporting threshold in all; ``unusual_amounts`` — blocks: 0.3 × the share of payments their
  payer never otherwise makes as large; chains and fans: 0.3 × the share of outsized
  payments (over three times the payer's high); ``pass_through`` — blocks and stacks:
  0.3 × the share of what their middle layer received that it passed on
  (:mod:`.blocks`); ``many_to_many`` — bipartite blocks: 0.1 for each account past two
  on the block's smaller side (payers or payees), at most 0.2. Highs read only the past
  (:mod:`.amounts`; transfers between one's own accounts are not payments there).

Every score is in [0, 1]. An alert at or above ``score_threshold`` (0.5) is reported by default. An
account's risk is the highest score of the alerts it takes part in, with those
alerts as its reasons — but a transfer hub (more than ``hub_partners`` counterparties)
takes none from another account's fan it is a counterparty of (:mod:`.standing`).

Two entry points: :func:`scan`, the batch over every transfer (sort + window joins,
one vectorised step per hop), and :func:`check_account` for one account on demand:
with the index's own settings it returns the batch alerts through the account
(computed once per index); with other settings it collects the account's neighbourhood
from a :class:`LayeringIndex` and runs the chain, scatter-gather and fan definitions on
it (round trips, structuring, slow fans, bipartite blocks and stacks need every
transfer or the peers': batch only).
"""

from __future__ import annotations

from relgraph.analytics.layering.batch import scan
from relgraph.analytics.layering.check import (
    MAX_CHECK_HOPS,
    MAX_WINDOW_HOURS,
    AccountCheck,
    LayeringIndex,
    check_account,
)
from relgraph.analytics.layering.frames import account_risk, alert_frames, chain_ids
from relgraph.analytics.layering.params import LINKS, TYPOLOGIES, LayeringParams
from relgraph.analytics.layering.scoring import Alerts

__all__ = [
    "LINKS",
    "MAX_CHECK_HOPS",
    "MAX_WINDOW_HOURS",
    "TYPOLOGIES",
    "AccountCheck",
    "Alerts",
    "LayeringIndex",
    "LayeringParams",
    "account_risk",
    "alert_frames",
    "chain_ids",
    "check_account",
    "scan",
]
