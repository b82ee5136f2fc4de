"""Whether the agent process up can serve the next run: it is alive and current, and
runs with the run's options, or (only while background work would die with a restart)
can switch to them in place."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from switchboard.hub.turn import LiveAgent, OptionsKey

log = logging.getLogger(__name__)

MODE_SWITCH_SECONDS = 10.0


async def reusable(process: LiveAgent, key: OptionsKey) -> bool:
    """Whether ``process`` can serve a run with options ``key``."""
    if process.agent.returncode is not None or process.retired:
        return False
    if key == process.options_key:
        return True
    if not process.agent.background_pending():
        return False
    return await _switch_in_place(process, key)


async def _switch_in_place(process: LiveAgent, key: OptionsKey) -> bool:
    (model, mode), (had_model, had_mode) = key, process.options_key
    if (model is None and had_model is not None) or (mode is None and had_mode is not None):
        return False  # "the agent's default" cannot be asked for in place
    agent = process.agent
    if model != had_model and not await within(MODE_SWITCH_SECONDS, agent.set_model(model)):
        return False
    if mode != had_mode and not await within(
        MODE_SWITCH_SECONDS, agent.set_permission_mode(str(mode))
    ):
        return False
    process.options_key = key
    log.info("switched agent pid=%s to %s in place (background work)", agent.pid, key)
    return True


async def within(seconds: float, switching: Coroutine[Any, Any, bool]) -> bool:
    """Whether the agent switched within ``seconds`` (no answer in time: it did not)."""
    try:
        async with asyncio.timeout(seconds):
            return await switching
    except TimeoutError:
        return False
