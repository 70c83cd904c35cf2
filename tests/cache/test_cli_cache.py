"""The command line's result cache (on by default, ``--no-cache``, ``--cache PATH``, ``amplemarket cache``) and its
budget (``--dry-run``, ``--max-credits``), end to end against a sandbox server over HTTP."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from support import against, cli, last_seq, sent

from amplemarket.testing import Sandbox

CREATE = "POST /people/enrichment-requests"


def leads_file(tmp_path: Path, people: list[dict[str, Any]], n: int = 6) -> Path:
    path = tmp_path / "leads.csv"
    live = [p for p in people if p.get("email") and not p.get("_gdpr_removed")][:n]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Email", "Owner"])
        w.writerows([[p["email"], f"owner{i}"] for i, p in enumerate(live)])
        w.writerow(["not an email", "x"])
    return path


def test_a_second_run_is_answered_by_the_default_cache(sb: Sandbox, tmp_path: Path, people: list[Any]) -> None:
    src = leads_file(tmp_path, people)
    first = cli("enrich", str(src), "-o", str(tmp_path / "a.csv"), "--reveal-email", *against(sb))
    assert first.returncode == 0, first.stderr
    since, credits = last_seq(sb), sb.credits["email_credits"]
    again = cli("enrich", str(src), "-o", str(tmp_path / "b.csv"), "--reveal-email", *against(sb))
    assert again.returncode == 0, again.stderr
    assert sent(sb, since=since) == [s for s in sent(sb, since=since) if s["route"] == "GET /account-info"]
    assert sb.credits["email_credits"] == credits
    assert "6 leads answered from the result cache; 0 to send" in again.stderr
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    default = Path(os.environ["XDG_CACHE_HOME"]) / "amplemarket" / "cache.sqlite3"
    assert default.exists()
    info = cli("cache", "info", "--json")
    assert info.returncode == 0 and json.loads(info.stdout)["entries"] == 6
    assert cli("cache", "path").stdout.strip() == str(default)

    since = last_seq(sb)
    fresh = cli("enrich", str(src), "-o", str(tmp_path / "c.csv"), "--reveal-email", "--no-cache", *against(sb))
    assert fresh.returncode == 0, fresh.stderr
    assert len(sent(sb, CREATE, since)) == 1


def test_a_named_cache_file_and_clearing_it(sb: Sandbox, tmp_path: Path, people: list[Any]) -> None:
    src, path = leads_file(tmp_path, people), tmp_path / "mine.sqlite3"
    assert cli("enrich", str(src), "-o", str(tmp_path / "a.csv"), "--cache", str(path), *against(sb)).returncode == 0
    assert json.loads(cli("cache", "info", "--cache", str(path), "--json").stdout)["entries"] == 6
    kept = cli("cache", "clear", "--older-than", "30d", "--cache", str(path))
    assert kept.returncode == 0 and "0 answers cleared" in kept.stdout
    cleared = cli("cache", "clear", "--cache", str(path), "--json")
    assert json.loads(cleared.stdout)["cleared"] == 6
    assert "bad age" not in cli("cache", "clear", "--older-than", "soon").stderr
    assert cli("cache", "clear", "--older-than", "soon").returncode == 2


def test_an_unusable_named_cache_stops_an_unusable_default_one_warns(
    sb: Sandbox, tmp_path: Path, people: list[Any]
) -> None:
    src, bad = leads_file(tmp_path, people), tmp_path / "bad.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x01" * 4096)
    since = last_seq(sb)
    named = cli("enrich", str(src), "-o", str(tmp_path / "a.csv"), "--cache", str(bad), *against(sb))
    assert named.returncode == 2 and "--cache:" in named.stderr and "cannot be used" in named.stderr
    assert sent(sb, CREATE, since) == []
    home = tmp_path / "home-is-a-file"
    home.write_text("not a directory")
    warned = cli("enrich", str(src), "-o", str(tmp_path / "b.csv"), *against(sb), env={"XDG_CACHE_HOME": str(home)})
    assert warned.returncode == 0, warned.stderr
    assert "warning:" in warned.stderr and "going on without a cache" in warned.stderr


def test_the_sandbox_keeps_no_answers_by_default(tmp_path: Path, people: list[Any]) -> None:
    src = leads_file(tmp_path, people)
    run = cli("enrich", str(src), "-o", str(tmp_path / "a.csv"), "--sandbox")
    assert run.returncode == 0, run.stderr
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "amplemarket").exists()


def test_dry_run_says_what_would_be_sent_and_sends_nothing(sb: Sandbox, tmp_path: Path, people: list[Any]) -> None:
    src = leads_file(tmp_path, people)
    since = last_seq(sb)
    dry = cli("enrich", str(src), "-o", str(tmp_path / "a.csv"), "--reveal-email", "--dry-run", "--json", *against(sb))
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {
        "rows": 7,
        "invalid": 1,
        "distinct": 6,
        "cached": 0,
        "to_send": 6,
        "credits": {"email": 9.0, "phone": 0.0},
    }
    assert not (tmp_path / "a.csv").exists() and sent(sb, since=since) == []
    assert cli("enrich", str(src), "-o", str(tmp_path / "a.csv"), *against(sb)).returncode == 0
    text = cli("enrich", str(src), "-o", str(tmp_path / "b.csv"), "--dry-run", *against(sb))
    assert "6 answered from the cache, 0 to send, costing at most 0 email and 0 phone credits" in text.stdout


def test_max_credits_refuses_a_run_that_could_cost_more(sb: Sandbox, tmp_path: Path, people: list[Any]) -> None:
    src = leads_file(tmp_path, people)
    since = last_seq(sb)
    over = cli("enrich", str(src), "-o", str(tmp_path / "a.csv"), "--reveal-email", "--max-credits", "8", *against(sb))
    assert over.returncode == 2 and "more than --max-credits 8" in over.stderr and "nothing was sent" in over.stderr
    assert sent(sb, CREATE, since) == [] and not (tmp_path / "a.csv").exists()
    ok = cli("enrich", str(src), "-o", str(tmp_path / "a.csv"), "--reveal-email", "--max-credits", "9", *against(sb))
    assert ok.returncode == 0, ok.stderr
    assert cli("validate", str(src), "-o", str(tmp_path / "v.csv"), "--max-credits", "-1", *against(sb)).returncode == 2
