"""Exceptions raised by Switchboard.

Every error Switchboard raises on purpose is a :class:`SwitchboardError`: it has a
``code`` that names what went wrong and a ``message`` that says it in words (``str()``
of the error). A request that cannot be done is a :class:`RequestRefused`, whose code is
the protocol's ``error.code`` and goes to the client as it is.

Hierarchy::

    SwitchboardError(code, message)
    ├── ConfigError            a setting is missing or malformed
    ├── AgentError             a child agent process misbehaved
    │   ├── ClaudeNotFoundError  no Claude Code CLI could be located
    │   ├── AgentSpawnError    the process could not be started
    │   └── AgentGoneError     the process exited while we were writing to it
    ├── ControlProtocolError   a control-protocol message was malformed or unexpected
    ├── StoreError             the database refused a write
    └── RequestRefused         a request cannot be done (the protocol's error codes)
        ├── HubError           … by the hub (hub/registry.py)
        ├── ConfirmationError  … about a confirmation (hub/confirmation.py)
        ├── ProjectError       … about a project's name (store/projects.py)
        └── ProjectPathError   … about a project's path (project_paths.py)

The client's own errors (``RequestError``, ``HistoryTrimmed``, ``ConnectionLost``,
``ExportInterrupted``) derive from :class:`SwitchboardError` too.
"""

from switchboard.protocol.messages import ErrorCode


class SwitchboardError(Exception):
    """Base class of every error Switchboard raises on purpose."""

    code: str = "internal"
    """What went wrong, in one word (a class's own, unless the raiser names one)."""

    def __init__(self, message: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigError(SwitchboardError):
    """A setting is missing or malformed."""

    code = "config"


class AgentError(SwitchboardError):
    """A child agent process misbehaved."""

    code = "agent"


class ClaudeNotFoundError(AgentError):
    """No Claude Code CLI binary could be located."""

    code = "agent_not_found"


class AgentSpawnError(AgentError):
    """The agent process could not be started."""


class AgentGoneError(AgentError):
    """The agent process is no longer accepting input."""


class ControlProtocolError(SwitchboardError):
    """A control-protocol message was malformed or unexpected."""

    code = "control_protocol"


class StoreError(SwitchboardError):
    """The database refused a write; the event log stops rather than leave a gap."""

    code = "internal"


class LeaseLost(StoreError):
    """A cluster's node wrote for a project whose lease it no longer holds: the store
    refused (another node owns the project now), and nothing was written."""


class RequestRefused(SwitchboardError):
    """A request that cannot be done; ``code`` is the protocol's error code."""

    code: ErrorCode

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message, code)
