"""Soak: `Person.enrich` and `Person.find_many` against a sandbox injecting every fault at once (10% 5xx, 2% dropped
connections, 1% truncated bodies, 429 bursts from a server limit below the client's pacing, 408s on reveals, latency
jitter). Each input gets exactly one result, for the right person by ground truth, none duplicated or lost; the
sandbox saw each distinct lead in exactly one job and charged each revealed email or phone once; the request log
proves every kind of fault happened; and the run ends. A stuck job (never completes) ends at its deadline with a
`JobTimeoutError` naming the job, which can still be fetched and cancelled.

Job creations meet the faults too. By default a creation that fails where it may have reached the server (a 500,
502 or 504, a dropped connection, a cut answer) is never sent again, since that could charge twice (the public API
documents no idempotency key): its leads come back `failed` with an error saying so, and the other jobs' leads still
get their results. The soak's client sets `trust_idempotency_key=True`, which the sandbox honours: such a creation is
sent again with its key and answered with the job it started, so every lead is enriched and nothing is charged twice.
`test_a_creation_cut_short_*` pins both behaviours down with scripted creations.

Sizes: `AMPLEMARKET_SOAK=full` runs 30,000 leads and 5,000 queries (the issue's figures); the default is a CI size.
`-s` shows a summary line per soak; `AMPLEMARKET_SOAK_REPORT=path.json` also writes the figures as JSON::

    AMPLEMARKET_SOAK=full AMPLEMARKET_SOAK_REPORT=soak.json pytest tests/reliability/test_soak.py -s
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from support import CREATE, FIND, POLL, call, domain_of, last_seq, same_person, sent

import amplemarket
from amplemarket import EnrichmentJob, EnrichmentResult, FindResult, JobTimeoutError, Person, RateLimits
from amplemarket.testing import Sandbox

FULL = os.environ.get("AMPLEMARKET_SOAK", "").lower() == "full"
# CI sizes keep this file near 2 minutes on a 2-core machine; 12,000 leads still make two jobs.
ENRICH_LEADS = 30_000 if FULL else 12_000
FIND_QUERIES = 5_000 if FULL else 1_200
JOB_SIZE = 10_000

# Every fault at once. Faults are drawn from the seed and the request's number, so a run meets the same faults at the
# same request numbers (except where a 429 answered first): with seed 29, the first 140 requests already hold 5 drops
# and 3 truncations, so even the enrichment soak (150+ requests at CI size) meets every kind.
FAULTS: dict[str, Any] = {
    "seed": 29,
    "fault_rate": 0.10,
    "fault_statuses": [500, 502, 503, 504],
    "drop_rate": 0.02,
    "truncate_rate": 0.01,
    "latency": 0.001,
    "latency_jitter": 0.01,
    "reveal_timeout_rate": 0.05,
    "reveal_retry_after": 0,
    "poll_retry_after": 0,
    "search_rate_limit": None,
    "email_credits": 10_000_000.0,
    "phone_credits": 10_000_000.0,
    "capture_limit": 5_000_000,
}
# Server limits below what the client paces to, so bursts meet 429 + Retry-After (and the client's shared pause).
ENRICH_LIMITS: tuple[dict[str, Any], RateLimits] = (
    {"rate_limit": 4, "rate_limit_window": 0.2},
    RateLimits(requests=40, search=None, per=1.0),
)
# find_many: the server's burst (40) is below the client's concurrency (64), so a fan-out meets 429s; the client's own
# burst (29) stays below it, so the shared pause after a 429 does not end in the same burst again.
FIND_LIMITS: tuple[dict[str, Any], RateLimits] = (
    {"rate_limit": 40, "rate_limit_window": 0.2},
    RateLimits(requests=30, search=None, per=0.1),
)
MAX_RETRIES = 20
FIND_CONCURRENCY = 64

NOWHERE = "nowhere.example"
INVALID_LEADS: list[Any] = [{"name": "Nobody Atall"}, {"email": 7}, {"email": "not a lead"}]

REPORT: dict[str, Any] = {}


def record(name: str, figures: dict[str, Any]) -> None:
    """Prints one summary line (visible with -s) and rewrites the JSON report when one is asked for."""
    REPORT[name] = figures
    print(f"\nsoak {name}: " + " ".join(f"{k}={v}" for k, v in figures.items()))
    path = os.environ.get("AMPLEMARKET_SOAK_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"size": "full" if FULL else "ci", **REPORT}, f, indent=1)


# -- inputs with their expected outcome ---------------------------------------------------------------------------


@dataclass
class Expect:
    """What one input should get: the person it names (index into the truth), nobody, or an invalid lead."""

    person: int | None = None
    invalid: bool = False
    first: int | None = None  # input position of the first copy of this lead


@dataclass
class Inputs:
    items: list[Any]
    expect: list[Expect]

    def distinct(self) -> list[int]:
        """Positions of the first copy of each valid input."""
        return [i for i, e in enumerate(self.expect) if not e.invalid and e.first is None]


def unique_keys(truth: Sequence[dict[str, Any]]) -> tuple[set[str], set[tuple[str, str, str]]]:
    """Emails and (name, title, domain) triples naming exactly one person, so a lead built from them is unambiguous."""
    emails = Counter(str(p["email"]).lower() for p in truth if p.get("email"))
    names = Counter(name_key(p) for p in truth if p.get("company"))
    return {e for e, n in emails.items() if n == 1}, {k for k, n in names.items() if n == 1}


def name_key(p: dict[str, Any]) -> tuple[str, str, str]:
    return (str(p["name"]).lower(), str(p["title"]).lower(), domain_of(p["company"]).lower())


def lead_for(i: int, p: dict[str, Any], emails: set[str], names: set[tuple[str, str, str]]) -> dict[str, str]:
    """A lead naming person ``p``: by email, LinkedIn URL or name + title + domain in turn (when unambiguous)."""
    if i % 3 == 0 and p.get("email") and str(p["email"]).lower() in emails:
        return {"email": p["email"]}
    if i % 3 == 2 and p.get("company") and name_key(p) in names:
        return {"name": p["name"], "title": p["title"], "company_domain": domain_of(p["company"])}
    return {"linkedin_url": p["linkedin_url"]}


def build_inputs(truth: Sequence[dict[str, Any]], n: int, seed: int, invalid: Sequence[Any] = ()) -> Inputs:
    """``n`` inputs: one per person (about 1% of them GDPR-removed in the data set), 1% naming nobody, 2% copies of
    earlier inputs, and ``invalid`` ones, shuffled in place."""
    rng = random.Random(seed)
    emails, names = unique_keys(truth)
    copies = n // 50
    missing = n // 100
    people = n - copies - missing - len(invalid)
    assert people <= len(truth)
    items: list[Any] = [lead_for(i, truth[i], emails, names) for i in range(people)]
    expect = [Expect(person=i) for i in range(people)]
    for k in range(missing):
        items.append({"email": f"nobody.{k}@{NOWHERE}"} if k % 2 else {"linkedin_url": f"linkedin.com/in/nobody-{k}"})
        expect.append(Expect())
    for lead in invalid:
        items.append(lead)
        expect.append(Expect(invalid=True))
    order = list(range(len(items)))
    rng.shuffle(order)
    items, expect = [items[i] for i in order], [expect[i] for i in order]
    valid = [i for i, e in enumerate(expect) if not e.invalid]
    for _ in range(copies):
        src = rng.choice(valid)
        at = rng.randrange(src + 1, len(items) + 1)  # after its original, so the original is the first copy
        items.insert(at, dict(items[src]))
        expect.insert(at, Expect(person=expect[src].person))
        valid = [i for i, e in enumerate(expect) if not e.invalid]
    seen: dict[str, int] = {}
    for pos, (item, e) in enumerate(zip(items, expect, strict=True)):
        if not e.invalid:
            e.first = seen.setdefault(signature(item), pos)
            if e.first == pos:
                e.first = None
    assert len(items) == n
    return Inputs(items, expect)


def signature(lead: Any) -> str:
    return json.dumps(lead, sort_keys=True)


# -- what the sandbox saw -------------------------------------------------------------------------------------------


def fault_counts(log: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Injected faults by kind, from the request log."""
    return {
        "5xx": sum(1 for r in log if r["injected"] == "fault" and (r["status"] or 0) >= 500),
        "dropped": sum(1 for r in log if r["outcome"] == "dropped"),
        "truncated": sum(1 for r in log if r["outcome"] == "truncated"),
        "429": sum(1 for r in log if r["status"] == 429),
        "408": sum(1 for r in log if r["status"] == 408),
    }


