"""``Person``, ``Company``, ``PhoneNumber``: typed getters equal the data, ``to_dict()`` is exactly the server's JSON,
unknown fields and enum values survive, wrong-typed fields read as ``None``, JSON round trips, equality and hashing,
``repr`` and ``_repr_html_``, and pickling (of results and of exceptions)."""

from __future__ import annotations

import json
import pickle
from typing import Any

import httpx
import pytest
from support import COMPANY_FIELDS, FIND, PERSON_FIELDS, PHONE_FIELDS, call, domain_of, public

import amplemarket
from amplemarket import Company, Person, PhoneNumber
from amplemarket.testing import Sandbox


@pytest.fixture
def revealed(client: amplemarket.Client, full_person: dict[str, Any]) -> Person:
    p = Person.find(
        linkedin_url=full_person["linkedin_url"], reveal_email=True, reveal_phone_numbers=True, client=client
    )
    assert p is not None
    return p


@pytest.fixture
def own(request: pytest.FixtureRequest) -> Any:
    """A small sandbox of this test's own, for tests that add people (added data outlives ``reset()``)."""
    with Sandbox(seed=3, people=30, rate_limit=None, search_rate_limit=None) as s:
        yield s


# -- typed getters -------------------------------------------------------------------------------------------------


def test_every_person_getter_equals_the_data(mode: str, client: amplemarket.Client, full_person: dict) -> None:
    p = call(
        mode,
        Person,
        "find",
        linkedin_url=full_person["linkedin_url"],
        reveal_email=True,
        reveal_phone_numbers=True,
        client=client,
    )
    assert set(PERSON_FIELDS) | {"company", "phone_numbers"} == set(full_person)  # every field is covered
    for field in PERSON_FIELDS:
        assert getattr(p, field) == full_person[field], field
    assert isinstance(p.company, Company)
    for field in COMPANY_FIELDS:
        assert getattr(p.company, field) == full_person["company"][field], field
    assert p.company.to_dict() == full_person["company"]
    assert len(p.phone_numbers) == len(full_person["phone_numbers"])
    for phone, truth in zip(p.phone_numbers, full_person["phone_numbers"], strict=True):
        assert isinstance(phone, PhoneNumber)
        for field in PHONE_FIELDS:
            assert getattr(phone, field) == truth[field], field
        assert phone.to_dict() == truth


def test_getter_types(revealed: Person) -> None:
    assert isinstance(revealed.location_details, dict)
    assert isinstance(revealed.experiences, list) and isinstance(revealed.experiences[0], dict)
    assert isinstance(revealed.educations, list) and isinstance(revealed.languages, list)
    c = revealed.company
    assert isinstance(c.founded_year, int) and isinstance(c.sic_codes, list) and isinstance(c.is_b2b, bool)
    assert isinstance(c.locations, list) and isinstance(c.department_headcount, dict)


