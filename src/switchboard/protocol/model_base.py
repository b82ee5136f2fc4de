"""The base of the protocol's pydantic models (unknown fields are refused, and a
message once made does not change), and how a validation failure reads."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Request(Model):
    """A client's request: its ``id`` comes back in the ack or error."""

    id: StrictStr | StrictInt | None = Field(
        default=None, description="Echoed in the ack or error."
    )


ProjectKey = Annotated[str, Field(min_length=1, max_length=4096)]
"""A project's id, name or path."""


def problems(exc: ValidationError, whole: str, skip: int = 0, most: int | None = None) -> str:
    """Each problem as ``field.path: what is wrong``, joined with ``; `` (``skip``: the
    leading parts of each path to leave out, such as a union's tag; ``whole``: the name
    of a problem with the object itself; ``most``: the problems shown at most)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc'][skip:]) or whole}: {error['msg']}"
        for error in exc.errors()[:most]
    )
