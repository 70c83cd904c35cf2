"""Compact HTML cards for notebooks (``_repr_html_`` of Person and Company)."""

from __future__ import annotations

from html import escape
from typing import Any

_CARD = (
    "<div style='font-family:system-ui,sans-serif;border:1px solid #ddd;border-radius:6px;"
    "padding:8px 12px;max-width:560px'>{}</div>"
)


def _row(label: str, value: Any) -> str:
    if value in (None, "", []):
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return f"<tr><td style='color:#666;padding-right:12px'>{escape(label)}</td><td>{escape(str(value))}</td></tr>"


def _link(url: str | None, text: str) -> str:
    if not url or not url.startswith(("https://", "http://")):
        return escape(text)
    return f"<a href='{escape(url, quote=True)}' target='_blank' rel='noopener'>{escape(text)}</a>"


def person_html(person: Any) -> str:
    company = person.company
    phones = [p.number for p in (person.phone_numbers or []) if p.number]
    rows = "".join(
        [
            _row("Title", person.title),
            _row("Company", company.name if company else None),
            _row("Location", person.location),
            _row("Email", person.email),
            _row("Phone", phones),
            _row("Headline", person.headline),
        ]
    )
    head = f"<b>{_link(person.linkedin_url, person.name or 'Unnamed person')}</b>"
    return _CARD.format(f"{head}<table style='margin-top:4px'>{rows}</table>")


def company_html(company: Any) -> str:
    rows = "".join(
        [
            _row("Industry", company.industry),
            _row("Size", company.size),
            _row("Employees", company.estimated_number_of_employees),
            _row("Location", company.location),
            _row("Founded", company.founded_year),
            _row("Technologies", (company.technologies or [])[:8]),
        ]
    )
    head = f"<b>{_link(company.website, company.name or 'Unnamed company')}</b>"
    return _CARD.format(f"{head}<table style='margin-top:4px'>{rows}</table>")
