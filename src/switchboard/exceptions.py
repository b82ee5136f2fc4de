"""Exceptions raised by Switchboard.

Hierarchy::

    SwitchboardError
    ├── ConfigError            a setting is missing or malformed
    ├── AgentError             a child agent process misbehaved
    │   ├── ClaudeNotFoundError  no Claude Code CLI could be located
    │   ├── AgentSpawnError    the process could not be started
    │   └── AgentGoneError     the process exited while we were writing to it
    ├── ControlProtocolError   a control-protocol message was malformed or unexpected
    └── StoreError             the database refused a write
"""


class SwitchboardError(Exception):
    """Base class of every error Switchboard raises on purpose."""


class ConfigError(SwitchboardError):
    """A setting is missing or malformed."""


class AgentError(SwitchboardError):
    """A child agent process misbehaved."""


class ClaudeNotFoundError(AgentError):
    """No Claude Code CLI binary could be located."""


class AgentSpawnError(AgentError):
    """The agent process could not be started."""


class AgentGoneError(AgentError):
    """The agent process is no longer accepting input."""


class ControlProtocolError(SwitchboardError):
    """A control-protocol message was malformed or unexpected."""


class StoreError(SwitchboardError):
    """The database refused a write; the event log stops rather than leave a gap."""
