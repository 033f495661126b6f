"""Who administers what. Adapters (the example app, other front ends, the CLI) ask here.

* **Tool administrators** administer the whole tool: every registration, invites, the outbox,
  provider settings. They are the command line, and the people named in ``[tool] admins`` (an
  issuer + ``sub`` pair, since a ``sub`` is unique only within its platform) when they launch.
* **Institution administrators** (an institution or system ``Administrator`` role sent by the
  LMS) see the registration and deployment their launch came through, read-only, and nothing
  else: another platform's registration, or another deployment of a shared registration (Canvas
  Cloud schools share one issuer, and an inherited developer key one client id), stays hidden.
  They never add or remove registrations: an issuer may be shared, so nobody owns it through a
  launch.
* A **course (context) administrator** is an instructor of that course and administers nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from blendkit.config import ToolAdmin
from blendkit.errors import AccessDenied
from blendkit.lti._launch import Launch
from blendkit.lti._platforms import Platform

__all__ = ["Administrator", "administrator_for"]


class Administrator(BaseModel):
    """An actor allowed into administration, and the reach of what they administer."""

    model_config = ConfigDict(frozen=True)

    name: str
    """Who, as recorded (e.g. on invites): a CLI user, or ``sub`` at ``issuer``."""
    tool_wide: bool
    issuer: str | None = None
    client_id: str | None = None
    deployment_id: str | None = None

    @classmethod
    def command_line(cls, who: str) -> Administrator:
        """Whoever runs the ``blendkit`` command: they hold the database, so the whole tool."""
        return cls(name=who, tool_wide=True)

    def owns(self, platform: Platform) -> bool:
        """True when ``platform`` is within this administrator's reach."""
        return self.tool_wide or (
            (platform.issuer, platform.client_id) == (self.issuer, self.client_id)
        )

    def visible(self, platforms: Iterable[Platform]) -> list[Platform]:
        """The registrations this administrator may see; an institution administrator sees only
        their own, with only their own deployment."""
        if self.tool_wide:
            return list(platforms)
        return [
            p.model_copy(
                update={
                    "deployment_ids": tuple(d for d in p.deployment_ids if d == self.deployment_id)
                }
            )
            for p in platforms
            if self.owns(p)
        ]

    def require_tool_wide(self, action: str) -> None:
        """Refuse ``action`` unless this is a tool administrator."""
        if not self.tool_wide:
            raise AccessDenied(
                f"{action} is for the tool's own administrators (the command line, or people "
                "named in [tool] admins); an LMS administrator manages only their own "
                "registration",
                code="admin.tool_admins_only",
            )

    def check_add(self, platform: Platform) -> None:
        """May this administrator add ``platform``? Only tool administrators add registrations:
        an issuer can be shared by several institutions, so no launch owns one."""
        self.require_tool_wide(f"adding a registration for issuer {platform.issuer!r}")

    def check_remove(self, issuer: str, client_id: str) -> None:
        """May this administrator remove the registration ``issuer`` + ``client_id``? Only a tool
        administrator may; checked without looking the registration up, so a refusal tells an
        institution administrator nothing about other platforms."""
        if not self.tool_wide and (issuer, client_id) != (self.issuer, self.client_id):
            raise AccessDenied(
                "that registration is not the one your launch came through; only the tool's "
                "own administrators can see or change other registrations",
                code="admin.foreign_registration",
            )
        self.require_tool_wide(f"removing the registration of issuer {issuer!r}")


def _matches(admin: ToolAdmin, launch: Launch) -> bool:
    return (
        admin.issuer == launch.issuer
        and admin.sub == launch.user.sub
        and admin.client_id in (None, launch.client_id)
    )


def administrator_for(launch: Launch, tool_admins: Iterable[ToolAdmin]) -> Administrator | None:
    """What ``launch``'s user may administer: the whole tool (named in ``tool_admins``), their
    own registration and deployment (institution or system administrator), or nothing (None)."""
    name = f"{launch.user.sub} at {launch.issuer}"
    if any(_matches(admin, launch) for admin in tool_admins):
        return Administrator(name=name, tool_wide=True)
    if launch.is_institution_admin:
        return Administrator(
            name=name,
            tool_wide=False,
            issuer=launch.issuer,
            client_id=launch.client_id,
            deployment_id=launch.deployment_id,
        )
    return None
