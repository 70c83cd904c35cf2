"""`EnrichmentJob`: create / get / refresh / wait / results / cancel in every job progression, in blocking and
awaitable form, against a real sandbox over HTTP."""

from __future__ import annotations

import itertools
import pickle
import random
import sys
import time
from typing import Any

import httpx
import pytest
from support import CREATE, PATCH, POLL, call, last_seq, same_person, sent

import amplemarket
from amplemarket import EnrichmentJob, EnrichmentResult, InvalidInputError, JobFailedError, JobTimeoutError
from amplemarket.testing import Sandbox

from ._helpers import collect, leads_sent, pages


def linkedin_leads(people: list[dict[str, Any]], n: int) -> list[dict[str, str]]:
    return [{"linkedin_url": p["linkedin_url"]} for p in people[:n]]


def server_results(api: httpx.Client, job_id: int) -> list[dict[str, Any]]:
    """Every result of a job as the server lists it, following ``_links.next`` with plain HTTP."""
    out: list[dict[str, Any]] = []
    href: str | None = f"/people/enrichment-requests/{job_id}"
    while href:
        body = api.get(href).json()
        out.extend(body["results"])
        href = body["_links"].get("next", {}).get("href")
    return out


# -- lifecycle in every progression -------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_immediate_job_is_done_at_its_first_poll(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 20)
    job = call(mode, EnrichmentJob, "create", leads, client=client)
    assert isinstance(job, EnrichmentJob) and isinstance(job.id, int)
    assert (job.status, job.done, job.errors) == ("queued", False, [])
    assert str(job.id) in repr(job)

    assert call(mode, job, "wait") is job
    assert (job.status, job.done, job.errors) == ("completed", True, [])
    assert len(sent(sb, POLL)) == 1

    results = collect(mode, job)
    assert all(isinstance(r, EnrichmentResult) for r in results)
    assert sorted(r.linkedin_url for r in results) == sorted(lead["linkedin_url"] for lead in leads)
    truth = {p["linkedin_url"]: p for p in people[:20]}
    for r in results:
        p = truth[r.linkedin_url]
        if p.get("_gdpr_removed"):
            assert (r.status, r.person) == ("gdpr_removed", None)
        else:
            assert r.status == "enriched" and same_person(r.person, p)
        assert r.to_dict()["id"] == r.id and r.lead == {"linkedin_url": r.linkedin_url}
        assert pickle.loads(pickle.dumps(r)) == r


@pytest.mark.amplemarket_sandbox(job_progression="polls:3")
def test_polls_job_is_done_at_the_third_poll(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 30)
    job = call(mode, EnrichmentJob, "create", leads, client=client)
    assert job.status == "queued"

    assert call(mode, job, "refresh") is job  # poll 1
    assert (job.status, job.done) == ("processing", False)
    with pytest.raises(InvalidInputError, match="wait"):
        job.results()

    calls: list[tuple[str, int, int]] = []
    call(mode, job, "wait", progress=lambda *a: calls.append(a))  # polls 2 and 3
    assert (job.status, job.done) == ("completed", True)
    assert len(sent(sb, POLL)) == 3
    # Counted in leads, towards the 30 this job was given; the last report is the end.
    assert [c[0] for c in calls] == ["waiting: processing", "done"]
    assert all(total == 30 and 0 <= done <= 30 for _, done, total in calls)
    assert calls[-1] == ("done", 30, 30)
    assert len(collect(mode, job)) == 30


