"""The tenant of a launch: one deployment of one registration (issuer + client id + deployment).

An issuer alone does not separate institutions: Canvas Cloud signs every school's launches as
``https://canvas.instructure.com``, and an inherited developer key gives every school the same
client id. Only the deployment id tells two schools apart, so data that belongs to an
institution (courses and everything hanging off them) is keyed by all three parts together.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Tenant"]


class Tenant(BaseModel):
    """Issuer, client id and deployment id of a launch, as one value that cannot lose a part."""

    model_config = ConfigDict(frozen=True)

    issuer: str = Field(min_length=1, max_length=512)
    client_id: str = Field(min_length=1, max_length=255)
    deployment_id: str = Field(min_length=1, max_length=255)

    @property
    def key(self) -> str:
        """A short, stable id of this deployment (the same in every process and release).

        The first 24 hex digits of SHA-256 over the three parts encoded as a JSON array, so no
        choice of characters in one part can make two tenants collide by concatenation.
        Computed on each use (not cached): ``model_copy(update=...)`` must never keep the key
        of the tenant it was copied from.
        """
        parts = json.dumps([self.issuer, self.client_id, self.deployment_id])
        return hashlib.sha256(parts.encode()).hexdigest()[:24]

    def __str__(self) -> str:
        return f"{self.issuer} client {self.client_id} deployment {self.deployment_id}"
