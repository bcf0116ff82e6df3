"""``relgraph decide``: a reviewer's SAME / DIFFERENT decision on a possible duplicate, from
the command line, into the data directory's journal (beside a running server, whose
``decideDuplicate`` writes the same records); ``--list`` shows the decisions made."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.markup import escape

from relgraph.cli.audited import audit_command, os_user
from relgraph.cli.common import (
    DataDirOption,
    app,
    console,
    fail,
    open_store,
    require_load,
    settings_from,
)
from relgraph.config import Settings
from relgraph.store.base import StoreError

if TYPE_CHECKING:
    from relgraph.journal.decisions import DecisionBook


class Verdict(StrEnum):
    SAME = "SAME"
    DIFFERENT = "DIFFERENT"


@app.command()
def decide(
    ids: Annotated[
        list[str] | None,
        typer.Argument(
            help="A possible duplicate's id (D…, from possibleDuplicates), or two customer ids.",
            show_default=False,
        ),
    ] = None,
    decision: Annotated[
        Verdict | None,
        typer.Option(
            "--decision",
            case_sensitive=False,
            help="SAME: one person (the next load merges them); DIFFERENT: two persons "
            "(no load ever puts them in one person).",
        ),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Why: kept with the decision.")] = "",
    list_: Annotated[
        bool, typer.Option("--list", help="List the decisions made, newest first.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Decide whether two customer records are one person; the next `relgraph load` applies it.

    Recorded in the journal of the data directory as made by cli:<your user name>.
    """
    from relgraph.journal import JournalError
    from relgraph.journal.decisions import DecisionBook, DecisionError

    settings = settings_from(data_dir)
    book = DecisionBook(settings.data_dir)
    if list_:
        if ids or decision is not None:
            fail("--list takes no ids and no --decision: run it on its own")
        _print_list(settings, book)
        return
    if decision is None:
        fail("say what the records are: --decision SAME or --decision DIFFERENT")
    pair, duplicate_id = _pair(settings, book, ids or [])
    try:
        made = book.record(duplicate_id, *pair, decision.value, note, by=f"cli:{os_user()}")
    except (DecisionError, JournalError) as exc:
        fail(str(exc))
    # On the trail as the API's decideDuplicate is: who decided which pair (the journal
    # keeps the decision; the trail is what an auditor reads for who read and did what).
    audit_command(
        settings,
        "decide",
        f"the decision is recorded (journal entry {made.seq}) but not audited",
        ids=sorted([*made.pair, made.duplicate_id]),
        decision=made.decision,
        journal_seq=made.seq,
        outcome="ok",
    )
    console.print(
        escape(
            f"recorded: {made.customer_a} and {made.customer_b} are {made.decision} "
            f"({made.duplicate_id}, entry {made.seq}, by {made.by}); the next `relgraph load` "
            "applies it"
        ),
        soft_wrap=True,
    )


def _pair(settings: Settings, book: DecisionBook, ids: list[str]) -> tuple[tuple[str, str], str]:
    """The two customer ids and the duplicate id the arguments name; fails when they name none."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from relgraph import model
    from relgraph.ingest import IngestError
    from relgraph.ingest.person_ids import META_KEY, load_key

    if len(ids) not in (1, 2):
        fail("give a possible duplicate's id, or two customer ids")
    store = open_store(settings, read_only=True)
    try:
        require_load(store, settings)
        if len(ids) == 1:
            (duplicate_id,) = ids
            band = store.read_table(model.POSSIBLE_DUPLICATES_TABLE)
            if "duplicate_id" in band.column_names:
                found = band.filter(pc.equal(band["duplicate_id"], duplicate_id))
                if found.num_rows:
                    row = found.slice(0, 1).to_pylist()[0]
                    return (str(row["customer_a"]), str(row["customer_b"])), duplicate_id
            earlier = book.find(duplicate_id)
            if earlier is None:
                _not_found(
                    settings,
                    [duplicate_id],
                    f"no possible duplicate has id {duplicate_id!r}: copy it from "
                    "possibleDuplicates, or give the two customer ids instead",
                )
            return earlier.pair, duplicate_id
        keyed = store.meta().get(META_KEY)  # the duplicate id is made with the store's key
        known = store.read_table(model.CUSTOMERS.name, ["customer_id"])["customer_id"]
        missing = [c for c in ids if not pc.any(pc.equal(known, pa.scalar(c))).as_py()]
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    if missing:
        _not_found(
            settings,
            missing,
            f"no customer record has id {missing[0]!r} in the last load: check the id",
        )
    try:
        key = load_key(settings.data_dir, settings.id_secret, stored=keyed)
    except IngestError as exc:
        fail(str(exc))
    first, second = ids
    return (first, second), key.duplicate_id(first, second)


def _print_list(settings: Settings, book: DecisionBook) -> None:
    from relgraph.journal import JournalError
    from relgraph.journal.decisions import latest

    try:
        made = book.all()
    except JournalError as exc:
        fail(str(exc))
    if not made:
        console.print("no decisions yet")
        return
    in_force = {d.seq for d in latest(made).values()}
    # Every pair's customer ids go out: on the trail first, as `relgraph audience` and the
    # API's duplicateDecisions are, and nothing is printed if the line cannot be written.
    audit_command(
        settings,
        "decide --list",
        "nothing listed",
        ids=[i for d in made for i in (*d.pair, d.duplicate_id)],
        decisions=len(made),
        outcome="ok",
    )
    # One line per decision, not a table: ids and notes stay whole on any terminal, and
    # the lines can be searched and cut.
    console.print(
        f"{len(made):,} decision(s), newest first: when (UTC), by, id, pair, decision, note"
    )
    for d in reversed(made):
        shown = d.decision if d.seq in in_force else f"{d.decision} (superseded)"
        line = "  ".join(
            (d.at[:19], d.by, d.duplicate_id, f"{d.customer_a} {d.customer_b}", shown, d.note)
        )
        console.print(escape(line.rstrip()), soft_wrap=True)  # ids and notes are not markup


def _not_found(settings: Settings, tried: list[str], why: str) -> NoReturn:
    """Fail with ``why``, on the trail first: that an id names nothing is an answer too."""
    audit_command(
        settings, "decide", f"{why} (not audited)", ids=[], tried=tried, outcome="not_found"
    )
    fail(why)
