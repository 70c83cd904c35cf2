"""What users capture in closures travels: every configuration value pickles, and a ``Client`` pickles as its
configuration without the API key, which is read again where it is unpickled (and must be the same key).

Spark and Dask carry the same pickles; their suites check a client travelling to their workers."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys
from typing import Any

import pytest

import amplemarket
from amplemarket._scale import TaskSettings
from amplemarket.testing import Sandbox


def test_rate_limits_pickle_with_every_field() -> None:
    for limits in (
        amplemarket.RateLimits(),
        amplemarket.RateLimits(requests=None, search=7, per=2.5, burst=1),
        amplemarket.RateLimits().share(3),
    ):
        back = pickle.loads(pickle.dumps(limits))
        assert back == limits
        assert (back.requests, back.search, back.per, back.burst) == (
            limits.requests,
            limits.search,
            limits.per,
            limits.burst,
        )


def test_share_divides_the_limits_and_spaces_calls_evenly() -> None:
    part = amplemarket.RateLimits(requests=500, search=30, per=60).share(4)
    assert (part.requests, part.search, part.per, part.burst) == (125, 7, 60.0, 1)
    assert amplemarket.RateLimits(requests=500, search=30).share(64).search == 1  # the floor
    with pytest.raises(ValueError, match="positive"):
        amplemarket.RateLimits().share(0)
    with pytest.raises(amplemarket.InvalidInputError, match="burst"):
        amplemarket.RateLimits(burst=0)


def test_a_client_pickles_without_its_key(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = amplemarket.RateLimits(requests=120, search=None, per=30, burst=1)
    client = sb.client(rate_limit=limits, max_retries=5, timeout=12.5, trust_idempotency_key=True)
    data = pickle.dumps(client)
    key = sb.api_key
    assert key.encode() not in data
    for i in range(len(key) - 7):
        assert key[i : i + 8].encode() not in data, key[i : i + 8]
    # Unpickled where the key is in the environment: the same settings, and it works.
    monkeypatch.setenv("AMPLEMARKET_API_KEY", key)
    back = pickle.loads(data)
    assert (back.base_url, back.max_retries, back.timeout, back.rate_limit, back.trust_idempotency_key) == (
        client.base_url,
        5,
        12.5,
        limits,
        True,
    )
    assert back.account_info()["object"] == "account_info"
    assert pickle.loads(pickle.dumps(sb.client(rate_limit=False))).rate_limit is None


def test_unpickling_without_the_key_says_how_to_fix_it(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    data = pickle.dumps(sb.client())
    with pytest.raises(amplemarket.ConfigurationError, match="AMPLEMARKET_API_KEY is not set") as e:
        pickle.loads(data)
    assert "build a Client inside each task" in str(e.value)
    # Another account's key is refused rather than used silently.
    monkeypatch.setenv("AMPLEMARKET_API_KEY", "amp_live_another_account_0000")
    with pytest.raises(amplemarket.ConfigurationError, match="pickled with the API key amp_…dbox"):
        pickle.loads(data)


def _account_info_in_child(client: amplemarket.Client) -> Any:
    return client.account_info()["object"]


def test_a_client_travels_to_a_spawned_process(sb: Sandbox) -> None:
    """``multiprocessing`` with the spawn method: the child unpickles the client and reads the key from its own
    environment (inherited here; on a cluster, the executor's)."""
    ctx = multiprocessing.get_context("spawn")
    env_before = os.environ.get("AMPLEMARKET_API_KEY")
    os.environ["AMPLEMARKET_API_KEY"] = sb.api_key
    try:
        with ctx.Pool(1) as pool:
            assert pool.apply(_account_info_in_child, (sb.client(),)) == "account_info"
    finally:
        if env_before is None:
            del os.environ["AMPLEMARKET_API_KEY"]


def test_a_fresh_process_without_the_key_gets_the_configuration_error(sb: Sandbox) -> None:
    """(Not through a ``multiprocessing.Pool``: a pool whose worker cannot unpickle its task loses the task.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPLEMARKET_")}
    code = (
        "import pickle, sys\n"
        "try:\n    pickle.loads(sys.stdin.buffer.read())\n"
        "except Exception as e:\n    print(type(e).__name__, e)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(sb.client()), capture_output=True, env=env, check=True
    ).stdout.decode()
    assert out.startswith("ConfigurationError"), out
    assert "AMPLEMARKET_API_KEY is not set" in out


def test_task_settings_carry_no_key() -> None:
    import cloudpickle

    settings = TaskSettings(
        base_url="http://127.0.0.1:9", rate_limit=amplemarket.RateLimits().share(2), checkpoint="/tmp/x"
    )
    assert pickle.loads(cloudpickle.dumps(settings)) == settings
    with pytest.raises(TypeError, match="callable"):
        from amplemarket._scale import check_key_argument

        check_key_argument("amp_live_literal_key_123456")


def test_importing_amplemarket_imports_no_engine() -> None:
    code = (
        "import sys, amplemarket, amplemarket.testing; "
        "print(sorted(m for m in ('pyspark', 'dask', 'distributed', 'fsspec') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("call", ["enrich", "find"])
def test_a_misspelt_option_is_named_with_the_ones_there_are(call: str) -> None:
    from amplemarket._scale import Engine

    def never(*_: object) -> int:
        raise AssertionError("nothing may run before the options are checked")

    engine = Engine(slots=never, run=never)
    with pytest.raises(
        TypeError, match=rf"{call}\(\) got an unexpected keyword argument 'colums'; it takes .*columns"
    ) as e:
        getattr(engine, call)(object(), colums={"E-mail": "email"})
    own = {"enrich": ("checkpoint", "timeout"), "find": ("find_concurrency",)}[call]
    others = {"enrich": ("find_concurrency",), "find": ("checkpoint", "timeout")}[call]
    taken = str(e.value).split("it takes ")[1].split(", ")
    assert set(own) <= set(taken) and not set(others) & set(taken), taken