def charged(sb: Sandbox, via: str) -> dict[str, set[str]]:
    """Person ids charged per kind (found, email, phone); fails if anything was charged twice."""
    charges = [c for c in sb.credits["charges"] if c["via"] == via]
    twice = [k for k, n in Counter((c["person_id"], c["kind"]) for c in charges).items() if n > 1]
    assert not twice, f"charged more than once: {twice[:5]}"
    out: dict[str, set[str]] = {"found": set(), "email": set(), "phone": set()}
    for c in charges:
        out[c["kind"]].add(c["person_id"])
    return out


def expected_charges(people: Sequence[dict[str, Any]]) -> dict[str, set[str]]:
    """What revealing email and phones of these (found, not removed) people costs: each thing once per person."""
    return {
        "found": {p["id"] for p in people},
        "email": {p["id"] for p in people if p.get("email")},
        "phone": {p["id"] for p in people if p.get("phone_numbers")},
    }


def calm(sb: Sandbox) -> None:
    """Turns every fault and limit off, so checks made through the API afterwards see the plain truth."""
    sb.configure(fault_rate=0.0, drop_rate=0.0, truncate_rate=0.0, latency=0.0, latency_jitter=0.0, rate_limit=None)


# -- the enrichment soak --------------------------------------------------------------------------------------------


