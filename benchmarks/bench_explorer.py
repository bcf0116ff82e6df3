"""Benchmark the explorer page in headless Chromium (Playwright + Debian's chromium).

Against `relgraph serve` on the 100,000-customer bank (benchmarks/data/store-100000-42, made by
bench_api.py's ``prepare`` when missing), each figure the median and worst of ``--runs`` runs,
every run in a fresh browser context (nothing cached):

1. navigation until the key box accepts input, then sign-in until the search box does;
2. a click on a search hit until the largest hidden network is drawn and laid out;
3. opening an alert with 200 hops until its money-flow view (~200 account nodes) is drawn,
   and a click on "force layout" until cose has laid those nodes out again.

    make web && .venv/bin/python benchmarks/bench_explorer.py --runs 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/api/browser.py
sys.path.insert(0, str(Path(__file__).parent))

from tests.api.browser import Server, chromium_path

from relgraph.store.embedded import EmbeddedStore

RISK_KEY = "bench-risk-key-0123456789"
IDENTIFIERS = ("device", "phone", "email", "address", "id_document")


NETWORK = """query($id: ID!) { hiddenNetwork(customerId: $id) {
  members { id } links { evidence { kind ref } } suppressed { ref } } }"""


def drawn_size(server: Server, person: str) -> int:
    """Nodes the page draws for a person's network: members, shared and suppressed identifiers."""
    network: Any = server.graphql(RISK_KEY, NETWORK, id=person)["hiddenNetwork"]
    shared = {
        (e["kind"], e["ref"])
        for link in network["links"]
        for e in link["evidence"]
        if e["kind"] in IDENTIFIERS
    }
    return len(network["members"]) + len(shared) + len(network["suppressed"])


def targets(store_dir: Path) -> tuple[str, str, str, int]:
    """The person of the largest hidden network; a chain of 200+ hops and its first account."""
    with EmbeddedStore(store_dir, read_only=True) as store:
        members = store.read_results("person_networks").to_pandas()
        hops = store.read_results("risk_chain_hops").to_pandas()
    sizes = members.groupby("network_id").size().sort_values(ascending=False)
    network = str(sizes.index[0])
    person = str(members[members["network_id"] == network]["person_id"].iloc[0])
    per_chain = hops.groupby("chain_id").size()
    chain = str(per_chain[per_chain >= 200].index[0])
    first = hops[hops["chain_id"] == chain].sort_values("hop").head(200)
    accounts = len(set(first["from_account"]) | set(first["to_account"]))
    return person, chain, str(first["from_account"].iloc[0]), accounts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store", type=Path, default=Path(__file__).parent / "data" / "store-100000-42"
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not args.store.exists():
        from bench_api import prepare

        args.store = prepare(100_000, 42)[0]
    person, chain, account, chain_nodes = targets(args.store)
    from playwright.sync_api import sync_playwright

    server = Server(args.store, f"risk:{RISK_KEY}")
    server.start(timeout=600)
    network_nodes = drawn_size(server, person)
    timings: dict[str, list[float]] = {}

    def record(name: str, ms: float) -> None:
        timings.setdefault(name, []).append(ms)

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), args=["--no-sandbox"]
            )
            for _ in range(args.runs):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                one_run(page, server, person, network_nodes, chain, account, chain_nodes, record)
                context.close()
            browser.close()
    finally:
        server.stop()
    print(
        f"## Explorer in headless Chromium: 100,000 customers, {args.runs} runs, fresh context each"
    )
    print(f"(load: {os.getloadavg()[0]:.1f}; network of {network_nodes} nodes; chain {chain} drawn "
          f"with {chain_nodes} account nodes)\n")  # fmt: skip
    print("| step | median (ms) | worst (ms) |\n|---|---:|---:|")
    for name, values in timings.items():
        print(f"| {name} | {statistics.median(values):.0f} | {max(values):.0f} |")


def one_run(
    page: Any, server: Server, person: str, network_nodes: int, chain: str, account: str,
    chain_nodes: int, record: Any,
) -> None:  # fmt: skip
    started = time.perf_counter()
    page.goto(f"{server.base}/explore")
    page.get_by_test_id("key").wait_for(state="visible")
    page.wait_for_function("document.body.dataset.ready === '1'")
    ready = time.perf_counter()
    record("navigation → key box accepts input", (ready - started) * 1000)
    page.get_by_test_id("key").fill(RISK_KEY)
    signing = time.perf_counter()
    page.get_by_test_id("signin").click()
    page.get_by_test_id("search").wait_for(state="visible")
    page.wait_for_function("document.activeElement?.id === 'search'")
    searchable = time.perf_counter()
    record("sign-in click → search box accepts input", (searchable - signing) * 1000)
    record("navigation → search box accepts input (typing excluded)",
           (ready - started + searchable - signing) * 1000)  # fmt: skip

    page.get_by_test_id("search").fill(person)
    page.get_by_test_id("search").press("Enter")
    page.get_by_test_id("search-hit").first.wait_for()
    page.get_by_test_id("search-hit").first.click()
    drawn(page, network_nodes)
    record(f"click → {network_nodes}-node hidden network laid out", since_click(page))
    record(f"  of which cose layout ({network_nodes} nodes)", layout_ms(page))

    page.evaluate(f"location.hash = '#/chain/{chain}/{account}'")
    drawn(page, chain_nodes)
    record(f"open → {chain_nodes}-node money flow drawn (placed by hop depth)", since_click(page))
    record(f"  of which layout ({chain_nodes} nodes)", layout_ms(page))
    layouts = page.evaluate("window.relgraphExplorer.graph.layouts")
    page.get_by_test_id("relayout").click()
    page.wait_for_function("n => window.relgraphExplorer.graph.layouts > n", arg=layouts)
    page.wait_for_function("document.querySelector('[data-testid=graph]').dataset.sinceClickMs")
    record(f"click → {chain_nodes}-node force layout (cose) finished", since_click(page))


def drawn(page: Any, nodes: int) -> None:
    page.wait_for_function(
        "n => window.relgraphExplorer.graph.nodeCount() === n && "
        "document.querySelector('[data-testid=graph]').dataset.sinceClickMs",
        arg=nodes,
        timeout=30_000,
    )


def since_click(page: Any) -> float:
    """Milliseconds from the click to the end of the layout, as the page measured them."""
    value = page.evaluate(
        "() => { const g = document.querySelector('[data-testid=graph]');"
        " const v = g.dataset.sinceClickMs; delete g.dataset.sinceClickMs; return Number(v); }"
    )
    return float(value)


def layout_ms(page: Any) -> float:
    return float(page.evaluate("window.relgraphExplorer.graph.lastLayoutMs"))


if __name__ == "__main__":
    main()
