"""A tour of the SDK against the local sandbox: find, reveal, company, search.

Run it with ``python examples/quickstart.py``; point it at the real API by building the client from your key
(``amplemarket.Client()`` reads ``AMPLEMARKET_API_KEY``) instead of the sandbox's.
"""

from __future__ import annotations

import asyncio

import amplemarket
from amplemarket.testing import Sandbox


def tour(client: amplemarket.Client, known_email: str) -> None:
    person = amplemarket.Person.find(email=known_email, reveal_email=True, client=client)
    if person is None:
        print("nobody found")
        return
    print("found:", person)
    print("  works at:", person.company.name if person.company else "-")
    print("  email (revealed, charged once):", person.email)

    if person.company and person.company.website:
        company = amplemarket.Company.find(domain=person.company.website, client=client)
        print("company:", company)

    page = amplemarket.Person.search(person_titles=["CEO"], page_size=5, client=client)
    print(f"CEOs: {page.total} in {page.total_pages} pages; first page:")
    for p in page:
        print("  -", p.name, "@", p.company.name if p.company else "-")

    vps = list(amplemarket.Person.search_iter(person_seniorities=["VP"], max_results=25, client=client))
    print(f"first {len(vps)} VPs collected across pages")


async def tour_async(client: amplemarket.Client, emails: list[str]) -> None:
    found = await asyncio.gather(*(amplemarket.Person.find_async(email=e, client=client) for e in emails))
    print("async finds:", sum(p is not None for p in found), "of", len(emails), "found")


def main() -> None:
    with Sandbox(people=2_000, rate_limit=None, search_rate_limit=None) as sb:
        with sb.client() as client:
            emails = [str(p["email"]) for p in sb.people[:50] if p.get("email") and not p.get("_gdpr_removed")]
            tour(client, emails[0])
            asyncio.run(tour_async(client, emails))
        print("credits left:", sb.credits["email_credits"], "email,", sb.credits["phone_credits"], "phone")


if __name__ == "__main__":
    main()
