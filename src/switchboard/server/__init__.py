"""The ASGI application, its endpoints, security checks and process lifecycle."""
