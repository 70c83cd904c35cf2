"""Property tests (hypothesis) of the three places where the SDK turns one representation into another.

- Lead validation: for any lead (known and unknown keys; strings, blanks, None, numbers, bools, lists, objects),
  the SDK's decision before sending agrees with the sandbox's on the same raw lead: it never sends one the server
  refuses, refuses a lead the server takes only for an email or LinkedIn URL that is not one (the format check every
  path shares, stated below independently), and blames the same leads in a list.
- Query building: any unicode values given to ``Person.find`` reach the server exactly (no double encoding, no loss,
  no extra parameter), and search filters arrive as the same JSON body.
- Parsing: ``from_json(...).to_dict()`` gives back the dict, ``to_json`` and pickle round trip, typed attributes read
  the values sent, and equal dicts give equal objects with equal hashes.

Every example talks real HTTP to the sandbox where the server is involved.
"""

from __future__ import annotations

import json
import pickle
import re
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support import CREATE, FIND, SEARCH, examples, last_seq, sent

from amplemarket import Client, Company, EnrichmentJob, EnrichmentResult, InvalidInputError, Person, PhoneNumber
from amplemarket.testing import Sandbox

LEAD_KEYS = ("email", "linkedin_url", "linkedin_id", "name", "title", "company_name", "company_domain")

# Derandomized unless HYPOTHESIS_EXPLORE is set (see support.py): CI sees the same examples on every run.
SERVER = examples(150)
OFFLINE = examples(150, fixtures=False)

# -- strategies ----------------------------------------------------------------------------------------------------

# Unicode White_Space and friends at the edges, where trimming decides "blank".
BLANKS = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\u2003", "\u3000", " \u200b "])
# Text with the characters that break naive encoders; no surrogates (not encodable as JSON or UTF-8 at all).
TRICKY = st.sampled_from([*"&=#+%?/ ;,:@'\"\\<>[]{}|^`~", "😀", "é", "ß", "日本", "\x00", "%20", "%2B", "+"])
TEXT = st.lists(st.one_of(st.text(max_size=6), TRICKY), max_size=5).map("".join)

lead_value = st.one_of(
    TEXT,
    BLANKS,
    st.none(),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=1),
)
# Mostly lead keys, sometimes a near miss the API does not know.
lead_key = st.one_of(st.sampled_from(LEAD_KEYS), st.sampled_from(["Email", "mail", "first_name", "", "company"]))
lead = st.dictionaries(lead_key, lead_value, max_size=4)
# Leads that pass: an identifier with a usable string, and maybe more fields (blank, None or text).
IDENT = TEXT.filter(str.strip)
# Well-formed values for the fields that have a form, any text for the others.
GOOD_VALUE = {"email": st.deferred(lambda: EMAIL), "linkedin_url": st.deferred(lambda: LINKEDIN)}
IDENTIFIERS = [("email",), ("linkedin_url",), ("linkedin_id",), ("name", "company_name"), ("title", "company_domain")]
lead_extras = st.fixed_dictionaries(
    {}, optional={k: st.one_of(GOOD_VALUE.get(k, IDENT), BLANKS, st.none()) for k in LEAD_KEYS}
)
good_lead = st.sampled_from(IDENTIFIERS).flatmap(
    lambda keys: st.tuples(lead_extras, st.fixed_dictionaries({k: GOOD_VALUE.get(k, IDENT) for k in keys})).map(
        lambda t: t[0] | t[1]
    )
)
any_lead = st.one_of(good_lead, lead)


def spoil(t: tuple[list[dict[str, Any]], list[tuple[int, dict[str, Any]]]]) -> list[dict[str, Any]]:
    batch, bad = t
    for i, one in bad:
        batch[i % len(batch)] = one
    return batch


# Mostly good leads with at times one or two arbitrary ones among them.
batch_of_leads = st.tuples(
    st.lists(good_lead, min_size=1, max_size=8), st.lists(st.tuples(st.integers(0, 7), lead), max_size=2)
).map(spoil)


def not_blank(s: str) -> bool:
    # No whitespace at the edges (by Python's broader definition), so the SDK's trim leaves the value as given.
    return bool(s.strip()) and s == s.strip()


VALUE = TEXT.filter(not_blank)
# Unicode's White_Space property: what Rust's `char::is_whitespace` (and `str::trim`) go by.
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
)


def has_space(s: str) -> bool:
    return any(c in WHITE_SPACE for c in s)


