"""A project whose oldest events a retention policy deleted, opened in the web UI (in
Debian's Chromium, against a real server): the page says which events are gone and
shows the rest, instead of an error or a silent gap."""

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.conftest import ServerFactory
from tests.server.test_retention import trimmed_project
from tests.web.pages import browsing

pytestmark = pytest.mark.timeout(120)


async def test_a_trimmed_history_opens_from_the_oldest_event_kept(
    servers: ServerFactory, project_dir: Path
) -> None:
    server, project, _ = await trimmed_project(servers, project_dir)
    first, head = project["first_seq"], project["head"]
    assert first > 1
    async with browsing(server) as pages:
        page = await pages.open()
        conversation = page.locator(f".conversation[data-project='{project['id']}']")
        await expect(conversation).to_have_attribute("data-last-seq", str(head))
        note = conversation.locator(".trimmed")
        await expect(note).to_have_text(
            f"Older history (events 1\u2013{first - 1}) was deleted by this project's retention "
            "policy."
        )
        await expect(page.locator(".toast")).to_be_hidden()  # no error shown
