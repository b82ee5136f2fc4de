"""What a project session is given: its settings, and the parts of the hub it works with."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from switchboard.agents.base import AgentDriver
from switchboard.hub.back_channel import BackChannel
from switchboard.hub.bus import EventBus
from switchboard.hub.confirmations import ConfirmationBook
from switchboard.hub.processes import ProcessRegistry
from switchboard.hub.runs import Run
from switchboard.store.ports import ProjectStore


@dataclass(frozen=True, slots=True)
class SessionSettings:
    kill_grace: float
    interrupt_grace: float
    idle_timeout: float
    background_timeout: float
    process_containment: str
    """How agents are confined (auto, cgroup, marker): see ``--process-containment``."""


FollowUpStarter = Callable[[], Awaitable[Run | None]]
"""Records a run for a turn the CLI began by itself; None when the hub is closing."""


@dataclass(frozen=True, slots=True)
class SessionServices:
    """The parts of the hub a session works with."""

    agents: AgentDriver
    bus: EventBus
    projects: ProjectStore
    registry: ProcessRegistry
    confirmations: ConfirmationBook
    back_channel: BackChannel
    follow_up: FollowUpStarter
    changed: Callable[[], None] = lambda: None
    """Something clients see changed (the number of background tasks)."""