def malformed(key: str, value: Any) -> bool:
    """The documented format rule: an email is `local@host.tld` without spaces, a LinkedIn URL names linkedin.com."""
    if not isinstance(value, str) or not value.strip("".join(WHITE_SPACE)):
        return False
    v = value.strip("".join(WHITE_SPACE))
    if key == "email":
        local, _, host = v.partition("@")
        host_ok = "." in host and not host.startswith(".") and not host.endswith(".") and "@" not in host
        return not (local and host_ok) or has_space(v)
    if key == "linkedin_url":
        return "linkedin.com/" not in v.lower()
    return False


EMAIL = st.tuples(
    st.text(min_size=1, max_size=8).filter(lambda s: "@" not in s and not has_space(s)),
    st.text(min_size=1, max_size=8).filter(lambda s: "@" not in s and not has_space(s) and not s.startswith(".")),
).map(lambda t: f"{t[0]}@{t[1]}.example")
LINKEDIN = VALUE.map(lambda s: f"https://www.linkedin.com/in/{s}")

# -- lead validation agrees with the server --------------------------------------------------------------------


def client_decision(leads: list[dict[str, Any]], client: Client, sb: Sandbox) -> tuple[bool, str, list[dict[str, Any]]]:
    """Whether the SDK sent the leads (and what the sandbox answered), or why it refused them."""
    since = last_seq(sb)
    try:
        EnrichmentJob.create(leads, client=client)
    except InvalidInputError as e:
        return False, str(e), sent(sb, CREATE, since)
    return True, "", sent(sb, CREATE, since)


def server_decision(leads: list[dict[str, Any]], api: httpx.Client) -> httpx.Response:
    response = api.post("/people/enrichment-requests", json={"leads": leads})
    assert response.status_code in (202, 400), response.text
    return response


@SERVER
@given(one=any_lead)
@example(one={"title": "CEO", "company_domain": "techco.com"})  # title + company: documented as enough
@example(one={"name": " ", "email": "\u3000"})
@example(one={"linkedin_id": "x", "first_name": None})
@example(one={"email": "jane at example dot com"})  # sent by no path: the format check is shared
@example(one={"email": "jane@techco.com", "linkedin_url": "techco.com/jane"})
def test_lead_validation_agrees_with_the_server(
    one: dict[str, Any], sb: Sandbox, client: Client, api: httpx.Client
) -> None:
    accepted, why, went = client_decision([one], client, sb)
    server = server_decision([one], api)
    if accepted:
        assert [r["status"] for r in went] == [202], "the SDK sent a lead the server refused"
        assert server.status_code == 202
    else:
        assert went == [], "a refused lead was sent"
        if server.status_code == 202:
            bad = [k for k in ("email", "linkedin_url") if malformed(k, one.get(k))]
            assert bad, f"the SDK refused a lead the server takes: {one!r} ({why})"
            assert f"`{bad[0]}`" in why and ("email address" in why or "LinkedIn profile URL" in why), why
        assert "lead 0" in why


@SERVER
@given(batch=batch_of_leads)
def test_the_same_leads_are_blamed(batch: list[dict[str, Any]], sb: Sandbox, client: Client, api: httpx.Client) -> None:
    accepted, why, _ = client_decision(batch, client, sb)
    server = server_decision(batch, api)
    server_blames = {
        int(m.group(1))
        for e in (server.json().get("_errors", []) if server.status_code == 400 else [])
        if (m := re.match(r"/leads/(\d+)", e.get("source", {}).get("pointer", "")))
    }
    client_blames = {int(n) for n in re.findall(r"\blead (\d+)\b", why)}
    by_format = {i for i, one in enumerate(batch) if any(malformed(k, one.get(k)) for k in ("email", "linkedin_url"))}
    assert accepted == (server.status_code == 202 and not by_format)
    # The SDK blames what the server blames, and the malformed values the server does not check.
    assert server_blames <= client_blames <= server_blames | by_format
    assert by_format - server_blames <= client_blames


# -- query building --------------------------------------------------------------------------------------------


def lookup() -> st.SearchStrategy[dict[str, str]]:
    """A complete lookup of any of the three kinds, with any unicode in every value."""
    by_name = st.fixed_dictionaries(
        {"name": VALUE, "company_name": VALUE}, optional={"title": VALUE, "company_domain": VALUE}
    )
    return st.one_of(
        st.fixed_dictionaries({"email": EMAIL}),
        st.fixed_dictionaries({"linkedin_url": LINKEDIN}),
        by_name,
    )


