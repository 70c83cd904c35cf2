"""`Person.enrich`: any number of leads, deduplicated, split into jobs of at most 10,000, one result per input lead
in input order; invalid leads and failed jobs come back as results rather than exceptions."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from support import CREATE, DOCUMENTED_PEOPLE, FAST, call, same_person, sent

import amplemarket
from amplemarket import EnrichmentResult, JobTimeoutError, Person
from amplemarket.testing import Sandbox

from ._helpers import leads_sent, mixed_leads

# Leads the SDK cannot send, with a word its error must contain.
INVALID: list[tuple[Any, str]] = [
    ({"name": "Nobody Atall"}, "identifier"),
    ({"email": "jane@techco.com", "favourite_colour": "blue"}, "favourite_colour"),
    ({"email": 7}, "email"),
    ({"email": "jane at example dot com"}, "not an email address"),
    ({"linkedin_url": "example.com/in/jane"}, "not a LinkedIn profile URL"),
    ({}, "identifier"),
]
# Not leads at all: a programming error, refused before anything is sent.
NOT_MAPPINGS: list[Any] = ["jane@techco.com", 42, None, ("email", "j@t.co")]


def signature(lead: dict[str, Any]) -> str:
    return json.dumps(lead, sort_keys=True)


@dataclass
class Expect:
    """What one input lead should get: the person it names (index into the data set), or invalid with a word."""

    person: int | None = None
    invalid_word: str | None = None
    duplicate_of: int | None = None  # input position of the first copy


def build_inputs(
    distinct: list[dict[str, str]], duplicates: int, seed: int
) -> tuple[list[Any], list[Expect], list[int]]:
    """``distinct`` leads (lead i names person i) with copies and invalid leads scattered among them."""
    rng = random.Random(seed)
    inputs: list[Any] = list(distinct)
    expect = [Expect(person=i) for i in range(len(distinct))]
    for _ in range(duplicates):
        j = rng.randrange(len(distinct))
        at = rng.randrange(len(inputs) + 1)
        inputs.insert(at, dict(distinct[j]))
        expect.insert(at, Expect(person=j))
    for lead, word in INVALID:
        at = rng.randrange(len(inputs) + 1)
        inputs.insert(at, lead)
        expect.insert(at, Expect(invalid_word=word))
    first: dict[int, int] = {}
    copies: list[int] = []
    for pos, e in enumerate(expect):
        if e.person is not None:
            if e.person in first:
                e.duplicate_of = first[e.person]
                copies.append(pos)
            else:
                first[e.person] = pos
    return inputs, expect, copies


def check_results(
    results: list[EnrichmentResult], inputs: list[Any], expect: list[Expect], people: list[dict[str, Any]]
) -> None:
    """One result per input lead, in input order, each for its lead."""
    assert len(results) == len(inputs)
    for pos, (r, lead, e) in enumerate(zip(results, inputs, expect, strict=True)):
        assert isinstance(r, EnrichmentResult)
        if e.invalid_word is not None:
            assert r.status == "invalid", (pos, lead, r)
            assert r.error and e.invalid_word in r.error and f"lead {pos}" in r.error
            assert r.person is None and r.id is None
            continue
        truth = people[e.person]  # type: ignore[index]
        assert r.lead == lead, (pos, lead, r.lead)
        assert r.error is None
        if truth.get("_gdpr_removed"):
            assert (r.status, r.person) == ("gdpr_removed", None), (pos, lead)
        else:
            assert r.status == "enriched" and same_person(r.person, truth), (pos, lead, r)
        if e.duplicate_of is not None:
            assert r.id == results[e.duplicate_of].id and r == results[e.duplicate_of]


def check_each_person_charged_once(sb: Sandbox) -> Counter[tuple[str, str]]:
    charges = Counter((c["person_id"], c["kind"]) for c in sb.credits["charges"])
    assert charges and max(charges.values()) == 1, charges.most_common(3)
    return charges


# -- 25,000 leads: three jobs ------------------------------------------------------------------------------------------


@dataclass
class Big:
    sb: Sandbox
    people: list[dict[str, Any]]
    inputs: list[Any]
    expect: list[Expect]
    copies: list[int]
    results: list[EnrichmentResult]
    progress: list[tuple[str, int, int]]
    bodies: list[list[dict[str, Any]]]


@pytest.fixture(scope="module")
def big() -> Iterator[Big]:
    """25,000 distinct leads (email or LinkedIn URL of each of 25,000 people), 300 copies and a few invalid leads,
    enriched once for the whole module."""
    settings = {**FAST, "job_progression": "immediate"}
    with Sandbox(people=25_000, **settings) as sb, sb.client(rate_limit=False) as client:
        people = list(sb.people[:])
        assert len(people) == 25_000 + DOCUMENTED_PEOPLE
        people = people[:25_000]
        inputs, expect, copies = build_inputs(mixed_leads(people), duplicates=300, seed=3)
        progress: list[tuple[str, int, int]] = []
        results = Person.enrich(inputs, client=client, progress=lambda *a: progress.append(a))
        yield Big(sb, people, inputs, expect, copies, results, progress, leads_sent(sb))


def test_25000_leads_go_in_exactly_three_requests_each_lead_once(big: Big) -> None:
    assert len(sent(big.sb, CREATE)) == 3
    assert all(len(b) <= 10_000 for b in big.bodies)
    every = [signature(lead) for body in big.bodies for lead in body]
    assert len(every) == 25_000 == len(set(every)), "each distinct lead is submitted once; copies are not"
    valid = {signature(lead) for lead, e in zip(big.inputs, big.expect, strict=True) if e.invalid_word is None}
    assert set(every) == valid, "invalid leads are never sent"


def test_25000_leads_give_one_result_per_input_in_order(big: Big) -> None:
    assert len(big.inputs) == 25_000 + 300 + len(INVALID)
    check_results(big.results, big.inputs, big.expect, big.people)


def test_25000_leads_copies_share_their_result(big: Big) -> None:
    assert len(big.copies) == 300
    for pos in big.copies:
        first = big.expect[pos].duplicate_of
        assert first is not None and big.results[pos].id == big.results[first].id


def test_25000_leads_charge_each_person_once(big: Big) -> None:
    charges = check_each_person_charged_once(big.sb)
    enriched = {r.person.id for r in big.results if r.status == "enriched" and r.person is not None}
    assert {pid for pid, kind in charges if kind == "found"} == enriched


def phase_rank(phase: str) -> int:
    if phase.startswith("waiting: "):
        return 1
    return {"submitting": 0, "reading results": 2, "done": 3}[phase]


def test_25000_leads_progress_counts_leads_through_each_phase(big: Big) -> None:
    assert big.progress, "the callable was called"
    distinct = sum(len(b) for b in big.bodies)
    assert {total for _, _, total in big.progress} == {distinct}, "one total, in leads, for the whole call"
    phases = [p for p, _, _ in big.progress]
    assert phases[0] == "submitting" and phases[-1] == "done"
    ranks = [phase_rank(p) for p in phases]
    assert ranks == sorted(ranks), phases
    assert ("submitting", distinct, distinct) in big.progress
    assert ("reading results", distinct, distinct) in big.progress
    assert big.progress[-1] == ("done", distinct, distinct)
    for phase in ("submitting", "reading results"):
        counts = [d for p, d, _ in big.progress if p == phase]
        assert counts and counts == sorted(counts), (phase, counts)
    for _, done, total in big.progress:
        assert 0 <= done <= total


# -- smaller runs, blocking and awaitable ------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_enrich_dedups_keeps_order_and_marks_invalid_leads(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    chosen = people[:150]
    inputs, expect, copies = build_inputs(mixed_leads(chosen), duplicates=60, seed=11)
    assert copies

    results = call(mode, Person, "enrich", inputs, client=client)

    check_results(results, inputs, expect, chosen)
    bodies = leads_sent(sb)
    assert len(bodies) == 1 and len(bodies[0]) == 150
    assert len({signature(lead) for lead in bodies[0]}) == 150
    check_each_person_charged_once(sb)


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_enrich_accepts_a_tuple(sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]) -> None:
    leads = mixed_leads(people[:5])
    results = Person.enrich(tuple(leads), client=client)
    assert isinstance(results, Sequence) and [r.lead for r in results] == leads


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_enrich_accepts_a_generator(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    leads = mixed_leads(people[:5])
    results = call(mode, Person, "enrich", (dict(lead) for lead in leads), client=client)
    assert len(sent(sb, CREATE)) == 1
    assert [r.lead for r in results] == leads


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_enrich_reveals_emails_charging_each_person_once(
    sb: Sandbox, client: amplemarket.Client, mode: str, live: list[dict[str, Any]]
) -> None:
    chosen = [p for p in live if p.get("email")][:10]
    leads = [{"linkedin_url": p["linkedin_url"]} for p in chosen]
    inputs = leads + leads[:4] + [dict(leads[0])]
    results = call(mode, Person, "enrich", inputs, reveal_email=True, client=client)
    body = json.loads(sent(sb, CREATE)[0]["body"])
    assert body["reveal_email"] is True and body["reveal_phone_numbers"] is False and len(body["leads"]) == 10
    for r, p in zip(results, chosen + chosen[:4] + chosen[:1], strict=True):
        assert r.status == "enriched" and r.person is not None and r.person.email == p["email"]
    charges = check_each_person_charged_once(sb)
    assert sum(1 for _, kind in charges if kind == "email") == 10


def test_enrich_of_nothing_sends_nothing(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    assert call(mode, Person, "enrich", [], client=client) == []
    results = call(mode, Person, "enrich", [lead for lead, _ in INVALID], client=client)
    assert [r.status for r in results] == ["invalid"] * len(INVALID)
    assert sent(sb) == []


@pytest.mark.parametrize("item", NOT_MAPPINGS, ids=repr)
def test_a_lead_that_is_not_a_mapping_raises_type_error_before_sending(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]], item: Any
) -> None:
    leads = [*mixed_leads(people[:3]), item]
    with pytest.raises(TypeError, match=r"lead 3 is a \w+ .*not a dict of fields.*\{\"email\": "):
        call(mode, Person, "enrich", leads, client=client)
    assert sent(sb) == []


def test_a_list_of_column_names_is_refused_as_what_it_is(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    # What iterating a table gives, its column names, is not leads (tables themselves are read: tests/tables).
    with pytest.raises(TypeError, match=r"lead 0 is a str \('email'\)"):
        call(mode, Person, "enrich", ["email", "name"], client=client)
    assert sent(sb) == []


@pytest.mark.amplemarket_sandbox(job_progression="immediate", job_error_rate=1.0)
def test_enrich_with_a_failing_job_returns_results_rather_than_raising(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    leads = mixed_leads(people[:40])
    results = call(mode, Person, "enrich", [*leads, {"name": "x"}], client=client)
    assert len(results) == 41 and results[-1].status == "invalid"
    for r, lead in zip(results[:-1], leads, strict=True):
        assert r.lead == lead
        if r.status == "failed":  # a lead the job never reached
            assert r.error and "fail" in r.error and r.person is None and r.id is None
        else:  # results the job produced before it failed are kept
            assert r.status in ("enriched", "gdpr_removed") and r.id is not None
    assert len(sent(sb, CREATE)) == 1


@pytest.mark.amplemarket_sandbox(job_progression="polls:2", email_credits=5.0)
def test_enrich_leads_a_job_never_reached_come_back_failed(
    sb: Sandbox, client: amplemarket.Client, mode: str, live: list[dict[str, Any]]
) -> None:
    # 0.5 credit per found person: ten results, then the job ends in `error` (insufficient_credits).
    leads = [{"linkedin_url": p["linkedin_url"]} for p in live[:30]]
    results = call(mode, Person, "enrich", leads, client=client)
    assert len(results) == 30
    statuses = [r.status for r in results]
    assert statuses == ["enriched"] * 10 + ["failed"] * 20
    for r, lead in zip(results[10:], leads[10:], strict=True):
        assert r.lead == lead and r.person is None and r.id is None
        assert r.error and "credits" in r.error
        assert r.to_dict()["status"] == "failed"


@pytest.mark.amplemarket_sandbox(job_progression="never")
def test_enrich_timeout_raises_job_timeout(
    sb: Sandbox, client: amplemarket.Client, mode: str, people: list[dict[str, Any]]
) -> None:
    with pytest.raises(JobTimeoutError) as caught:
        call(mode, Person, "enrich", mixed_leads(people[:5]), timeout=0.3, client=client)
    assert caught.value.job_id is not None and str(caught.value.job_id) in str(caught.value)
    amplemarket.EnrichmentJob.get(caught.value.job_id, client=client).cancel()


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_enrich_progress_true_prints_a_line_without_tqdm(
    sb: Sandbox,
    client: amplemarket.Client,
    people: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    results = Person.enrich(mixed_leads(people[:5]), progress=True, client=client)
    assert len(results) == 5
    err = capsys.readouterr().err
    assert "enrich: submitting 0/5 leads" in err and "enrich: done 5/5 leads" in err, err


@pytest.mark.amplemarket_sandbox(job_progression="immediate")
def test_enrich_progress_true_uses_tqdm_when_installed(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    results = Person.enrich(mixed_leads(people[:5]), progress=True, client=client)
    assert len(results) == 5
    err = capsys.readouterr().err
    # tqdm's own rendering (a rate in leads per second, a closing newline), never the plain line's
    assert "lead/s" in err and "enrich: done" in err, err
    assert "5/5 leads" not in err, "the plain-line fallback ran instead of tqdm"
    # one bar for the whole call: every phase redraws the same line, which ends once
    assert err.count("\n") == 1, err


@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_progress_shows_a_429_pause_as_a_phase(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    sb.script("POST /people/enrichment-requests", [{"status": 429, "retry_after": 1}])
    calls: list[tuple[str, int, int]] = []
    results = Person.enrich(mixed_leads(people[:4]), progress=lambda *a: calls.append(a), client=client)
    assert len(results) == 4 and all(r.status in ("enriched", "gdpr_removed") for r in results)
    assert ("retrying after 429 for 1 s", 0, 4) in calls, calls
    assert calls[-1] == ("done", 4, 4)


def test_no_tqdm_warning_in_a_notebook_without_ipywidgets() -> None:
    """Jupyter without ipywidgets: tqdm.auto would warn `IProgress not found`; the text bar is used, silently."""
    pytest.importorskip("tqdm")
    code = textwrap.dedent(
        """
        import sys, types, warnings
        warnings.simplefilter("error")
        kernel = types.ModuleType("ipykernel.zmqshell")
        ipython = types.ModuleType("IPython")
        class ZMQInteractiveShell:
            config = {"IPKernelApp": {}}
        ipython.get_ipython = ZMQInteractiveShell
        sys.modules.update({"ipykernel.zmqshell": kernel, "IPython": ipython, "ipywidgets": None})
        from amplemarket._progress import reporter
        show = reporter(True, "enrich")
        show("submitting", 0, 3)
        show("done", 3, 3)
        print(type(show).__name__, show.tqdm.__module__)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    name, module = done.stdout.split()
    assert name == "_TqdmReporter" and module in ("tqdm.std", "tqdm.asyncio"), done.stdout  # the text bar
    assert "Warning" not in done.stderr and "IProgress" not in done.stderr, done.stderr


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.amplemarket_sandbox(job_progression="polls:2")
def test_a_broken_progress_callable_does_not_sink_the_work(
    sb: Sandbox, client: amplemarket.Client, people: list[dict[str, Any]]
) -> None:
    def broken(stage: str, done: int, total: int) -> None:
        raise RuntimeError("progress display broke")

    results = Person.enrich(mixed_leads(people[:5]), progress=broken, client=client)
    assert len(results) == 5 and all(r.status in ("enriched", "gdpr_removed") for r in results)
