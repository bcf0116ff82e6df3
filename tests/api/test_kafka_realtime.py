"""One Kafka consumer end to end on the real scorer: the verdicts HTTP gives, redelivery safe.

The same bank is served twice (two service states over one read model, each with its own
journal and live index): one gets a layering chain over ``POST /v1/transfers``, the other
from a Kafka topic through :func:`relgraph.jobs.sources.consume` with the server's endpoint as
``apply``. Both must answer every transfer with the same verdict, and a redelivered batch must
change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("relgraph.api.live", reason="real-time scoring (POST /v1/transfers) is absent")


from relgraph.api.app import ServiceState, create_app, default_state
from relgraph.api.auth import KeyRing, Role
from relgraph.api.readmodel import ReadModel
from relgraph.jobs.sources import Record, consume
from relgraph.jobs.sources.http import http_apply
from relgraph.jobs.sources.kafka import KafkaSource, publish
from tests.served import in_thread
from tests.sources.test_kafka_source import FAST_GROUP, new_topic

from .conftest import KEYS
from .test_ingestion import _after_all, _chain, _mules, post


def _comparable(result: Mapping[str, Any]) -> Any:
    """A result without the moment it was computed (found_at differs between the servers)."""
    if isinstance(result, Mapping):
        return {k: _comparable(v) for k, v in result.items() if not k.startswith("found")}
    if isinstance(result, list):
        return [_comparable(v) for v in result]
    return result


@pytest.mark.kafka
def test_a_chain_from_kafka_gets_the_verdicts_http_gives_and_redelivery_changes_nothing(
    kafka_bootstrap: str, state: ServiceState, model: ReadModel, tmp_path: Path
) -> None:
    http_app = create_app(state)
    other = default_state(tmp_path / "kafka", KeyRing({k: r for r, k in KEYS.items()}))
    other.model = model
    kafka_app = create_app(other)
    ids = _mules(http_app, model, "KF")
    assert _mules(kafka_app, model, "KF") == ids
    legs = _chain(ids, _after_all(model), "KF-")

    over_http = [post(http_app, "/v1/transfers", [leg]).json()["results"][0] for leg in legs]

    topic = new_topic(kafka_bootstrap, 1)
    publish(kafka_bootstrap, topic, legs)
    answers: list[Mapping[str, Any]] = []
    # Served over real HTTP, as a consumer beside the server posts (its startup is not run:
    # the state above is set up already).
    with in_thread(kafka_app, lifespan="off") as url:
        scorer = http_apply(url, KEYS[Role.INGEST])

        def apply(batch: list[Record]) -> Mapping[str, Any]:
            answer = scorer(batch)
            answers.append(answer)
            return answer

        with KafkaSource(
            kafka_bootstrap, topic, group="e2e", idle_timeout=5.0, config=FAST_GROUP
        ) as s:
            report = consume(s, apply, batch_size=1)
        over_kafka = [r for answer in answers for r in answer["results"]]

        assert report.accepted == 3
        assert [r["status"] for r in over_kafka] == ["accepted"] * 3
        assert [_comparable(r) for r in over_kafka] == [_comparable(r) for r in over_http]
        chains = [
            a for a in over_kafka[2]["verdict"]["alerts"] if a["typology"] == "layering_chain"
        ]
        assert chains
        assert chains[0]["above_threshold"]

        # A consumer that crashed before committing would get the batch again: the same records
        # to the same server are duplicates, and no new alert or journal entry appears.
        again = scorer(legs)
        assert [r["status"] for r in again["results"]] == ["duplicate"] * 3
        assert (again["accepted"], again["duplicate"]) == (0, 3)