@dataclass
class Run:
    sb: Sandbox
    truth: list[dict[str, Any]]
    inputs: Inputs
    results: list[Any]
    log: list[dict[str, Any]]
    wall: float
    figures: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def enrich_run() -> Iterator[Run]:
    limits, paced = ENRICH_LIMITS
    with Sandbox(people=ENRICH_LEADS, job_progression="polls:3", **FAULTS, **limits) as sb:
        truth = list(sb.people[:])
        inputs = build_inputs(truth, ENRICH_LEADS, seed=11, invalid=INVALID_LEADS)
        with sb.client(rate_limit=paced, max_retries=MAX_RETRIES, trust_idempotency_key=True) as client:
            started = time.monotonic()
            results = Person.enrich(inputs.items, reveal_email=True, reveal_phone_numbers=True, client=client)
            wall = time.monotonic() - started
        log = sb.requests
        calm(sb)
        yield Run(sb, truth, inputs, results, log, wall)


def creations(run: Run) -> dict[str, tuple[set[str], bool]]:
    """Per Idempotency-Key: the leads it carried, and whether the client received the job it created."""
    out: dict[str, tuple[set[str], bool]] = {}
    for r in run.log:
        if r["route"] == CREATE:
            leads = {signature(lead) for lead in json.loads(r["body"])["leads"]}
            made = r["status"] == 202 and r["outcome"] == "completed"
            key = r["headers"]["idempotency-key"]
            out[key] = (leads, made or out.get(key, (set(), False))[1])
    return out


def cut_short(run: Run) -> set[str]:
    """The leads of creations that failed where they may have reached the server (so were not sent again)."""
    return {lead for leads, made in creations(run).values() if not made for lead in leads}


def test_enrich_soak_gives_each_lead_exactly_one_result_for_the_right_person(enrich_run: Run) -> None:
    run = enrich_run
    results, expect = run.results, run.inputs.expect
    assert len(results) == len(run.inputs.items) == ENRICH_LEADS, "none lost, none added"
    unsent = cut_short(run)
    assert not unsent, "with a trusted key every creation cut short was sent again until it got its job"
    statuses: Counter[str] = Counter()
    for pos, (r, lead, e) in enumerate(zip(results, run.inputs.items, expect, strict=True)):
        assert isinstance(r, EnrichmentResult)
        statuses[str(r.status)] += 1
        if e.invalid:
            assert r.status == "invalid" and r.id is None and r.error, (pos, lead, r)
            continue
        if signature(lead) in unsent:
            assert (r.status, r.id, r.person) == ("failed", None, None), (pos, lead, r)
            assert r.error and "may have been created" in r.error and "not sent again" in r.error, r.error
            continue
        assert r.lead == lead and r.error is None, (pos, lead, r)
        if e.first is not None:
            assert r.id == results[e.first].id and r == results[e.first], "copies share one result"
            continue
        if e.person is None:
            assert (r.status, r.person) == ("not_found", None), (pos, lead, r)
            continue
        truth = run.truth[e.person]
        if truth.get("_gdpr_removed"):
            assert (r.status, r.person) == ("gdpr_removed", None), (pos, lead, r)
            continue
        assert r.status == "enriched" and same_person(r.person, truth), (pos, lead, r)
        assert r.person is not None and r.person.email == truth.get("email")
        numbers = [n.number for n in r.person.phone_numbers or []]
        assert numbers == [n["number"] for n in truth.get("phone_numbers") or []]
    firsts = [results[i].id for i in run.inputs.distinct() if signature(run.inputs.items[i]) not in unsent]
    assert None not in firsts and len(set(firsts)) == len(firsts), "each distinct lead has its own result"
    assert statuses["enriched"] and statuses["not_found"] and statuses["gdpr_removed"], statuses
    run.figures["statuses"] = dict(statuses)


