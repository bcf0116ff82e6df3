"""A cursor names the list it pages: its field, its parent and its arguments.

Offsets were taken by any list of the same graph: a campaign tool that passed the
``households`` cursor it held to ``corporateGroups`` (or changed ``minSize`` between two
pages) was served a page of another list, or of another order, without a word; a cursor
edited or cut short named another offset. Each is now refused, saying what to do.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from .conftest import run

FOREIGN = (
    "it was made for another list or other arguments (filter, orderBy, search text, parent), "
    "or changed since. Pass the endCursor of this list's last page, asked the same way, or "
    "start again without `after`."
)

PAGE = "totalCount pageInfo { endCursor } edges { cursor }"
LISTS: dict[str, str] = {
    "households": f"households(first: 3, after: $after) {{ {PAGE} }}",
    "households minSize 3": (
        f"households(filter: {{minSize: 3}}, first: 3, after: $after) {{ {PAGE} }}"
    ),
    "households by size": f"households(orderBy: SIZE_DESC, first: 3, after: $after) {{ {PAGE} }}",
    "corporateGroups": f"corporateGroups(first: 3, after: $after) {{ {PAGE} }}",
    "influencers": f"influencers(first: 3, after: $after) {{ {PAGE} }}",
    "search": f'search(text: "wang", first: 3, after: $after) {{ {PAGE} }}',
    "search zhang": f'search(text: "zhang", first: 3, after: $after) {{ {PAGE} }}',
    "campaignAudience": (
        f"campaignAudience(criteria: {{unit: HOUSEHOLD}}, first: 3, after: $after) {{ {PAGE} }}"
    ),
}


def _holders(model: ReadModel) -> list[str]:
    """Customer ids of two persons holding at least two accounts each."""
    held = [i for i in range(len(model.person_ids)) if len(model.holds.neighbors(i)) >= 2]
    return [model.record_ids[int(model.records_of(i)[0])] for i in held[:2]]


def _lists(model: ReadModel) -> dict[str, str]:
    one, other = _holders(model)
    person = f"accounts(first: 1, after: $after) {{ {PAGE} }}"
    return {
        **LISTS,
        "accounts of one person": f'customer(id: "{one}") {{ {person} }}',
        "accounts of another": f'customer(id: "{other}") {{ {person} }}',
    }


def _ask(model: ReadModel, field: str, after: str | None = None) -> Any:
    return run(f"query($after: String) {{ {field} }}", model, Role.ANALYST, after=after)


def _page(data: Any) -> Any:
    """The connection in an answer (under ``customer`` for a person's accounts)."""
    (value,) = data.values()
    return value.get("accounts", value)


def test_a_cursor_of_one_list_is_refused_by_every_other_list(model: ReadModel) -> None:
    lists = _lists(model)
    cursors = {}
    for name, field in lists.items():
        result = _ask(model, field)
        assert result.errors is None, name
        cursors[name] = _page(result.data)["pageInfo"]["endCursor"]
        assert cursors[name] is not None, name
    for made_by, cursor in cursors.items():
        # Its own list takes it: the next page.
        assert _ask(model, lists[made_by], cursor).errors is None, made_by
        for name, field in lists.items():
            if name == made_by:
                continue
            result = _ask(model, field, cursor)
            assert result.errors is not None, f"{made_by} → {name}"
            assert result.errors[0].message == f"Invalid cursor {cursor!r}: {FOREIGN}"
            assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"


def test_arguments_asked_the_same_way_keep_the_cursor(model: ReadModel) -> None:
    """The list is named by the arguments as the server reads them: a filter in a variable
    or written out, a default given or left out, are the same list."""
    first = _ask(model, LISTS["households minSize 3"])
    after = _page(first.data)["pageInfo"]["endCursor"]
    query = """query($after: String, $f: HouseholdFilter) {
      households(filter: $f, orderBy: TOTAL_AUM_DESC, first: 3, after: $after) {
        edges { cursor } } }"""
    again = run(query, model, Role.ANALYST, after=after, f={"minSize": 3})
    assert again.errors is None
    written = _ask(model, LISTS["households minSize 3"], after)
    assert again.data["households"]["edges"] == _page(written.data)["edges"]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_cursor_changed_or_with_a_huge_offset_is_refused(model: ReadModel) -> None:
    field = LISTS["households"]
    cursor = _page(_ask(model, field).data)["pageInfo"]["endCursor"]
    text = base64.urlsafe_b64decode(cursor).decode()
    g = model.generation
    assert text.startswith(f"g:{g}:2")
    changed = [
        _b64(text.replace(f"g:{g}:2", f"g:{g}:40")),  # another offset, the rest as it was
        _b64(text.replace(f"g:{g}:2", f"g:{g}:２")),  # a full-width digit
        _b64(f"g:{g}:{'9' * 5000}"),  # past int()'s digit limit: was an internal error
        _b64(f"g:{g}:2"),  # the MAC cut off
        _b64(text[:-1]),
    ]
    for bad in changed:
        result = _ask(model, field, bad)
        assert result.errors is not None, bad[:60]
        message = result.errors[0].message
        assert message.startswith("Invalid cursor '"), bad[:60]  # a long one is cut short
        assert message.endswith((FOREIGN, "pass an endCursor from an earlier page.")), bad[:60]
        assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"


AUDIENCE = """query($after: String) {
  campaignAudience(criteria: {unit: HOUSEHOLD, notContactedWithinDays: 30}, first: 20,
                   after: $after) { pageInfo { endCursor } edges { node { unitId } } } }"""


def test_an_audience_cursor_cut_short_is_not_read_as_another_moment(model: ReadModel) -> None:
    """The audience's cursor carries the moment its contact guard counted back from; a copy
    that lost its last base64 group lost that moment's last digit, and was read as a moment
    ten times earlier (1975: nobody contacted within 30 days of it), paging another
    audience without a word."""
    first = run(AUDIENCE, model, Role.CAMPAIGN).data["campaignAudience"]
    after = first["pageInfo"]["endCursor"]
    cut = after[:-4]  # the last base64 group (it held the moment's last digit)
    result = run(AUDIENCE, model, Role.CAMPAIGN, after=cut)
    assert result.errors is not None
    assert result.errors[0].message.endswith((FOREIGN, "pass an endCursor from an earlier page."))
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("role", [Role.CAMPAIGN, Role.RISK])
def test_another_role_replaying_a_cursor_gets_its_own_answer(model: ReadModel, role: Role) -> None:
    """A cursor names a place, not a caller: replayed by another key it pages that key's
    own answer (what its own paging reaches), never more."""
    field = LISTS["households"]
    cursor = _page(_ask(model, field).data)["pageInfo"]["endCursor"]
    own = run(f"query($after: String) {{ {field} }}", model, role).data["households"]
    replayed = run(f"query($after: String) {{ {field} }}", model, role, after=cursor)
    mine = run(
        f"query($after: String) {{ {field} }}", model, role, after=own["pageInfo"]["endCursor"]
    )
    assert replayed.data == mine.data