def test_every_company_getter_equals_the_data(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    truth = sb.companies[11]
    assert set(COMPANY_FIELDS) == set(truth)
    c = call(mode, Company, "find", domain=domain_of(truth), client=client)
    for field in COMPANY_FIELDS:
        assert getattr(c, field) == truth[field], field


def test_getters_return_fresh_objects(revealed: Person) -> None:
    details = revealed.location_details
    details["city"] = "Changed"
    assert revealed.location_details != details
    d = revealed.to_dict()
    d["name"] = "Changed"
    assert revealed.to_dict()["name"] != "Changed"


def test_person_without_company(client: amplemarket.Client, live: list[dict[str, Any]]) -> None:
    truth = next(p for p in live if p.get("company") is None)
    p = Person.find(linkedin_url=truth["linkedin_url"], client=client)
    assert p.company is None
    assert p.to_dict() == public(truth)


def test_sparse_person_reads_none(client: amplemarket.Client, live: list[dict[str, Any]]) -> None:
    truth = next(p for p in live if p.get("headline") is None)
    p = Person.find(linkedin_url=truth["linkedin_url"], client=client)
    assert p.headline is None and p.experiences is None and p.location_details is None


# -- to_dict is the server's JSON ----------------------------------------------------------------------------------


def test_to_dict_is_exactly_what_the_server_sent(
    mode: str, client: amplemarket.Client, api: httpx.Client, full_person: dict
) -> None:
    params = {"linkedin_url": full_person["linkedin_url"], "reveal_email": "true", "reveal_phone_numbers": "true"}
    raw = api.get("/people/find", params=params).json()
    p = call(
        mode,
        Person,
        "find",
        linkedin_url=full_person["linkedin_url"],
        reveal_email=True,
        reveal_phone_numbers=True,
        client=client,
    )
    assert p.to_dict() == raw
    assert json.loads(p.to_json()) == raw
    assert p.company.to_dict() == raw["company"]
    assert [ph.to_dict() for ph in p.phone_numbers] == raw["phone_numbers"]


def test_company_to_dict_is_exactly_what_the_server_sent(
    mode: str, sb: Sandbox, client: amplemarket.Client, api: httpx.Client
) -> None:
    truth = sb.companies[2]
    raw = api.get("/companies/find", params={"linkedin_url": truth["linkedin_url"]}).json()
    c = call(mode, Company, "find", linkedin_url=truth["linkedin_url"], client=client)
    assert c.to_dict() == raw == truth
    assert json.loads(c.to_json()) == raw


def test_unknown_fields_and_values_are_kept(mode: str, own: Sandbox) -> None:
    added = own.add_person(
        {
            "name": "Ann Example",
            "email": "ann@unknown-fields.example",
            "gender": "nonbinary",
            "x_custom": {"tier": "gold", "scores": [1, 2.5, None]},
            "phone_numbers": [{"object": "phone_number", "number": "+1 555 0100", "type": "satellite"}],
        }
    )
    with own.client(rate_limit=False) as c:
        p = call(mode, Person, "find", email="ann@unknown-fields.example", reveal_phone_numbers=True, client=c)
    assert p.id == added["id"]
    assert p.gender == "nonbinary"
    assert p.to_dict()["x_custom"] == {"tier": "gold", "scores": [1, 2.5, None]}
    (phone,) = p.phone_numbers
    assert phone.type == "satellite" and phone.number == "+1 555 0100"
    again = pickle.loads(pickle.dumps(p))
    assert again.to_dict()["x_custom"] == p.to_dict()["x_custom"]
    assert Person.from_json(p.to_json()).to_dict() == p.to_dict()


WEIRD: dict[str, Any] = {
    "id": "p-weird",
    "object": "person",
    "name": "Wendy Weird",
    "title": 42,
    "gender": ["female"],
    "about": {"text": "x"},
    "email": False,
    "x_new_field": {"nested": [1, {"a": None}]},
    "phone_numbers": [
        {"object": "phone_number", "number": "+1 5", "type": "satellite", "x_carrier": "Iridium"},
        {"object": "phone_number", "number": 5, "type": None},
    ],
    "company": {
        "id": "c-weird",
        "name": "Weird Co",
        "founded_year": "1999",
        "sic_codes": [1, "x"],
        "is_b2b": "yes",
        "revenue": 1.5,
        "keywords": "not a list",
        "type": 7,
        "x_future": True,
    },
}


def test_wrong_typed_scalar_fields_read_as_none(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    sb.script(FIND, [{"status": 200, "body": WEIRD}])
    p = call(mode, Person, "find", email="wendy@weird.example", client=client)
    assert p.to_dict() == WEIRD  # nothing lost
    assert (p.name, p.title, p.gender, p.about, p.email) == ("Wendy Weird", None, None, None, None)
    first, second = p.phone_numbers
    assert (first.number, first.type, first.to_dict()["x_carrier"]) == ("+1 5", "satellite", "Iridium")
    assert (second.number, second.type) == (None, None)
    c = p.company
    assert c.name == "Weird Co"
    assert (c.founded_year, c.sic_codes, c.is_b2b, c.revenue, c.keywords, c.type) == (None,) * 6
    assert c.to_dict()["x_future"] is True
    assert "Wendy Weird" in repr(p) and "Weird Co" in p._repr_html_()


WRONG_CONTAINERS: dict[str, Any] = {
    "id": "p-wrong",
    "object": "person",
    "name": "Carl Containers",
    "location_details": "Lisbon, Portugal",
    "experiences": {"title": "CEO"},
    "educations": "MIT",
    "languages": 3,
    "company": {"id": "c", "name": "Co", "location_details": ["x"], "locations": {"a": 1}, "department_headcount": [1]},
}


def test_wrong_typed_dict_and_list_fields_read_as_none(sb: Sandbox, client: amplemarket.Client) -> None:
    sb.script(FIND, [{"status": 200, "body": WRONG_CONTAINERS}])
    p = Person.find(email="carl@wrong.example", client=client)
    assert p.to_dict() == WRONG_CONTAINERS
    assert (p.location_details, p.experiences, p.educations, p.languages) == (None, None, None, None)
    c = p.company
    assert (c.location_details, c.locations, c.department_headcount) == (None, None, None)


def test_a_company_that_is_not_an_object_reads_as_none(sb: Sandbox, client: amplemarket.Client) -> None:
    body = {"id": "p", "object": "person", "name": "No Co", "company": "Acme", "phone_numbers": "none"}
    sb.script(FIND, [{"status": 200, "body": body}])
    p = Person.find(email="noco@x.example", client=client)
    assert p.company is None
    assert p.to_dict() == body


# -- JSON, equality, hashing -------------------------------------------------------------------------------------


def test_json_round_trip(revealed: Person) -> None:
    again = Person.from_json(revealed.to_json())
    assert again == revealed
    assert again.to_dict() == revealed.to_dict()
    assert again.company == revealed.company
    c = Company.from_json(revealed.company.to_json())
    assert c == revealed.company and c.name == revealed.company.name
    ph = PhoneNumber.from_json(revealed.phone_numbers[0].to_json())
    assert ph == revealed.phone_numbers[0] and ph.number == revealed.phone_numbers[0].number
    assert json.loads(revealed.to_json()) == revealed.to_dict()


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '"person"', "{"])
def test_from_json_refuses_non_objects(text: str) -> None:
    for cls in (Person, Company, PhoneNumber):
        with pytest.raises(ValueError):
            cls.from_json(text)


