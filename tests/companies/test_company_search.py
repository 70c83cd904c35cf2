"""`Company.search` / `search_iter` (blocking and awaitable) against the sandbox over HTTP: filters as the server
reads them, pages without loss or duplicates, input checks before anything is sent."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from support import call, last_seq, sent

import amplemarket
from amplemarket import Company, CompanySearchPage, InvalidInputError
from amplemarket.testing import Sandbox

SEARCH = "POST /companies/search"


def iterate(mode: str, **kwargs: Any) -> list[Company]:
    if mode == "sync":
        return list(Company.search_iter(**kwargs))

    async def run() -> list[Company]:
        return [c async for c in Company.search_iter_async(**kwargs)]

    return asyncio.run(run())


def test_search_sends_the_filters_and_reads_a_page(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    industry = sb.companies[0]["industry"]
    since = last_seq(sb)
    page = call(mode, Company, "search", company_industries=industry, page_size=5, client=client)
    assert isinstance(page, CompanySearchPage)
    body = json.loads(sent(sb, SEARCH, since)[-1]["body"])
    assert body == {"company_industries": [industry], "page": 1, "page_size": 5}
    assert 0 < len(page) <= 5 and page.page == 1 and page.page_size == 5
    assert all(isinstance(c, Company) and c.industry == industry for c in page)
    truth = [c for c in sb.companies if c["industry"] == industry]
    assert page.total == len(truth)
    assert "CompanySearchPage(page=1" in repr(page)


def test_next_page_walks_to_the_end(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    industry = sb.companies[0]["industry"]
    page = call(mode, Company, "search", company_industries=[industry], page_size=3, client=client)
    ids: list[str | None] = []
    while page is not None:
        ids += [c.id for c in page]
        page = call(mode, page, "next_page")
    truth = [c["id"] for c in sb.companies if c["industry"] == industry]
    assert sorted(i or "" for i in ids) == sorted(truth)


def test_search_iter_yields_every_match_once(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    size = sb.companies[0]["size"]
    found = iterate(mode, company_sizes=size, page_size=7, client=client)
    truth = [c["id"] for c in sb.companies if c["size"] == size]
    assert [c.id for c in found] == truth
    assert len({c.id for c in found}) == len(found)


def test_search_iter_stops_at_max_results(sb: Sandbox, client: amplemarket.Client, mode: str) -> None:
    since = last_seq(sb)
    found = iterate(mode, max_results=12, page_size=5, client=client)
    assert len(found) == 12
    assert len(sent(sb, SEARCH, since)) == 3


def test_filters_narrow_down_to_one_company(sb: Sandbox, client: amplemarket.Client) -> None:
    techco = Company.search(company_domains="techco.com", client=client)
    assert [c.name for c in techco] == ["TechCo"]
    assert Company.search(company_names="TechCo", company_domains="techco.com", client=client).total == 1
    assert Company.search(company_names="no such company at all", client=client).total == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page": 0}, "`page` starts at 1"),
        ({"page_size": 101}, "`page_size` must be from 1 to 100"),
        ({"company_names": ["TechCo", " "]}, "`company_names`[1] is empty"),
    ],
)
def test_bad_input_is_refused_before_sending(
    sb: Sandbox, client: amplemarket.Client, mode: str, kwargs: dict[str, Any], message: str
) -> None:
    since = last_seq(sb)
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        call(mode, Company, "search", client=client, **kwargs)
    assert sent(sb, SEARCH, since) == []


def test_wrong_types_are_type_errors(client: amplemarket.Client) -> None:
    with pytest.raises(TypeError):
        Company.search(company_names=5, client=client)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_results"):
        list(Company.search_iter(max_results=-1, client=client))
