"""The API key a user typed, shared by every page of one browser session.

The key lives in `_api_key`, a backend-only variable (leading underscore): Reflex never sends it
to the browser, and the in-memory state manager never writes it to disk. A page that gets
`Unauthorized` opens the dialog (`_ask`); the page's own `submit_key` stores the key here and
retries what was refused.
"""

from __future__ import annotations

import reflex as rx


class AuthState(rx.State):
    """Whether the key dialog is open, why, and (backend-only) the key."""

    key_dialog_open: bool = False
    key_reason: str = ""

    _api_key: str = ""

    @rx.event
    def set_key_dialog(self, is_open: bool) -> None:
        """Open or close the dialog (Escape, the close button)."""
        self.key_dialog_open = is_open

    def _ask(self, reason: str) -> None:
        """Forget a refused key and ask for one, saying what it is for."""
        self._api_key = ""
        self.key_reason = reason
        self.key_dialog_open = True

    def _accept(self, form_data: dict) -> None:
        """Keep the key the dialog's form sent, and close the dialog."""
        self._api_key = str(form_data.get("api_key", "")).strip()
        self.key_dialog_open = False

    def _key(self) -> str | None:
        """The key to send, or None."""
        return self._api_key or None
