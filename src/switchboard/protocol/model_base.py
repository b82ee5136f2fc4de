"""The base of the protocol's pydantic models: unknown fields are refused, and a
message once made does not change."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
