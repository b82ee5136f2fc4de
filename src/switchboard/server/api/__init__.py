"""The HTTP API for scripts (docs/http-api.md): each endpoint is a ``/ws`` request, built
from the HTTP request and handled by the same handler with the same checks; a project's
events stream as Server-Sent Events. :func:`~.routes.api_routes` mounts it."""
