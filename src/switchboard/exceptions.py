"""Exceptions raised by Switchboard.

Hierarchy::

    SwitchboardError
    ├── ConfigError            a setting is missing or malformed
    ├── ClaudeNotFoundError    no Claude Code CLI could be located
    ├── AgentError             a child agent process misbehaved
    │   ├── AgentSpawnError    the process could not be started
    │   └── AgentGoneError     the process exited while we were writing to it
    ├── ControlProtocolError   a control-protocol message was malformed or unexpected
    └── StoreError             the database refused a write
"""


class SwitchboardError(Exception):
    """Base class of every error Switchboard raises on purpose."""


class ConfigError(SwitchboardError):
    """A setting is missing or malformed."""


class ClaudeNotFoundError(SwitchboardError):
    """No Claude Code CLI binary could be located."""


class AgentError(SwitchboardError):
    """A child agent process misbehaved."""


class AgentSpawnError(AgentError):
    """The agent process could not be started."""


class AgentGoneError(AgentError):
    """The agent process is no longer accepting input."""


class ControlProtocolError(SwitchboardError):
    """A control-protocol message was malformed or unexpected."""


class StoreError(SwitchboardError):
    """The database refused a write; the event log stops rather than leave a gap."""