@SERVER
@given(query=lookup(), reveal=st.booleans())
@example(query={"name": "a&b=c#d+e%f g 😀", "company_name": "%2B+%20"}, reveal=True)
def test_find_sends_exactly_the_values_given(query: dict[str, str], reveal: bool, sb: Sandbox, client: Client) -> None:
    since = last_seq(sb)
    result = Person.find(client=client, reveal_email=reveal, **query)
    assert result is None or isinstance(result, Person)
    (entry,) = sent(sb, FIND, since)
    received = parse_qs(entry["query"], keep_blank_values=True, strict_parsing=True, errors="strict")
    expected = {k: [v] for k, v in query.items()} | ({"reveal_email": ["true"]} if reveal else {})
    assert received == expected


# Every list filter `Person.search` takes (all but the name, which takes one value).
FILTERS = tuple(name for name in Person.SEARCH_FILTERS if name != "person_name")


@SERVER
@given(
    filters=st.dictionaries(
        st.sampled_from(FILTERS), st.one_of(VALUE, st.lists(TEXT.filter(str.strip), min_size=1, max_size=4)), max_size=4
    ),
    person_name=st.none() | VALUE,
    page=st.integers(1, 10**6),
    page_size=st.integers(1, 100),
)
def test_search_filters_arrive_as_the_same_json(
    filters: dict[str, Any], person_name: str | None, page: int, page_size: int, sb: Sandbox, client: Client
) -> None:
    since = last_seq(sb)
    result = Person.search(person_name=person_name, page=page, page_size=page_size, client=client, **filters)
    assert result.page == page and result.page_size == page_size
    (entry,) = sent(sb, SEARCH, since)
    expected: dict[str, Any] = {k: [v] if isinstance(v, str) else v for k, v in filters.items()}
    if person_name is not None:
        expected["person_name"] = person_name
    assert json.loads(entry["body"]) == expected | {"page": page, "page_size": page_size}


# -- parsing round trips ---------------------------------------------------------------------------------------

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),  # beyond 64 bits too: kept exactly as sent
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
maybe_str = st.none() | st.text()
maybe_int = st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1)


