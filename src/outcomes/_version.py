"""The package version: written here once (pyproject.toml reads it, ``[tool.hatch.version]``).

Not looked up with ``importlib.metadata``: that lookup over the installed distributions cost
about 55 ms of every ``import outcomes``, and it is the same string.
"""

__version__ = "0.1.0"
