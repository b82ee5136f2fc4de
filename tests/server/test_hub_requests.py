"""The ``/ws`` dispatch table: every client message has exactly one handler."""

from typing import get_args

from switchboard.protocol.messages import CLIENT_TYPES, ClientMessage
from switchboard.server.hub_requests import HANDLERS, PRODUCER_REQUESTS


def test_every_client_message_type_has_a_handler() -> None:
    models = get_args(get_args(ClientMessage)[0])
    assert set(HANDLERS) == set(models)
    handled = {get_args(model.model_fields["type"].annotation)[0] for model in HANDLERS}
    assert handled == CLIENT_TYPES
    assert handled >= PRODUCER_REQUESTS