@pytest.mark.amplemarket_sandbox(job_progression="polls:2", poll_retry_after=1)
def test_wait_honours_retry_after_between_polls(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    job = call(mode, EnrichmentJob, "create", linkedin_leads(people, 5), client=client)
    call(mode, job, "wait", timeout=30)
    assert job.status == "completed"
    polls = sent(sb, POLL)
    assert len(polls) == 2
    assert polls[1]["time"] - polls[0]["time"] >= 0.95, "the second poll waits for the Retry-After second"


@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_wait_progress_true_prints_the_job_status(
    sb: Sandbox,
    client: amplemarket.Client,
    people: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    job = EnrichmentJob.create(linkedin_leads(people, 5), client=client).wait(progress=True)
    err = capsys.readouterr().err
    assert f"job {job.id}: waiting: processing" in err, err
    assert f"job {job.id}: done 5/5 leads" in err, err


@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_wait_of_a_job_from_another_process_counts_results_without_a_total(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    created = EnrichmentJob.create(linkedin_leads(people, 5), client=client)
    calls: list[tuple[str, int, int]] = []
    EnrichmentJob.get(created.id, client=client).wait(progress=lambda *a: calls.append(a))
    assert calls[-1] == ("done", 5, 0), calls


@pytest.mark.amplemarket_sandbox(job_progression="seconds:0")
def test_seconds_zero_job_is_done_at_its_first_poll(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    job = call(mode, EnrichmentJob, "create", linkedin_leads(people, 10), client=client)
    assert job.status == "queued"
    call(mode, job, "wait")
    assert (job.status, job.done) == ("completed", True)
    assert len(sent(sb, POLL)) == 1
    assert len(collect(mode, job)) == 10


@pytest.mark.amplemarket_sandbox(job_progression="seconds:0.4")
def test_seconds_job_is_waited_out(sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]) -> None:
    started = time.monotonic()
    job = EnrichmentJob.create(linkedin_leads(people, 10), client=client).wait(timeout=30)
    assert job.status == "completed"
    assert time.monotonic() - started >= 0.35
    assert len(sent(sb, POLL)) > 1
    assert len(list(job.results())) == 10


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_never_job_times_out_keeps_running_and_can_be_canceled(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    job = call(mode, EnrichmentJob, "create", linkedin_leads(people, 10), client=client)
    started = time.monotonic()
    with pytest.raises(JobTimeoutError) as caught:
        call(mode, job, "wait", timeout=0.3)
    assert time.monotonic() - started < 5
    e = caught.value
    assert isinstance(e, TimeoutError) and isinstance(e, amplemarket.AmplemarketError)
    assert e.job_id == job.id and str(job.id) in str(e)
    assert e.status == "processing" and e.waited <= 0.3 + 0.5
    assert pickle.loads(pickle.dumps(e)).job_id == job.id

    # Still running on the server: not canceled, and readable from anywhere.
    assert sent(sb, PATCH) == []
    again = call(mode, EnrichmentJob, "get", job.id, client=client)
    assert (again.id, again.status, again.done) == (job.id, "processing", False)

    assert call(mode, job, "cancel") is job
    assert (job.status, job.done) == ("canceled", True)
    assert len(sent(sb, PATCH)) == 1
    assert collect(mode, job) == []  # a job that never progressed has nothing to show
    call(mode, again, "refresh")
    assert again.status == "canceled"


@pytest.mark.amplemarket_sandbox(job_progression="never", poll_retry_after=30)
def test_a_retry_after_beyond_the_timeout_still_gets_the_whole_timeout(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    job = call(mode, EnrichmentJob, "create", linkedin_leads(people, 3), client=client)
    before = len(sent(sb, POLL))
    with pytest.raises(JobTimeoutError) as caught:
        call(mode, job, "wait", timeout=0.5)
    # A poll now and a last one at the deadline, instead of giving up at once because 30 s > 0.5 s.
    assert len(sent(sb, POLL)) - before == 2
    assert caught.value.waited >= 0.5 and caught.value.status == "processing"


# -- resuming, pages, cancel ----------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="polls:3")
def test_get_from_a_second_client_resumes_the_same_job(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 40)
    job = call(mode, EnrichmentJob, "create", leads, client=client)
    with sb.client(rate_limit=False) as other:
        resumed = call(mode, EnrichmentJob, "get", job.id, client=other)
        assert resumed.id == job.id and not resumed.done
        call(mode, resumed, "wait")
        assert resumed.status == "completed"
        theirs = collect(mode, resumed)
    assert len(sent(sb, CREATE)) == 1  # nothing was submitted again

    call(mode, job, "refresh")
    assert job.status == "completed"
    mine = collect(mode, job)
    assert len(mine) == 40 and [r.to_dict() for r in mine] == [r.to_dict() for r in theirs]


def test_get_of_an_unknown_job_is_not_found(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    with pytest.raises(amplemarket.NotFoundError) as caught:
        call(mode, EnrichmentJob, "get", 987_654_321, client=client)
    assert caught.value.code == "enrichment_request_not_found"


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_results_stream_every_lead_once_over_many_pages(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 1_000)
    job = call(mode, EnrichmentJob, "create", leads, client=client)
    call(mode, job, "wait")
    since = last_seq(sb)

    results = collect(mode, job, page_size=7)

    assert len(results) == 1_000
    ids = [r.id for r in results]
    assert all(a < b for a, b in itertools.pairwise(ids)), "result ids must increase: none duplicated or reordered"
    assert sorted(r.linkedin_url for r in results) == sorted(lead["linkedin_url"] for lead in leads)
    fetched = sent(sb, POLL, since)
    assert len(fetched) == pages(1_000, 7)
    assert all("page%5Bsize%5D=7" in (r["query"] or "") or "page[size]=7" in (r["query"] or "") for r in fetched)


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
@pytest.mark.parametrize("page_size", [0, 101])
def test_results_page_size_out_of_range_is_invalid(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]], page_size: int
) -> None:
    job = EnrichmentJob.create(linkedin_leads(people, 3), client=client).wait()
    since = last_seq(sb)
    with pytest.raises(InvalidInputError, match="page_size"):
        collect(mode, job, page_size=page_size)
    assert sent(sb, since=since) == []


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_result_pages_link_next_and_prev(
    sb: Sandbox, client: amplemarket.Client, api: httpx.Client, people: list[dict[str, Any]]
) -> None:
    job = EnrichmentJob.create(linkedin_leads(people, 25), client=client).wait()
    path = f"/people/enrichment-requests/{job.id}"
    first = api.get(path, params={"page[size]": 10}).json()
    assert first["_links"]["self"]["href"] == path
    assert "prev" not in first["_links"] and "next" in first["_links"]
    second = api.get(first["_links"]["next"]["href"]).json()
    assert "prev" in second["_links"] and "next" in second["_links"]
    back = api.get(second["_links"]["prev"]["href"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]
    third = api.get(second["_links"]["next"]["href"]).json()
    assert len(third["results"]) == 5 and "next" not in third["_links"] and "prev" in third["_links"]
    seen = [r["id"] for page in (first, second, third) for r in page["results"]]
    assert seen == [r.id for r in job.results(page_size=10)]


@pytest.mark.amplemarket_sandbox(job_progression="polls:10")
def test_cancel_midway_keeps_the_results_so_far(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 100)
    job = call(mode, EnrichmentJob, "create", leads, client=client)
    for _ in range(3):
        call(mode, job, "refresh")
    assert job.status == "processing"

    assert call(mode, job, "cancel") is job
    assert (job.status, job.done) == ("canceled", True)
    results = collect(mode, job)
    assert 0 < len(results) < 100
    assert len({r.id for r in results}) == len(results)
    assert {r.linkedin_url for r in results} <= {lead["linkedin_url"] for lead in leads}

    call(mode, job, "refresh")  # canceled is final: polling does not produce more
    assert job.status == "canceled"
    assert len(collect(mode, job)) == len(results)
    mapped = job.results_for(leads)
    assert sum(r is not None for r in mapped) == len(results)
    for lead, r in zip(leads, mapped, strict=True):
        assert r is None or r.linkedin_url == lead["linkedin_url"]


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_results_before_the_job_is_done_raise(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 5)
    job = EnrichmentJob.create(leads, client=client)
    since = last_seq(sb)
    for read in (job.results, job.results_async, lambda: job.results_for(leads), job.to_pandas):
        with pytest.raises(InvalidInputError) as caught:
            read()
        assert str(job.id) in str(caught.value) and "wait" in str(caught.value)
    assert sent(sb, since=since) == []
    job.cancel()


@pytest.mark.amplemarket_sandbox(job_progression="immediate", job_error_rate=1.0)
def test_failed_job_raises_with_the_server_errors_and_keeps_its_results(
    sb: Sandbox, client: amplemarket.Client, api: httpx.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 30)
    job = call(mode, EnrichmentJob, "create", leads, client=client)
    with pytest.raises(JobFailedError) as caught:
        call(mode, job, "wait")
    e = caught.value
    raw = api.get(f"/people/enrichment-requests/{job.id}").json()
    assert raw["status"] == "error" and raw["_errors"]
    assert e.job_id == job.id and str(job.id) in str(e)
    assert e.errors == raw["_errors"]
    assert (job.status, job.done, job.errors) == ("error", True, raw["_errors"])
    again = pickle.loads(pickle.dumps(e))
    assert (type(again), again.job_id, again.errors) == (JobFailedError, e.job_id, e.errors)

    results = collect(mode, job)
    assert [r.to_dict() for r in results] == server_results(api, job.id)
    assert len(results) == 30  # immediate jobs produce every result before they fail


# -- create: validation, limits, idempotency --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("leads", "index", "words"),
    [
        ([{"email": "jane@techco.com"}, {"name": "Jane Doe"}], 1, ["identifier"]),
        ([{"email": "jane@techco.com", "phone": "123"}], 0, ["`phone`"]),
        ([{"email": "jane@techco.com"}, {"email": 5}], 1, ["`email`", "string"]),
        ([{"email": "a@techco.com"}, {"email": "b@techco.com"}, {"email": "c at techco"}], 2, ["`email`", "address"]),
        ([{"linkedin_url": ["https://www.linkedin.com/in/x"]}], 0, ["`linkedin_url`"]),
    ],
)
def test_create_rejects_a_bad_lead_naming_index_and_field(
    sb: Sandbox, client: amplemarket.Client, mode: str, leads: list[Any], index: int, words: list[str]
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        call(mode, EnrichmentJob, "create", leads, client=client)
    message = str(caught.value)
    assert f"lead {index}" in message
    for w in words:
        assert w in message
    assert isinstance(caught.value, ValueError)
    assert sent(sb) == []


def test_create_refuses_more_than_10000_leads_pointing_at_enrich(
    sb: Sandbox, client: amplemarket.Client, mode: str
) -> None:
    leads = ({"email": f"lead{i}@example.com"} for i in range(10_001))
    with pytest.raises(InvalidInputError) as caught:
        call(mode, EnrichmentJob, "create", leads, client=client)
    assert "Person.enrich" in str(caught.value) and "10000" in str(caught.value).replace(",", "")
    assert sent(sb) == []


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_create_takes_exactly_10000_leads(sb: Sandbox, client: amplemarket.Client) -> None:
    job = EnrichmentJob.create([{"email": f"lead{i}@example.com"} for i in range(10_000)], client=client)
    assert [len(b) for b in leads_sent(sb)] == [10_000]
    job.cancel()


@pytest.mark.parametrize("leads", [42, None, "jane@techco.com", b"jane", {"email": "jane@techco.com"}, object()])
def test_create_needs_an_iterable_of_dicts(sb: Sandbox, client: amplemarket.Client, mode: str, leads: Any) -> None:
    with pytest.raises(TypeError, match="iterable"):
        call(mode, EnrichmentJob, "create", leads, client=client)
    assert sent(sb) == []


def test_create_with_no_leads_is_invalid(sb: Sandbox, client: amplemarket.Client) -> None:
    with pytest.raises(InvalidInputError, match="no leads"):
        EnrichmentJob.create([], client=client)
    assert sent(sb) == []


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_create_sends_an_idempotency_key_and_honours_a_given_one(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 3)
    a = call(mode, EnrichmentJob, "create", leads, client=client)
    b = call(mode, EnrichmentJob, "create", leads, client=client)
    keys = [r["headers"].get("idempotency-key") for r in sent(sb, CREATE)]
    assert all(keys) and keys[0] != keys[1]
    assert a.id != b.id

    c = call(mode, EnrichmentJob, "create", leads, idempotency_key="order-42", client=client)
    d = call(mode, EnrichmentJob, "create", leads, idempotency_key="order-42", client=client)
    assert c.id == d.id and c.id not in (a.id, b.id)
    assert [r["headers"].get("idempotency-key") for r in sent(sb, CREATE)][2:] == ["order-42", "order-42"]
    for job in (a, b, c):
        job.cancel()


# -- results_for ----------------------------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_results_for_maps_results_to_shuffled_leads_with_duplicates(
    sb: Sandbox, client: amplemarket.Client, live: list[dict[str, Any]]
) -> None:
    chosen = [p for p in live if p.get("email")][:8]
    base = [{"email": p["email"]} for p in chosen[:5]] + [{"linkedin_url": p["linkedin_url"]} for p in chosen[5:]]
    leads = [*base, base[0], base[6], base[0]]
    job = EnrichmentJob.create(leads, client=client).wait()
    shuffled = random.Random(7).sample(leads, len(leads))

    got = job.results_for(shuffled)

    assert len(got) == len(shuffled)
    by_key = {(lead.get("email") or lead["linkedin_url"]): p for lead, p in zip(base, chosen, strict=True)}
    for lead, r in zip(shuffled, got, strict=True):
        assert r is not None and r.lead == lead
        assert same_person(r.person, by_key[lead.get("email") or lead["linkedin_url"]])
    ids = [r.id for r in got if r is not None]
    assert len(set(ids)) == len(leads), "each copy of a duplicate gets its own result"
    assert set(ids) == {r.id for r in job.results()}


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_results_for_a_lead_the_job_was_not_given_is_none(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    leads = linkedin_leads(people, 3)
    job = EnrichmentJob.create(leads, client=client).wait()
    got = job.results_for([leads[1], {"email": "stranger@example.com"}])
    assert got[0] is not None and got[0].linkedin_url == leads[1]["linkedin_url"]
    assert got[1] is None
