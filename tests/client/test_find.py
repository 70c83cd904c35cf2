"""``Person.find`` / ``Person.find_async``: every lookup mode, reveals, no match, GDPR, input validation before any
request, and reveals the server is still processing (408)."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qs

import pytest
from support import FIND, call, domain_of, public, sent

import amplemarket
from amplemarket import Person, PhoneNumber
from amplemarket.testing import Sandbox


def _query(entry: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(entry["query"] or "").items()}


@pytest.fixture
def named(people: list[dict[str, Any]], live: list[dict[str, Any]]) -> dict[str, Any]:
    """A live person whose name is unique within their company (by name and by domain)."""
    by_company = Counter((p["name"].lower(), (p.get("company") or {}).get("name", "").lower()) for p in people)
    for p in live:
        c = p.get("company")
        if c and p.get("email") and by_company[(p["name"].lower(), c["name"].lower())] == 1:
            return p
    raise AssertionError("no person with a unique name at their company")


# -- lookup modes ------------------------------------------------------------------------------------------------


def _lookups(p: dict[str, Any]) -> dict[str, dict[str, str]]:
    c = p["company"]
    return {
        "linkedin_url": {"linkedin_url": p["linkedin_url"]},
        "email": {"email": p["email"]},
        "name+company_name": {"name": p["name"], "company_name": c["name"]},
        "name+company_domain": {"name": p["name"], "company_domain": domain_of(c)},
        "name+title+company_name": {"name": p["name"], "title": p["title"], "company_name": c["name"]},
        "name+title+company_domain": {"name": p["name"], "title": p["title"], "company_domain": domain_of(c)},
    }


@pytest.mark.parametrize(
    "lookup",
    [
        "linkedin_url",
        "email",
        "name+company_name",
        "name+company_domain",
        "name+title+company_name",
        "name+title+company_domain",
    ],
)
def test_every_lookup_mode_finds_the_person(
    mode: str, lookup: str, sb: Sandbox, client: amplemarket.Client, named: dict[str, Any]
) -> None:
    query = _lookups(named)[lookup]
    person = call(mode, Person, "find", client=client, **query)
    assert isinstance(person, Person)
    assert person.id == named["id"]
    assert person.to_dict() == public(named)
    (entry,) = sent(sb, FIND)
    assert _query(entry) == query  # exactly the lookup, nothing else (no reveal flags when not asked)


def test_values_are_trimmed_before_sending(mode: str, sb: Sandbox, client: amplemarket.Client, named: dict) -> None:
    person = call(mode, Person, "find", linkedin_url=f"  {named['linkedin_url']} ", client=client)
    assert person is not None and person.id == named["id"]
    assert _query(sent(sb, FIND)[0]) == {"linkedin_url": named["linkedin_url"]}


def test_without_reveals_email_and_phones_are_absent(
    mode: str, client: amplemarket.Client, full_person: dict[str, Any]
) -> None:
    person = call(mode, Person, "find", linkedin_url=full_person["linkedin_url"], client=client)
    assert person.email is None
    assert person.phone_numbers is None
    assert "email" not in person.to_dict() and "phone_numbers" not in person.to_dict()


def test_reveal_email(mode: str, sb: Sandbox, client: amplemarket.Client, full_person: dict[str, Any]) -> None:
    person = call(mode, Person, "find", linkedin_url=full_person["linkedin_url"], reveal_email=True, client=client)
    assert person.email == full_person["email"]
    assert person.phone_numbers is None
    assert person.to_dict() == public(full_person, email=True)
    assert _query(sent(sb, FIND)[0])["reveal_email"] == "true"
    assert "reveal_phone_numbers" not in _query(sent(sb, FIND)[0])


def test_reveal_phone_numbers(mode: str, sb: Sandbox, client: amplemarket.Client, full_person: dict[str, Any]) -> None:
    person = call(
        mode, Person, "find", linkedin_url=full_person["linkedin_url"], reveal_phone_numbers=True, client=client
    )
    assert person.email is None
    phones = person.phone_numbers
    assert isinstance(phones, list) and phones
    assert all(isinstance(p, PhoneNumber) for p in phones)
    assert [p.to_dict() for p in phones] == full_person["phone_numbers"]
    assert [p.number for p in phones] == [p["number"] for p in full_person["phone_numbers"]]
    assert [p.type for p in phones] == [p["type"] for p in full_person["phone_numbers"]]
    assert _query(sent(sb, FIND)[0])["reveal_phone_numbers"] == "true"


def test_reveal_both(mode: str, client: amplemarket.Client, full_person: dict[str, Any]) -> None:
    person = call(
        mode,
        Person,
        "find",
        email=full_person["email"],
        reveal_email=True,
        reveal_phone_numbers=True,
        client=client,
    )
    assert person.to_dict() == public(full_person, email=True, phones=True)
    assert person.email == full_person["email"]
    assert len(person.phone_numbers) == len(full_person["phone_numbers"])


def test_revealing_a_person_without_phones_gives_an_empty_list(
    mode: str, client: amplemarket.Client, live: list[dict[str, Any]]
) -> None:
    target = next(p for p in live if p.get("phone_numbers") == [])
    person = call(mode, Person, "find", linkedin_url=target["linkedin_url"], reveal_phone_numbers=True, client=client)
    assert person.phone_numbers == []


def test_reveals_are_charged(mode: str, sb: Sandbox, client: amplemarket.Client, full_person: dict[str, Any]) -> None:
    before = sb.credits
    call(mode, Person, "find", email=full_person["email"], reveal_email=True, reveal_phone_numbers=True, client=client)
    after = sb.credits
    assert after["email_credits"] < before["email_credits"]
    assert after["phone_credits"] < before["phone_credits"]


# -- no match, GDPR ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"email": "nobody.at.all@no-such-company.example"},
        {"linkedin_url": "https://www.linkedin.com/in/no-such-person-000"},
        {"name": "Nobody Atall", "company_name": "No Such Company Inc"},
        {"name": "Nobody Atall", "company_domain": "no-such-company.example"},
    ],
    ids=["email", "linkedin_url", "name+company_name", "name+company_domain"],
)
def test_no_match_is_none(mode: str, sb: Sandbox, client: amplemarket.Client, query: dict[str, str]) -> None:
    assert call(mode, Person, "find", client=client, **query) is None
    (entry,) = sent(sb, FIND)  # a 404 is an answer, not a failure: not retried
    assert entry["status"] == 404


def test_gdpr_removed_person_raises(mode: str, sb: Sandbox, client: amplemarket.Client, people: list) -> None:
    removed = next(p for p in people if p.get("_gdpr_removed") and p.get("linkedin_url"))
    with pytest.raises(amplemarket.UnavailableForLegalReasonsError) as info:
        call(mode, Person, "find", linkedin_url=removed["linkedin_url"], reveal_email=True, client=client)
    e = info.value
    assert isinstance(e, amplemarket.APIStatusError)
    assert e.status_code == 451
    assert e.code == "unavailable_for_legal_reasons"
    assert e.request == "GET /people/find"
    assert len(sent(sb, FIND)) == 1


# -- input validation: nothing is sent ---------------------------------------------------------------------------

INVALID: dict[str, dict[str, Any]] = {
    "nothing": {},
    "only reveals": {"reveal_email": True, "reveal_phone_numbers": True},
    "name without company": {"name": "Jane Doe"},
    "name and title without company": {"name": "Jane Doe", "title": "CEO"},
    "company_name without name": {"company_name": "TechCo"},
    "company_domain without name": {"company_domain": "techco.com"},
    "title alone": {"title": "CEO"},
    "empty email": {"email": ""},
    "blank email": {"email": "   "},
    "empty linkedin_url": {"linkedin_url": ""},
    "empty name with company": {"name": "", "company_name": "TechCo"},
    "name with empty company": {"name": "Jane Doe", "company_name": ""},
    "empty string beside a valid email": {"email": "jane@techco.com", "title": ""},
    "email without @": {"email": "jane.techco.com"},
    "email without local part": {"email": "@techco.com"},
    "email without a dot in the domain": {"email": "jane@techco"},
    "email with a space": {"email": "jane doe@techco.com"},
    "non-LinkedIn URL": {"linkedin_url": "https://example.com/in/jane-doe"},
    "not a URL": {"linkedin_url": "jane-doe"},
}


@pytest.mark.parametrize("kwargs", list(INVALID.values()), ids=list(INVALID))
def test_invalid_lookups_raise_before_sending(
    mode: str, sb: Sandbox, client: amplemarket.Client, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(amplemarket.InvalidInputError) as info:
        call(mode, Person, "find", client=client, **kwargs)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, amplemarket.AmplemarketError)
    assert str(info.value)  # says what to give
    assert sb.requests == []


def test_invalid_lookup_message_names_the_accepted_combinations(client: amplemarket.Client) -> None:
    with pytest.raises(ValueError, match="linkedin_url") as info:
        Person.find(client=client)
    assert "email" in str(info.value) and "company_name" in str(info.value) and "company_domain" in str(info.value)
    with pytest.raises(ValueError, match="company"):
        Person.find(name="Jane Doe", client=client)


def test_find_async_rejects_bad_input_when_called(sb: Sandbox, client: amplemarket.Client) -> None:
    # Raised at the call, not only when awaited, so a bad call fails where it is made.
    with pytest.raises(amplemarket.InvalidInputError):
        Person.find_async(name="Jane Doe", client=client)
    assert sb.requests == []


# -- reveals still processing (408) ------------------------------------------------------------------------------


@pytest.mark.amplemarket_sandbox(reveal_timeout_rate=1.0, reveal_retry_after=0)
def test_reveal_408_is_waited_out_without_counting_as_a_retry(
    mode: str, sb: Sandbox, full_person: dict[str, Any]
) -> None:
    with sb.client(rate_limit=False, max_retries=0) as c:
        person = call(mode, Person, "find", linkedin_url=full_person["linkedin_url"], reveal_email=True, client=c)
    assert person.email == full_person["email"]
    assert [r["status"] for r in sent(sb, FIND)] == [408, 200]


def test_many_scripted_reveal_408s_do_not_use_up_retries(mode: str, sb: Sandbox, full_person: dict[str, Any]) -> None:
    sb.script(FIND, [{"status": 408, "retry_after": 0}] * 4 + [200])
    with sb.client(rate_limit=False, max_retries=1) as c:
        person = call(
            mode, Person, "find", linkedin_url=full_person["linkedin_url"], reveal_phone_numbers=True, client=c
        )
    assert len(person.phone_numbers) == len(full_person["phone_numbers"])
    assert [r["status"] for r in sent(sb, FIND)] == [408, 408, 408, 408, 200]


@pytest.mark.amplemarket_sandbox(reveal_timeout_rate=1.0, reveal_retry_after=1)
def test_reveal_still_processing_after_reveal_timeout_raises(
    mode: str, sb: Sandbox, full_person: dict[str, Any]
) -> None:
    with (
        sb.client(rate_limit=False, reveal_timeout=0.5) as c,
        pytest.raises(amplemarket.RequestTimeoutError) as info,
    ):
        call(mode, Person, "find", linkedin_url=full_person["linkedin_url"], reveal_email=True, client=c)
    e = info.value
    assert e.status_code == 408
    assert e.code == "request_timeout"
    assert e.retry_after == 1.0
    assert "reveal_timeout" in str(e)
    assert len(sent(sb, FIND)) == 1  # a wait past reveal_timeout is not started


def test_408_without_a_reveal_is_an_ordinary_retry(mode: str, sb: Sandbox, full_person: dict[str, Any]) -> None:
    sb.script(FIND, [{"status": 408, "retry_after": 0}])
    with sb.client(rate_limit=False, max_retries=0) as c, pytest.raises(amplemarket.RequestTimeoutError):
        call(mode, Person, "find", linkedin_url=full_person["linkedin_url"], client=c)
    assert len(sent(sb, FIND)) == 1
    sb.reset()
    sb.script(FIND, [{"status": 408, "retry_after": 0}])
    with sb.client(rate_limit=False, max_retries=1) as c:
        person = call(mode, Person, "find", linkedin_url=full_person["linkedin_url"], client=c)
    assert person.id == full_person["id"]
    assert [r["status"] for r in sent(sb, FIND)] == [408, 200]


def test_reveal_408_without_retry_after_backs_off_exponentially(sb: Sandbox, full_person: dict[str, Any]) -> None:
    body = {"object": "error", "_errors": [{"status": "408", "code": "request_timeout", "detail": "Processing."}]}
    sb.script(FIND, [{"status": 408, "body": body}] * 3 + [200])  # no Retry-After header
    with sb.client(rate_limit=False) as c:
        person = Person.find(linkedin_url=full_person["linkedin_url"], reveal_email=True, client=c)
    assert person.email == full_person["email"]
    times = [r["time"] for r in sent(sb, FIND)]
    gaps = [b - a for a, b in pairwise(times)]
    assert len(gaps) == 3
    # 0.5, 1, 2 s, each shortened by at most a quarter of jitter.
    assert gaps[1] >= 0.75 and gaps[2] >= 1.5, gaps
