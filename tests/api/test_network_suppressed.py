"""HiddenNetwork.suppressed: the public devices a network's members use, shown and not evidence."""

from __future__ import annotations

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from .conftest import run

QUERY = """query($id: ID!) { hiddenNetwork(customerId: $id) {
  members { id } links { evidence { kind ref } } suppressed { kind ref persons usedBy } } }"""


def test_a_kiosk_user_sees_the_kiosk_as_suppressed_not_as_a_tie(model: ReadModel) -> None:
    public = {ident for (kind, ident) in model.results.suppressed if kind == "device"}
    assert public, "the test bank should have a public device (a branch kiosk)"
    kiosk = sorted(public)[0]
    device = model.device_ids.index(kiosk)
    users = [
        model.person_ids[p]
        for p in range(len(model.person_ids))
        if device in set(model.uses.neighbors(p).tolist())
    ]
    assert len(users) > 1
    answer = run(QUERY, model, Role.RISK, id=users[0])
    assert answer.errors is None
    network = answer.data["hiddenNetwork"]
    listed = {s["ref"]: s for s in network["suppressed"]}
    assert kiosk in listed
    assert listed[kiosk]["persons"] == model.results.suppressed[("device", kiosk)]
    members = {m["id"] for m in network["members"]}
    assert users[0] in listed[kiosk]["usedBy"]
    assert set(listed[kiosk]["usedBy"]) <= members
    refs = {e["ref"] for link in network["links"] for e in link["evidence"]}
    assert not refs & set(listed), "a suppressed identifier is never evidence"


def test_campaign_keys_get_no_network_and_so_no_suppressed_list(model: ReadModel) -> None:
    person = model.person_ids[0]
    answer = run(QUERY, model, Role.CAMPAIGN, id=person)
    assert answer.errors
    assert "may not read hiddenNetwork" in answer.errors[0].message