def test_enrich_soak_submits_each_distinct_lead_in_exactly_one_job(enrich_run: Run) -> None:
    run = enrich_run
    by_key: dict[str, set[str]] = {}
    for r in run.log:
        if r["route"] == CREATE:
            key = r["headers"].get("idempotency-key")
            assert key, "every creation carries an Idempotency-Key"
            by_key.setdefault(key, set()).add(r["body"])
    assert all(len(bodies) == 1 for bodies in by_key.values()), "a key is only ever sent again with its own leads"
    sent = [signature(lead) for (body,) in by_key.values() for lead in json.loads(body)["leads"]]
    distinct = {signature(run.inputs.items[i]) for i in run.inputs.distinct()}
    assert len(sent) == len(set(sent)) == len(distinct), "no lead sent twice, none left out"
    assert set(sent) == distinct, "invalid leads are never sent"
    jobs = math.ceil(len(distinct) / JOB_SIZE)
    assert len(by_key) == jobs
    made = sum(1 for _, received in creations(run).values() if received)
    run.figures["creations_sent_again"] = sum(1 for r in run.log if r["route"] == CREATE) - len(by_key)
    polled = {int(r["path"].rsplit("/", 1)[1]) for r in run.log if r["route"] == POLL}
    assert len(polled) == made, f"one job per creation received, polled: {sorted(polled)}"
    with run.sb.client(rate_limit=False) as plain, pytest.raises(amplemarket.NotFoundError):
        EnrichmentJob.get(max(polled) + 1, client=plain)
    run.figures["jobs"] = jobs


def test_enrich_soak_charges_each_reveal_once_and_nobody_else(enrich_run: Run) -> None:
    run = enrich_run
    unsent = cut_short(run)
    found = [
        run.truth[e.person]
        for e, lead in zip(run.inputs.expect, run.inputs.items, strict=True)
        if e.person is not None and e.first is None and signature(lead) not in unsent
    ]
    live = [p for p in found if not p.get("_gdpr_removed")]
    assert charged(run.sb, "enrichment") == expected_charges(live)
    assert not [c for c in run.sb.credits["charges"] if c["via"] != "enrichment"]


def test_enrich_soak_met_every_kind_of_fault_and_ended(enrich_run: Run) -> None:
    run = enrich_run
    faults = fault_counts(run.log)
    record(
        "enrich",
        {"leads": ENRICH_LEADS, "distinct": len(run.inputs.distinct()), "requests": len(run.log), **faults,
         **run.figures, "wall_s": round(run.wall, 1)},
    )  # fmt: skip
    assert all(faults[k] > 0 for k in ("5xx", "dropped", "truncated", "429")), faults


# -- the find_many soak ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def find_run() -> Iterator[Run]:
    limits, paced = FIND_LIMITS
    with Sandbox(people=FIND_QUERIES, **FAULTS, **limits) as sb:
        truth = list(sb.people[:])
        inputs = build_inputs(truth, FIND_QUERIES, seed=13)
        with sb.client(rate_limit=paced, max_retries=MAX_RETRIES) as client:
            started = time.monotonic()
            results = Person.find_many(
                inputs.items,
                reveal_email=True,
                reveal_phone_numbers=True,
                concurrency=FIND_CONCURRENCY,
                client=client,
            )
            wall = time.monotonic() - started
        log = sb.requests
        calm(sb)
        yield Run(sb, truth, inputs, results, log, wall)


def test_find_many_soak_gives_each_query_exactly_one_result_for_the_right_person(find_run: Run) -> None:
    run = find_run
    assert len(run.results) == len(run.inputs.items) == FIND_QUERIES
    outcomes: Counter[str] = Counter()
    for pos, (r, query, e) in enumerate(zip(run.results, run.inputs.items, run.inputs.expect, strict=True)):
        assert isinstance(r, FindResult) and r.query is query
        if e.person is None:
            assert (r.ok, r.person, r.error) == (True, None, None), (pos, query, r.error)
            outcomes["nobody"] += 1
            continue
        truth = run.truth[e.person]
        if truth.get("_gdpr_removed"):
            assert isinstance(r.error, amplemarket.UnavailableForLegalReasonsError), (pos, query, r.error)
            outcomes["gdpr_removed"] += 1
            continue
        assert r.ok and r.error is None, (pos, query, r.error)
        assert same_person(r.person, truth), (pos, query, r.person)
        assert r.person is not None and r.person.email == truth.get("email")
        numbers = [n.number for n in r.person.phone_numbers or []]
        assert numbers == [n["number"] for n in truth.get("phone_numbers") or []]
        outcomes["found"] += 1
    assert outcomes["found"] and outcomes["nobody"] and outcomes["gdpr_removed"], outcomes
    run.figures["outcomes"] = dict(outcomes)


