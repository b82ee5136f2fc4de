"""Read a server's ``GET /metrics``: fetch it, parse it, look figures up."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.support.server import RunningServer


@dataclass(frozen=True)
class Scrape:
    """One ``/metrics`` answer: its text, and its samples by name."""

    text: str

    @property
    def samples(self) -> list[Sample]:
        return [s for f in text_string_to_metric_families(self.text) for s in f.samples]

    def exposed_names(self) -> list[str]:
        """Each metric as a scraper names it (counters with ``_total``), without the
        ``_created`` timestamps prometheus_client adds to counters and histograms."""
        families = list(text_string_to_metric_families(self.text))
        timed = {f"{f.name}_created" for f in families if f.type in ("counter", "histogram")}
        return [
            f"{f.name}_total" if f.type == "counter" else f.name
            for f in families
            if f.name not in timed
        ]

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels``; 0.0 when there is none (a
        labelled counter that has not counted yet has no sample)."""
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) <= 1, (name, labels, found)
        return found[0] if found else 0.0


def scrape(server: RunningServer, token: str | None = None) -> Scrape:
    """``/metrics`` with ``token`` (the server's by default), as a bearer token."""
    response = httpx.get(
        f"{server.url}/metrics",
        headers={"Authorization": f"Bearer {token or server.token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(response.text)


async def scrape_until(
    server: RunningServer, holds: Callable[[Scrape], bool], timeout: float = 20.0
) -> Scrape:
    """Scrape until ``holds`` (the server counts some things just after clients hear
    of them); the scrape that shows it (TimeoutError after ``timeout``)."""
    async with asyncio.timeout(timeout):
        while True:
            found = await asyncio.to_thread(scrape, server)
            if holds(found):
                return found
            await asyncio.sleep(0.1)
