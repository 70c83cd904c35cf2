"""`amplemarket.check_company` and `check_email`: the one rule every path that sends companies or emails applies,
callable alone (the CLI checks its rows with them)."""

from __future__ import annotations

from typing import Any

import pytest

import amplemarket
from amplemarket import InvalidInputError


def test_companies_come_back_as_they_would_be_sent() -> None:
    assert amplemarket.check_company("https://www.TechCo.com/about") == {"domain": "techco.com"}
    assert amplemarket.check_company({"name": " TechCo ", "linkedin_url": ""}) == {"name": "TechCo"}


@pytest.mark.parametrize(
    ("company", "message"),
    [
        ({}, "no usable identifier"),
        ({"website": "techco.com"}, "unknown field `website`"),
        ("not a domain", "not a domain"),
        ({"linkedin_url": "https://example.com/x"}, "not a LinkedIn page"),
    ],
)
def test_bad_companies_say_what_is_wrong(company: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        amplemarket.check_company(company)


def test_a_company_of_the_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="company 0 is a int"):
        amplemarket.check_company(5)  # type: ignore[arg-type]


def test_emails() -> None:
    assert amplemarket.check_email("  jane@techco.com ") == "jane@techco.com"
    with pytest.raises(InvalidInputError, match="not an email address"):
        amplemarket.check_email("jane at techco")
    with pytest.raises(InvalidInputError, match="empty"):
        amplemarket.check_email(" ")