def test_find_many_soak_charges_each_reveal_once_and_nobody_else(find_run: Run) -> None:
    run = find_run
    found = {e.person for e in run.inputs.expect if e.person is not None}
    live = [run.truth[i] for i in sorted(found) if not run.truth[i].get("_gdpr_removed")]
    assert charged(run.sb, "find") == expected_charges(live)
    delayed = {r["query"] for r in run.log if r["route"] == FIND and r["status"] == 408}
    assert delayed, "some reveals answered 408 first"


def test_find_many_soak_met_every_kind_of_fault_and_ended(find_run: Run) -> None:
    run = find_run
    faults = fault_counts(run.log)
    sends = sum(1 for r in run.log if r["route"] == FIND)
    record(
        "find_many",
        {"queries": FIND_QUERIES, "requests": sends, **faults, **run.figures, "wall_s": round(run.wall, 1)},
    )
    assert all(v > 0 for v in faults.values()), faults
    assert sends > FIND_QUERIES, "faults made the client send some queries again"


# -- creations cut short --------------------------------------------------------------------------------------------

# A creation that fails after it may have reached the server: sending it again could start (and charge) a second job.
CUT_SHORT: dict[str, dict[str, Any]] = {
    "500": {"status": 500},
    "502": {"status": 502},
    "504": {"status": 504},
    "dropped": {"fault": "drop"},
    "truncated-after-create": {"status": 200, "fault": "truncate"},
}
TWO_JOBS = JOB_SIZE + 1  # the fewest leads that make two enrichment requests


@pytest.fixture(scope="module")
def two_jobs() -> Iterator[tuple[Sandbox, list[dict[str, str]]]]:
    with Sandbox(people=TWO_JOBS, job_progression="immediate", rate_limit=None, poll_retry_after=0) as sb:
        yield sb, [{"linkedin_url": p["linkedin_url"]} for p in sb.people[:]]


@pytest.mark.parametrize("failure", list(CUT_SHORT))
@pytest.mark.parametrize("which", [0, 1], ids=["first-job", "second-job"])
def test_a_creation_cut_short_fails_only_its_leads_and_is_not_sent_again(
    two_jobs: tuple[Sandbox, list[dict[str, str]]], failure: str, which: int
) -> None:
    sb, leads = two_jobs
    sb.reset()
    sb.script(CREATE, [CUT_SHORT[failure] if n == which else 200 for n in range(2)])
    with sb.client(rate_limit=False, max_retries=3) as client:
        results = Person.enrich(leads, client=client)
    assert len(results) == len(leads)
    creates = sent(sb, CREATE)
    assert len(creates) == 2 and len({r["headers"]["idempotency-key"] for r in creates}) == 2, "nothing sent twice"
    cut = slice(0, JOB_SIZE) if which == 0 else slice(JOB_SIZE, None)
    kept = slice(JOB_SIZE, None) if which == 0 else slice(0, JOB_SIZE)
    for r in results[cut]:
        assert (r.status, r.person) == ("failed", None)
        assert r.error and "may have been created" in r.error and "trust_idempotency_key" in r.error, r.error
    assert {r.status for r in results[kept]} <= {"enriched", "gdpr_removed"}, "the other job's leads are enriched"


