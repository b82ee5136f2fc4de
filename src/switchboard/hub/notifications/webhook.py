"""``--notify-url``: each alert POSTed to one URL the operator chose, as JSON (any
webhook) or in ntfy's shape (``--notify-format ntfy``).

- ``json``: the body is the :class:`~switchboard.protocol.push.Alert` as JSON,
  ``Content-Type: application/json``.
- ``ntfy``: the body is the alert's text (``text/plain; charset=utf-8``), with ntfy's
  headers ``Title``, ``Priority`` (``high`` for questions, confirmations and failed
  runs, ``default`` for completed runs) and ``Tags`` (an emoji name and
  ``switchboard``). A title that is not ASCII is sent as an RFC 2047 encoded word,
  which ntfy decodes.

The POST runs off the event loop (:class:`Deliveries`), with a timeout; a redirect is
not followed, and logs show the URL's scheme and host only (its path or query often
holds a secret).
"""

import base64
import logging
from functools import partial
from typing import Literal
from urllib.parse import urlsplit

import requests

from switchboard.hub.notifications.delivery import Deliveries
from switchboard.protocol.push import Alert, AlertKind

log = logging.getLogger(__name__)

NotifyFormat = Literal["json", "ntfy"]

NTFY_PRIORITY: dict[AlertKind, str] = {
    "confirmation": "high",
    "question": "high",
    "run_failed": "high",
    "run_completed": "default",
}
NTFY_TAG: dict[AlertKind, str] = {
    "confirmation": "raised_hand",
    "question": "question",
    "run_failed": "x",
    "run_completed": "white_check_mark",
}


class WebhookSender:
    def __init__(
        self,
        url: str,
        shape: NotifyFormat,
        timeout: float,
        deliveries: Deliveries | None = None,
    ) -> None:
        self._url = url
        self._shape = shape
        self._timeout = timeout
        self._where = f"{urlsplit(url).scheme}://{urlsplit(url).netloc.rpartition('@')[2]}"
        self.deliveries = deliveries or Deliveries("webhook")

    def send(self, alert: Alert, ttl: int) -> None:
        self.deliveries.submit(partial(self._post, alert), self._answered, self._where)

    def _post(self, alert: Alert) -> int:
        """On a delivery thread: the POST; the answer's status code."""
        body, headers = ntfy_request(alert) if self._shape == "ntfy" else json_request(alert)
        try:
            with requests.Session() as session:
                response = session.post(
                    self._url,
                    data=body,
                    headers=headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                )
                return response.status_code
        except requests.RequestException as exc:  # its text may hold the URL's secret
            raise ConnectionError(type(exc).__name__) from None

    async def _answered(self, status: int) -> None:
        if status >= 300:
            log.warning("--notify-url: %s answered %d", self._where, status)

    async def aclose(self, close_timeout: float) -> None:
        await self.deliveries.aclose(close_timeout)


def json_request(alert: Alert) -> tuple[bytes, dict[str, str]]:
    return alert.model_dump_json().encode(), {"Content-Type": "application/json"}


def ntfy_request(alert: Alert) -> tuple[bytes, dict[str, str]]:
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "Title": _header_text(alert.title),
        "Priority": NTFY_PRIORITY[alert.kind],
        "Tags": f"{NTFY_TAG[alert.kind]},switchboard",
    }
    return (alert.body or alert.title).encode(), headers


def _header_text(text: str) -> str:
    """A header value: ASCII as it is, anything else as an RFC 2047 encoded word."""
    flat = " ".join(text.split())
    if flat.isascii():
        return flat
    return f"=?UTF-8?B?{base64.b64encode(flat.encode()).decode()}?="
