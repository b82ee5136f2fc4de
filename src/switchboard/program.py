"""How the person runs the ``switchboard`` command, for the command lines Switchboard
prints for them to copy (the start-up banner, ``prompt``'s answer lines)."""

import os
import shlex

PROGRAM_ENV = "SWITCHBOARD_PROGRAM"
"""Set by ``./scripts/serve`` and ``./scripts/switchboard`` to the wrapper's path, as
it was typed (``./scripts/switchboard``)."""


def program() -> str:
    """``$SWITCHBOARD_PROGRAM``, else ``switchboard`` (as installed by pip)."""
    return os.environ.get(PROGRAM_ENV) or "switchboard"


def command_line(*args: str) -> str:
    """``switchboard ARGS``, quoted for a POSIX shell, ready to copy."""
    return f"{program()} {shlex.join(args)}"