@pytest.mark.parametrize("failure", list(CUT_SHORT))
def test_a_creation_cut_short_is_sent_again_with_its_key_when_the_key_is_trusted(
    two_jobs: tuple[Sandbox, list[dict[str, str]]], failure: str, mode: str
) -> None:
    sb, leads = two_jobs
    sb.reset()
    sb.script(CREATE, [CUT_SHORT[failure]])
    with sb.client(rate_limit=False, max_retries=3, trust_idempotency_key=True) as client:
        results = call(mode, Person, "enrich", leads, client=client)
    creates = sent(sb, CREATE)
    keys = [r["headers"]["idempotency-key"] for r in creates]
    assert len(creates) == 3 and keys[0] == keys[1] != keys[2], "the cut creation, sent again with its own key"
    jobs = {int(r["path"].rsplit("/", 1)[1]) for r in sb.requests if r["route"] == POLL}
    assert len(jobs) == 2, f"one job per key: {sorted(jobs)}"
    assert len(results) == len(leads) and {r.status for r in results} <= {"enriched", "gdpr_removed"}
    counts = Counter((c["person_id"], c["kind"]) for c in sb.credits["charges"])
    assert counts and max(counts.values()) == 1, "nobody charged twice"


@pytest.mark.parametrize(
    "steps, error",
    [
        ([{"status": 502}, {"status": 502}], amplemarket.InternalServerError),
        ([{"fault": "drop"}, {"status": 500}], amplemarket.APIConnectionError),
        ([401], amplemarket.AuthenticationError),
        ([402], amplemarket.InsufficientCreditsError),
    ],
    ids=["every-creation-5xx", "dropped-then-500", "refused-401", "refused-402"],
)
def test_when_no_job_starts_enrich_raises_the_first_error(
    two_jobs: tuple[Sandbox, list[dict[str, str]]], steps: list[Any], error: type[Exception], mode: str
) -> None:
    sb, leads = two_jobs
    sb.reset()
    sb.script(CREATE, steps)
    with sb.client(rate_limit=False, max_retries=3) as client, pytest.raises(error) as caught:
        call(mode, Person, "enrich", leads, client=client)
    creates = sent(sb, CREATE)
    refused = error in (amplemarket.AuthenticationError, amplemarket.InsufficientCreditsError)
    assert len(creates) == (1 if refused else 2), "a refusal stops the next chunks; a failure does not"
    if not refused:
        assert "may have been created" in str(caught.value)


# -- a stuck job ----------------------------------------------------------------------------------------------------

DEADLINE = 1.0


@pytest.fixture(scope="module")
def stuck() -> Iterator[tuple[Sandbox, list[dict[str, str]]]]:
    """A sandbox whose jobs never complete, with the soak's faults on."""
    limits, _ = ENRICH_LIMITS
    with Sandbox(people=300, job_progression="never", **FAULTS, **limits) as sb:
        yield sb, [{"linkedin_url": p["linkedin_url"]} for p in sb.people[:200]]


def job_ids(sb: Sandbox, since: int) -> set[int]:
    return {int(r["path"].rsplit("/", 1)[1]) for r in sb.requests_since(since) if r["route"] == POLL}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("how", ["enrich", "wait"])
def test_a_stuck_job_ends_at_its_deadline_with_an_error_naming_it(
    stuck: tuple[Sandbox, list[dict[str, str]]], how: str, mode: str
) -> None:
    sb, leads = stuck
    since = last_seq(sb)
    sb.script(CREATE, [200])  # the creation is not what this test is about: keep it out of the random faults
    with sb.client(rate_limit=ENRICH_LIMITS[1], max_retries=MAX_RETRIES) as client:
        started = time.monotonic()
        with pytest.raises(JobTimeoutError) as caught:
            if how == "enrich":
                call(mode, Person, "enrich", leads, timeout=DEADLINE, client=client)
            else:
                job = call(mode, EnrichmentJob, "create", leads, client=client)
                call(mode, job, "wait", timeout=DEADLINE)
        wall = time.monotonic() - started
        err = caught.value
        assert type(err) is JobTimeoutError and isinstance(err, TimeoutError)
        (job_id,) = job_ids(sb, since)
        assert err.job_id == job_id and err.status in ("queued", "processing")
        assert err.waited > DEADLINE / 2, "it waited for the deadline rather than giving up at once"
        message = str(err)
        assert f"enrichment job {job_id}" in message
        assert f"EnrichmentJob.get({job_id})" in message and "wait()" in message and "cancel()" in message

        job = call(mode, EnrichmentJob, "get", job_id, client=client)
        assert (job.id, job.status, job.done) == (job_id, "processing", False), "the job is still there"
        canceled = call(mode, job, "cancel")
        assert (canceled.id, canceled.status, canceled.done) == (job_id, "canceled", True)
        assert EnrichmentJob.get(job_id, client=client).status == "canceled"
    record(f"stuck-{how}-{mode}", {"job": job_id, "deadline_s": DEADLINE, "waited_s": round(err.waited, 2),
                                   "wall_s": round(wall, 1)})  # fmt: skip
