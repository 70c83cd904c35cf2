"""Writes examples/leads.csv: leads drawn from the sandbox's default data set (seed 0), in the shapes real exports
have — email only, LinkedIn only, name + company, name + domain — plus leads nobody matches, GDPR-removed people,
duplicates and malformed rows. Run: python scripts/make_leads.py"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from amplemarket.testing import Sandbox

COLUMNS = ["First Name", "Last Name", "Email", "LinkedIn URL", "Company", "Domain", "Job Title"]


def domain(website: str | None) -> str:
    return (website or "").removeprefix("https://").removeprefix("http://").removeprefix("www.")


def main() -> None:
    rng = random.Random(7)
    rows: list[dict[str, str]] = []
    with Sandbox(seed=0, people=10_000) as sb:
        people = [sb.people[i] for i in rng.sample(range(len(sb.people)), 400)]
        live = [p for p in people if not p.get("_gdpr_removed") and p.get("company")]
        removed = [p for p in sb.people[:3000] if p.get("_gdpr_removed")][:8]
    for n, p in enumerate(live[:270]):
        first, last = p["first_name"], p["last_name"]
        company = p["company"]
        shape = n % 4
        row = dict.fromkeys(COLUMNS, "")
        row["First Name"], row["Last Name"] = first, last
        if shape == 0 and p.get("email"):
            row["Email"] = p["email"]
        elif shape == 1:
            row["LinkedIn URL"] = p["linkedin_url"]
        elif shape == 2:
            row["Company"], row["Job Title"] = company["name"], p["title"] or ""
        else:
            row["Domain"], row["Job Title"] = domain(company.get("website")), p["title"] or ""
            if not row["Domain"]:
                row["Email"] = p.get("email") or ""
        rows.append(row)
    for p in removed:
        rows.append(
            dict(dict.fromkeys(COLUMNS, ""), **{"Email": p.get("email") or "", "LinkedIn URL": p["linkedin_url"]})
        )
    for n in range(15):
        rows.append(
            dict(
                dict.fromkeys(COLUMNS, ""),
                **{"First Name": "Nobody", "Last Name": f"Known{n}", "Email": f"nobody{n}@unknown-company{n}.example"},
            )
        )
    rows.extend(dict(r) for r in rows[:6])  # duplicates, as lists merged from two sources have
    rows.append(dict.fromkeys(COLUMNS, ""))  # an empty row
    rows.append(dict(dict.fromkeys(COLUMNS, ""), **{"First Name": "Only", "Last Name": "Name"}))
    rows.append(dict(dict.fromkeys(COLUMNS, ""), **{"Email": "jane at example dot com"}))
    rows.append(dict(dict.fromkeys(COLUMNS, ""), **{"Job Title": "CEO"}))
    rng.shuffle(rows)
    out = Path(__file__).resolve().parent.parent / "examples" / "leads.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} leads written to {out}")


if __name__ == "__main__":
    main()
