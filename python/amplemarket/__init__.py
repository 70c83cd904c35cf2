"""Python SDK for the Amplemarket People API, with a Rust core and a faithful local API sandbox.

The sandbox (``amplemarket.testing.Sandbox``, or ``amplemarket sandbox`` on the command line) emulates the API
locally for tests and demos.
"""

from amplemarket._core import __version__

__all__ = ["__version__"]
