"""``amplemarket.dask`` on a real ``dask.distributed.LocalCluster`` of 2 worker processes (one thread each) against
``amplemarket sandbox`` server processes, checked through each server's request log and ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dask.dataframe", reason="dask is not installed (pip install 'amplemarket[dask]')")
pytest.importorskip("distributed", reason="distributed is not installed (pip install 'amplemarket[dask]')")

import pandas as pd

import amplemarket
import amplemarket.dask as amp_dask

from ._helpers import KEY, ServerProcess, creations, jobs_polled, people_of, statuses, steady_rate, submitted_leads

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two worker processes whose environment holds the key (the driver's does not)."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"AMPLEMARKET_API_KEY": KEY},
        )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path, "--no-rate-limits", "--job-progression", "immediate")
    yield s
    s.kill()


def test_enrich_gives_one_row_per_input_row_with_the_right_person(cluster: Any, server: ServerProcess) -> None:
    import dask.dataframe as dd

    people = people_of(server, 300)
    emails: list[str | None] = [p["email"] for p in people] + [None, "nobody-at-all@nowhere.test"]
    pdf = pd.DataFrame({"row_id": range(len(emails)), "email": emails})
    ddf = dd.from_pandas(pdf, npartitions=4)
    empty = dd.from_pandas(pdf.iloc[:0], npartitions=1)
    ddf = dd.concat([ddf, empty])
    out = amp_dask.enrich(ddf, sandbox_url=server.url, rate_limit=False)
    assert list(out.columns[:4]) == ["row_id", "email", "status", "error"]
    got = out.compute().set_index("row_id")
    assert len(got) == len(emails)
    for i, p in enumerate(people):
        assert got.loc[i, "person.id"] == p["id"]
    assert got.loc[len(people), "status"] == "invalid"
    assert got.loc[len(people) + 1, "status"] == "not_found"
    assert str(got["result_id"].dtype) == "Int64"
    record = server.stop()
    assert all(n == 1 for n in submitted_leads(record).values())
    assert len(creations(record)) == 4  # the empty partition sent nothing


def test_the_cluster_holds_the_rate_limit_without_429(cluster: Any, tmp_path: Path) -> None:
    import dask.dataframe as dd

    server = ServerProcess(
        tmp_path, "--job-progression", "immediate", "--set", "rate_limit=40", "--set", "rate_limit_window=4"
    )
    try:
        pdf = pd.DataFrame({"row_id": range(9_000), "email": [f"lead{i}@nowhere.test" for i in range(9_000)]})
        ddf = dd.from_pandas(pdf, npartitions=6)
        limits = amplemarket.RateLimits(requests=40, search=None, per=4)
        out = amp_dask.enrich(ddf, sandbox_url=server.url, rate_limit=limits)
        assert len(out.compute()) == 9_000
        record = server.stop()
    finally:
        server.kill()
    assert statuses(record)[429] == 0
    rate = steady_rate(record)
    assert rate >= 0.9 * 40 / 4, f"{rate:.2f} requests/s while both tasks ran; allowed 10"
    assert all(n == 1 for n in submitted_leads(record).values())


def test_a_checkpoint_lets_a_rerun_reattach(cluster: Any, server: ServerProcess, tmp_path: Path) -> None:
    """Computing the same enrichment twice (a lost worker's tasks re-run the same way) submits nothing again."""
    import dask.dataframe as dd

    people = people_of(server, 200)
    pdf = pd.DataFrame({"row_id": range(200), "email": [p["email"] for p in people]})
    ddf = dd.from_pandas(pdf, npartitions=2)
    checkpoint = str(tmp_path / "ck")
    first = amp_dask.enrich(ddf, sandbox_url=server.url, rate_limit=False, checkpoint=checkpoint).compute()
    again = amp_dask.enrich(ddf, sandbox_url=server.url, rate_limit=False, checkpoint=checkpoint).compute()
    assert list(first["person.id"]) == list(again["person.id"]) == [p["id"] for p in people]
    record = server.stop()
    assert len(creations(record)) == 2
    recorded = {json.loads(p.read_text())["job_id"] for p in (tmp_path / "ck").glob("*.json")}
    assert len(recorded) == 2
    assert recorded == jobs_polled(record)


def test_find_and_a_client_travelling_to_the_workers(
    cluster: Any, server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dask.dataframe as dd

    people = people_of(server, 20)
    pdf = pd.DataFrame({"email": [p["email"] for p in people]})
    out = amp_dask.find(dd.from_pandas(pdf, npartitions=2), sandbox_url=server.url, rate_limit=False).compute()
    assert list(out["person.id"]) == [p["id"] for p in people]
    client = amplemarket.Client(api_key=KEY, base_url=server.url)
    # Dask's scheduler unpickles task arguments too (here it runs in this process), so it needs the key as well.
    monkeypatch.setenv("AMPLEMARKET_API_KEY", KEY)
    futures = cluster.map(lambda c: c.account_info()["object"], [client, client], pure=False)
    assert cluster.gather(futures) == ["account_info", "account_info"]
