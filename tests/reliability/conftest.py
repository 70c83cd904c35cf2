"""The reliability suite (faults, crashes, interrupts, bad input, secrets) uses the bulk suite's fixtures: the
``amplemarket_sandbox`` fixture with fast settings, a client with pacing off, the data set as ground truth, and an
authorised ``httpx.Client``. Every test talks real HTTP to a real sandbox."""

from bulk.conftest import _clean_environment, api, client, live, mode, people, procs, sb  # noqa: F401
