"""The one mechanism that guards state-changing mutations: a Strawberry permission class.

Every mutation that changes state lists ``permission_classes=[IsAuthorized]``
(``tests/api/test_permissions.py`` fails when one does not). Strawberry runs the check in its
``PermissionExtension`` before the resolver; a refusal raises :class:`NotAuthorizedError` from the
documented ``on_unauthorized`` hook, and the schema's exception handler
(``graph_api.errors.UnauthorizedHandler``) turns it into the contract's ``Unauthorized`` member
of the field's result union, so clients read ``__typename`` instead of a top-level error.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from graph_api.context import Info


class NotAuthorizedError(PermissionError):
    """A state-changing mutation was called without the server's API key."""


class IsAuthorized(BasePermission):
    """With ``SEGMENTATION_API_KEY`` set, the caller sends ``Authorization: Bearer <key>``."""

    message = "This server needs an API key for this operation: send `Authorization: Bearer <key>`."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.authorized

    def on_unauthorized(self) -> None:
        raise NotAuthorizedError(self.message)
