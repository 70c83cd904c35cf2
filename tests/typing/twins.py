"""Type-checked by CI (`mypy ... tests/typing`), never run: the stub derives each awaitable twin from its blocking
method (``find_async = _awaitable(find)``), and this file pins what a type checker makes of them. A wrong keyword
must stay an error, hence the ignore that `warn_unused_ignores` (strict mode) turns into a failure if it is not."""

from __future__ import annotations

from typing_extensions import assert_type

from amplemarket import (
    Client,
    Company,
    CompanySearchPage,
    EmailValidation,
    EnrichmentJob,
    EnrichmentResult,
    Person,
    Results,
    SearchPage,
    ValidationResult,
)


async def twins(client: Client) -> None:
    assert_type(await Person.find_async(email="jane@techco.com", client=client), Person | None)
    page = await Person.search_async(person_titles=["CEO"], page_size=5)
    assert_type(page, SearchPage)
    assert_type(await page.next_page_async(), SearchPage | None)
    async for person in Person.search_iter_async(company_domains="techco.com", max_results=3):
        assert_type(person, Person)
    assert_type(await Person.enrich_async([{"email": "jane@techco.com"}]), Results[EnrichmentResult])
    assert_type(await Company.find_async(domain="techco.com"), Company | None)
    assert_type(await Company.search_async(company_names="TechCo"), CompanySearchPage)
    job = await EnrichmentJob.create_async([{"email": "jane@techco.com"}], reveal_email=True)
    assert_type(await job.wait_async(timeout=60), EnrichmentJob)
    async for result in job.results_async(page_size=50):
        assert_type(result, EnrichmentResult)
    check = await EmailValidation.create_async(["jane@techco.com"])
    assert_type(await check.cancel_async(), EmailValidation)
    assert_type(await EmailValidation.validate_many_async(["jane@techco.com"]), Results[ValidationResult])
    # A static twin read through an instance is the same function (no ``self`` bound to its first argument).
    person = Person.from_json('{"id": "1", "object": "person"}')
    assert_type(await person.find_async(email="jane@techco.com"), Person | None)
    assert_type(await person.company.search_async(page=2) if person.company else None, CompanySearchPage | None)
    await Person.find_async(emial="jane@techco.com")  # type: ignore[call-arg]
    await Company.search_async(company_names="TechCo", page_size="10")  # type: ignore[arg-type]