def test_equality_and_hash(mode: str, client: amplemarket.Client, with_email: list[dict[str, Any]]) -> None:
    a = call(mode, Person, "find", email=with_email[0]["email"], client=client)
    b = call(mode, Person, "find", email=with_email[0]["email"], client=client)
    other = call(mode, Person, "find", email=with_email[1]["email"], client=client)
    assert a == b
    assert (a != b) is False
    assert a is not b
    assert hash(a) == hash(b)
    assert a != other
    assert len({a, b, other}) == 2
    assert a.company == b.company and hash(a.company) == hash(b.company)
    assert a != a.to_dict() and a != a.company and a is not None
    revealed = call(mode, Person, "find", email=with_email[0]["email"], reveal_email=True, client=client)
    assert revealed != a  # different JSON: not equal (the hash may agree)


def test_phone_number_equality_and_hash(revealed: Person) -> None:
    again = Person.from_json(revealed.to_json())
    assert revealed.phone_numbers == again.phone_numbers
    assert {hash(p) for p in revealed.phone_numbers} == {hash(p) for p in again.phone_numbers}
    if len(revealed.phone_numbers) > 1:
        assert revealed.phone_numbers[0] != revealed.phone_numbers[1]


# -- repr, HTML -----------------------------------------------------------------------------------------------------


def test_repr_is_short_and_names_the_person(revealed: Person) -> None:
    text = repr(revealed)
    assert text.startswith("Person(") and revealed.name in text
    assert len(text) < 200
    assert revealed.company.name in repr(revealed.company) and repr(revealed.company).startswith("Company(")
    assert len(repr(revealed.company)) < 200
    phone = revealed.phone_numbers[0]
    assert phone.number in repr(phone) and repr(phone).startswith("PhoneNumber(")


