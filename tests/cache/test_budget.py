"""The credit budget against the sandbox's ledger: calls refused before sending when their worst case is over the
budget, spending tracked across calls, and — over 200 randomised runs — the ledger never past the budget."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import last_seq, sent

import amplemarket
from amplemarket import BudgetExceededError, Person
from amplemarket.testing import Sandbox


def emails(people: list[dict[str, Any]], n: int, start: int = 0) -> list[dict[str, str]]:
    return [{"email": p["email"]} for p in people[start:] if p.get("email")][:n]


def test_a_call_over_its_own_budget_sends_nothing(sb: Sandbox, client: amplemarket.Client, people: list[Any]) -> None:
    since, ledger = last_seq(sb), sb.credits
    leads = emails(people, 10)
    with pytest.raises(BudgetExceededError, match="could cost up to 15") as e:
        Person.enrich(leads, reveal_email=True, max_credits={"email": 14.5}, client=client)
    assert e.value.estimate == {"email": 15.0, "phone": 0.0}
    assert e.value.remaining["email"] == 14.5
    with pytest.raises(BudgetExceededError):
        Person.find_many(leads, reveal_phone_numbers=True, max_credits={"phone": 9}, client=client)
    with pytest.raises(BudgetExceededError):
        amplemarket.validate_emails([lead["email"] for lead in leads], max_credits=9, client=client)
    assert sent(sb, since=since) == [] and sb.credits == ledger


def test_the_client_budget_spans_calls(sb: Sandbox, people: list[Any]) -> None:
    with sb.client(rate_limit=False, max_credits={"email": 10}) as c:
        assert c.max_credits == {"email": 10.0, "phone": float("inf")}
        first = Person.enrich(emails(people, 8), client=c)  # worst 4, then what the answers can have cost
        spent = c.spent
        assert spent is not None and spent["email"] == 0.5 * sum(r.status == "enriched" for r in first)
        with pytest.raises(BudgetExceededError, match="remaining budget"):
            Person.enrich(emails(people, 20, start=50), reveal_email=True, client=c)
        assert c.spent == spent


def test_estimate_tells_the_cost_without_sending(sb: Sandbox, client: amplemarket.Client, people: list[Any]) -> None:
    since = last_seq(sb)
    leads = [*emails(people, 5), {"email": "not an email"}, emails(people, 1)[0]]
    e = amplemarket.estimate(leads, reveal_email=True, reveal_phone_numbers=True, client=client)
    assert (e.rows, e.invalid, e.distinct, e.cached, e.to_send) == (7, 1, 5, 0, 5)
    assert e.credits == {"email": 7.5, "phone": 5.0}
    assert e.to_dict()["credits"] == e.credits and "Estimate(rows=7" in repr(e)
    v = amplemarket.estimate(["a@b.example.com", "a@b.example.com", "x"], kind="email", client=client)
    assert (v.distinct, v.invalid, v.credits) == (1, 1, {"email": 1.0, "phone": 0.0})
    with pytest.raises(amplemarket.InvalidInputError, match="apply to people"):
        amplemarket.estimate(["techco.com"], kind="company", reveal_email=True, client=client)
    assert sent(sb, since=since) == []


def test_estimate_counts_what_the_cache_answers(sb: Sandbox, tmp_path: Any, people: list[Any]) -> None:
    with sb.client(rate_limit=False, cache=tmp_path / "c.sqlite3") as c:
        leads = emails(people, 6)
        Person.enrich(leads[:4], client=c)
        e = amplemarket.estimate(leads, client=c)
        assert (e.cached, e.to_send, e.credits["email"]) == (4, 2, 1.0)


@pytest.mark.amplemarket_sandbox(email_credits=3)
def test_running_out_of_credits_keeps_what_was_obtained(sb: Sandbox, tmp_path: Any, people: list[Any]) -> None:
    leads = emails(people, 10)
    with sb.client(rate_limit=False, cache=tmp_path / "c.sqlite3") as c:
        first = Person.enrich(leads, client=c)
        got = [r for r in first if r.status == "enriched"]
        assert got and any(r.status == "failed" for r in first)
        failed = next(r for r in first if r.status == "failed")
        assert "cache" in (failed.error or "")
        sb.configure(email_credits=100)
        since = last_seq(sb)
        again = Person.enrich(leads, client=c)
        assert all(r.status in ("enriched", "not_found") for r in again)
        assert sum(r.from_cache for r in again) >= len(got)
        import json

        resent = [
            lead for r in sent(sb, "POST /people/enrichment-requests", since) for lead in json.loads(r["body"])["leads"]
        ]
        assert len(resent) == len(leads) - sum(r.from_cache for r in again)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    budget=st.floats(min_value=0, max_value=12, allow_nan=False).map(lambda x: round(x * 2) / 2),
    phone_budget=st.integers(min_value=0, max_value=4),
    picks=st.lists(st.integers(min_value=0, max_value=39), min_size=1, max_size=12),
    reveal_email=st.booleans(),
    reveal_phone=st.booleans(),
    how=st.sampled_from(["enrich", "find_many", "find"]),
)
def test_the_ledger_never_exceeds_the_budget(
    budget_sandbox: tuple[Sandbox, list[Any]],
    budget: float,
    phone_budget: int,
    picks: list[int],
    reveal_email: bool,
    reveal_phone: bool,
    how: str,
) -> None:
    sb, pool = budget_sandbox
    sb.reset()
    before = sb.credits
    leads = [pool[i] for i in picks]
    with sb.client(rate_limit=False, max_credits={"email": budget, "phone": phone_budget}) as c:
        try:
            if how == "enrich":
                Person.enrich(leads, reveal_email=reveal_email, reveal_phone_numbers=reveal_phone, client=c)
            elif how == "find_many":
                Person.find_many(leads, reveal_email=reveal_email, reveal_phone_numbers=reveal_phone, client=c)
            else:
                for lead in leads:
                    Person.find(**lead, reveal_email=reveal_email, reveal_phone_numbers=reveal_phone, client=c)
        except BudgetExceededError:
            pass
    after = sb.credits
    assert before["email_credits"] - after["email_credits"] <= budget + 1e-9
    assert before["phone_credits"] - after["phone_credits"] <= phone_budget + 1e-9


@pytest.fixture(scope="module")
def budget_sandbox() -> Any:
    with Sandbox(people=200, rate_limit=None, search_rate_limit=None, poll_retry_after=0) as sb:
        pool = [{"email": p["email"]} for p in sb.people if p.get("email")][:40]
        yield sb, pool