def record(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with any of ``fields`` (documented types, or None) and, at times, fields the API may add later."""
    extra = st.dictionaries(st.text(max_size=8).filter(lambda k: k not in fields), json_value, max_size=2)
    return st.tuples(st.fixed_dictionaries({}, optional=fields), extra).map(lambda t: t[1] | t[0])


PHONE_FIELDS = {
    "id": maybe_str,
    "object": st.just("phone_number"),
    "number": maybe_str,
    "type": maybe_str,
    "source": maybe_str,
}
COMPANY_STR = (
    "id",
    "name",
    "linkedin_url",
    "website",
    "overview",
    "logo_url",
    "type",
    "latest_funding_stage",
    "latest_funding_date",
    "size",
    "industry",
    "location",
    "estimated_revenue",
)
COMPANY_INT = ("founded_year", "traffic_rank", "total_funding", "estimated_number_of_employees", "followers", "revenue")
COMPANY_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    **{k: maybe_str for k in COMPANY_STR},
    **{k: maybe_int for k in COMPANY_INT},
    "object": st.just("company"),
    "sic_codes": st.none() | st.lists(st.integers(0, 9999), max_size=3),
    "keywords": st.none() | st.lists(st.text(max_size=8), max_size=3),
    "technologies": st.none() | st.lists(st.text(max_size=8), max_size=3),
    "is_b2b": st.none() | st.booleans(),
    "location_details": st.none() | st.dictionaries(st.text(max_size=6), maybe_str, max_size=3),
    "department_headcount": st.none() | st.dictionaries(st.text(max_size=6), st.integers(0, 10**6), max_size=3),
}
# Every text field of a person: the class's fields but those of other types.
PERSON_NOT_STR = ("object", "location_details", "experiences", "educations", "languages", "phone_numbers", "company")
PERSON_STR = tuple(k for k in Person.FIELDS if k not in PERSON_NOT_STR)
PERSON_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    **{k: maybe_str for k in PERSON_STR},
    "object": st.just("person"),
    "location_details": st.none() | st.dictionaries(st.text(max_size=6), maybe_str, max_size=3),
    "experiences": st.none() | st.lists(st.dictionaries(st.text(max_size=6), json_scalar, max_size=3), max_size=2),
    "phone_numbers": st.none() | st.lists(record(PHONE_FIELDS), max_size=3),
    "company": st.none() | record(COMPANY_FIELDS),
}
PERSON = record(PERSON_FIELDS)
COMPANY = record(COMPANY_FIELDS)
RESULT = record(
    {
        "id": st.none() | st.integers(0, 2**53),
        "status": st.none() | st.sampled_from(["enriched", "not_found", "gdpr_removed", "some_future_status"]),
        "result": PERSON,
        **{k: maybe_str for k in LEAD_KEYS},
    }
)
MODELS: dict[str, tuple[Any, st.SearchStrategy[dict[str, Any]]]] = {
    "Person": (Person, PERSON),
    "Company": (Company, COMPANY),
    "EnrichmentResult": (EnrichmentResult, RESULT),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_parsing_round_trips(name: str) -> None:
    cls, strategy = MODELS[name]

    @OFFLINE
    @given(d=strategy, indent=st.none() | st.integers(0, 2), ascii_only=st.booleans())
    def round_trip(d: dict[str, Any], indent: int | None, ascii_only: bool) -> None:
        obj = cls.from_json(json.dumps(d, indent=indent, ensure_ascii=ascii_only))
        assert obj.to_dict() == d
        assert json.loads(obj.to_json()) == d
        again = cls.from_json(obj.to_json())
        assert again == obj and again.to_dict() == d
        unpickled = pickle.loads(pickle.dumps(obj))
        assert unpickled == obj and unpickled.to_dict() == d

    round_trip()


def _typed_fields_read_what_was_sent(p: Person, d: dict[str, Any]) -> None:
    for k in PERSON_STR:
        assert getattr(p, k) == d.get(k), k
    company = d.get("company")
    if company is None:
        assert p.company is None
    else:
        assert p.company is not None and p.company.to_dict() == company
        for k in (*COMPANY_STR, *COMPANY_INT, "sic_codes", "keywords", "technologies", "is_b2b"):
            assert getattr(p.company, k) == company.get(k), k
    phones = d.get("phone_numbers")
    if phones is None:
        assert p.phone_numbers is None
    else:
        assert [ph.to_dict() for ph in p.phone_numbers or []] == phones
        assert all(isinstance(ph, PhoneNumber) for ph in p.phone_numbers or [])


@OFFLINE
@given(d=PERSON)
def test_typed_attributes_read_the_values_sent(d: dict[str, Any]) -> None:
    _typed_fields_read_what_was_sent(Person.from_json(json.dumps(d)), d)


@OFFLINE
@given(d=RESULT)
def test_enrichment_result_exposes_lead_and_person(d: dict[str, Any]) -> None:
    r = EnrichmentResult.from_json(json.dumps(d))
    assert (r.id, r.status) == (d.get("id"), d.get("status"))
    assert r.lead == {k: d[k] for k in LEAD_KEYS if d.get(k) is not None}
    for k in LEAD_KEYS:
        assert getattr(r, k) == d.get(k), k
    if d.get("result") is None:
        assert r.person is None
    else:
        assert r.person is not None and r.person.to_dict() == d["result"]


@pytest.mark.parametrize("name", ["Person", "Company"])
def test_equal_dicts_give_equal_objects_and_hashes(name: str) -> None:
    cls, strategy = MODELS[name]

    @OFFLINE
    @given(d=strategy, indent=st.none() | st.integers(0, 2))
    def equal(d: dict[str, Any], indent: int | None) -> None:
        # Formatting and key order aside, the same record is the same object.
        a = cls.from_json(json.dumps(d))
        b = cls.from_json(json.dumps(dict(reversed(list(d.items()))), indent=indent))
        assert a == b and (a != b) is False
        assert hash(a) == hash(b)
        assert len({a, b}) == 1

    equal()


@OFFLINE
@given(d=PERSON.filter(lambda d: isinstance(d.get("id"), str)))
@example(d={"id": "é/1", "object": "person"})
def test_equal_objects_hash_equal_whatever_the_escaping(d: dict[str, Any]) -> None:
    a = Person.from_json(json.dumps(d, ensure_ascii=True))
    b = Person.from_json(json.dumps(d, ensure_ascii=False).replace("/", "\\/"))
    assert a == b
    assert hash(a) == hash(b)
