"""Bulk work against the local sandbox: enrich a list of leads, find many people at once, and resume a job.

Run it with ``python examples/bulk_enrich.py``.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import amplemarket
from amplemarket.testing import Sandbox

LEADS = Path(__file__).with_name("leads.csv")


def read_leads() -> list[dict[str, str]]:
    with LEADS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    leads = []
    for row in rows:
        lead = {
            "email": row["Email"],
            "linkedin_url": row["LinkedIn URL"],
            "name": f"{row['First Name']} {row['Last Name']}".strip(),
            "title": row["Job Title"],
            "company_name": row["Company"],
            "company_domain": row["Domain"],
        }
        leads.append({k: v for k, v in lead.items() if v})
    return leads


def main() -> None:
    leads = read_leads()
    with Sandbox(seed=0, job_progression="polls:2", poll_retry_after=0) as sb, sb.client() as client:
        # One call: identical leads sent once, any number split into jobs, one result per lead in input order.
        results = amplemarket.Person.enrich(leads, reveal_email=True, client=client)
        print("enrich:", dict(Counter(r.status for r in results)))
        first = next(r for r in results if r.person is not None)
        print("  e.g.", first.person, "<-", first.lead)

        # Many single lookups, 16 at a time inside Rust, paced to the account's limits.
        found = amplemarket.Person.find_many(
            [{"email": r.email} for r in results if r.email][:100], concurrency=16, client=client
        )
        print("find_many:", sum(f.person is not None for f in found), "found,", sum(not f.ok for f in found), "errors")

        # A job by hand: start it, forget it, pick it up again by id (from another process, after a crash…).
        job_id = amplemarket.EnrichmentJob.create(leads[:50], client=client).id
        job = amplemarket.EnrichmentJob.get(job_id, client=client).wait(timeout=60)
        print("job", job.id, job.status, sum(1 for _ in job.results()), "results")


if __name__ == "__main__":
    main()
