"""The library's messages speak Python (``errors='flag'``, ``columns={...}``); the command line
says the same in its own words (``--flag``, ``--map SOURCE=ITEM``).

Library messages stay written for Python users, the larger audience; every command-line
error passes through :func:`for_command_line` on its way to the screen, so that a person at a
terminal is told which flag to type.
"""

from __future__ import annotations

import re

#: (Python spelling, command-line spelling), applied in order: specific forms first.
_PYTHON_TO_CLI: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\berrors=(['\"])flag\1"), "--flag"),
    (re.compile(r"the full list is in \.issues"), "they are listed below"),
    (re.compile(r"\(see \.issues\)"), "(listed below)"),
    (re.compile(r"\bcolumns=\{[^{}]*\}"), "--map SOURCE=ITEM"),
    (re.compile(r"\bcolumns="), "--map"),
    (re.compile(r"\bkeep=/person_id="), "--person-id"),
    (re.compile(r"\bperson_id="), "--person-id"),
    (re.compile(r"\bcoding=(['\"])([^'\"]*)\1"), r"--coding \2"),
    (re.compile(r"\bplatform=(['\"])([^'\"]*)\1"), r"--platform \2"),
    (re.compile(r"\b(coding|sep|encoding|sheet|prefix|platform)="), r"--\1"),
)


def for_command_line(message: str) -> str:
    """A library message with its Python argument names replaced by command-line flags.

    Example:
        >>> for_command_line("2 invalid cell(s) (errors='flag' scores them as missing)")
        '2 invalid cell(s) (--flag scores them as missing)'
        >>> for_command_line("Use columns={'your_column': 'item_id'} to map columns.")
        'Use --map SOURCE=ITEM to map columns.'
        >>> for_command_line("an SPSS file; read it with platform='spss'")
        'an SPSS file; read it with --platform spss'
    """
    for pattern, cli in _PYTHON_TO_CLI:
        message = pattern.sub(cli, message)
    return message
