"""Closing a project on this server: its work stopped, what the hub holds of it
forgotten, and every client told (``project_removed``). Used when a project is removed
here, and on a cluster's node when another node removed it."""

from collections.abc import Awaitable, Callable, Iterable

from switchboard.hub.confirmations import ConfirmationBook
from switchboard.hub.registry import ProjectRegistry
from switchboard.protocol.messages import ProjectRemoved
from switchboard.store.records import ProjectRecord


async def close_project(
    registry: ProjectRegistry,
    confirmations: ConfirmationBook,
    record: ProjectRecord,
    forget: Iterable[Callable[[str], None]],
    delete: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Stop the project's runs and CLI, expire its confirmations, ``delete`` it from
    the store (when it is removed here), and ``forget`` it (each part of the hub that
    keeps something per project)."""
    state = registry.state(record.id)
    if state is not None:
        state.removing = True  # from now on, requests for it get unknown_project
        if state.running is not None:
            state.running.cancel_requested.set()
        state.wake.set()
        async with state.changing:  # requests already under way finish first
            state.queue.clear()
            await state.session.close()
            await state.stop_tasks()
            await confirmations.expire_where("ended", project_id=record.id)
            if delete is not None:
                await delete()
        registry.forget(record.id)
    for forgetting in forget:
        forgetting(record.id)
    registry.notify(ProjectRemoved(project=record.id))