def test_repr_html_escapes(own: Sandbox) -> None:
    own.add_person(
        {
            "name": "<script>alert('x')</script>",
            "email": "xss@evil.example",
            "title": "<b>CEO</b> & <i>founder</i>",
            "linkedin_url": "https://www.linkedin.com/in/x\"onmouseover='alert(1)'",
            "company": {"name": "<img src=x onerror=alert(1)>", "website": "javascript:alert(1)"},
        }
    )
    with own.client(rate_limit=False) as c:
        p = Person.find(email="xss@evil.example", client=c)
    html = p._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>CEO</b>" not in html and "&lt;b&gt;CEO&lt;/b&gt;" in html
    assert "<img" not in html
    assert "onmouseover='" not in html
    company_html = p.company._repr_html_()
    assert "<img" not in company_html and "&lt;img" in company_html
    assert "javascript:" not in company_html  # not made a link
    assert "<script>" in repr(p)  # repr is plain text


def test_repr_html_shows_the_fields(revealed: Person) -> None:
    html = revealed._repr_html_()
    for value in (revealed.name, revealed.title, revealed.company.name, revealed.email):
        assert value.replace("&", "&amp;").replace("'", "&#x27;") in html
    assert revealed.company.name.replace("&", "&amp;").replace("'", "&#x27;") in revealed.company._repr_html_()


# -- pickling --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_results_pickle(revealed: Person, protocol: int) -> None:
    for obj in (revealed, revealed.company, revealed.phone_numbers[0]):
        again = pickle.loads(pickle.dumps(obj, protocol=protocol))
        assert type(again) is type(obj)
        assert again == obj
        assert again.to_dict() == obj.to_dict()
    again = pickle.loads(pickle.dumps(revealed, protocol=protocol))
    assert again.email == revealed.email and again.company.website == revealed.company.website
    assert [p.number for p in again.phone_numbers] == [p.number for p in revealed.phone_numbers]


def test_search_results_pickle(client: amplemarket.Client) -> None:
    page = Person.search(person_titles="Engineer", page_size=5, client=client)
    people = pickle.loads(pickle.dumps(page.results))
    assert people == page.results


def test_exceptions_pickle(mode: str, sb: Sandbox, client: amplemarket.Client) -> None:
    errors = [{"status": "429", "code": "rate_limited", "detail": "Slow down.", "source": {"header": "x"}}]
    sb.script(FIND, [{"status": 429, "retry_after": 0, "body": {"object": "error", "_errors": errors}}])
    with sb.client(rate_limit=False, max_retries=0) as c, pytest.raises(amplemarket.RateLimitError) as info:
        call(mode, Person, "find", email="jane@techco.com", client=c)
    e = info.value
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is amplemarket.RateLimitError
    assert str(again) == str(e)
    for attr in ("status_code", "code", "title", "detail", "source", "errors", "retry_after", "headers", "request"):
        assert getattr(again, attr) == getattr(e, attr), attr
    assert again.errors == errors

    with pytest.raises(amplemarket.InvalidInputError) as bad:
        call(mode, Person, "find", name="Jane", client=client)
    again_bad = pickle.loads(pickle.dumps(bad.value))
    assert type(again_bad) is amplemarket.InvalidInputError and str(again_bad) == str(bad.value)
    assert isinstance(again_bad, ValueError)


def test_connection_errors_pickle(sb: Sandbox) -> None:
    sb.script(FIND, [{"status": 200, "delay": 1}])
    with (
        sb.client(rate_limit=False, max_retries=0, timeout=0.1) as c,
        pytest.raises(amplemarket.APITimeoutError) as info,
    ):
        Person.find(email="jane@techco.com", client=c)
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is amplemarket.APITimeoutError
    assert again.request == info.value.request and str(again) == str(info.value)
    closed = sb.client()
    closed.close()
    with pytest.raises(amplemarket.ClientClosedError) as info2:
        Person.find(email="jane@techco.com", client=closed)
    assert type(pickle.loads(pickle.dumps(info2.value))) is amplemarket.ClientClosedError
