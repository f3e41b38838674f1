"""The ``outcomes`` command line (Typer). All command-line code lives in this subpackage; the
library modules never import it.

One module per command group: ``main`` (instruments, validate, score, report and the app),
``change``, ``longitudinal``, ``privacy`` (pseudonymise), ``forms``, ``synth``.
"""

from .main import app, main

__all__ = ["app", "main"]
