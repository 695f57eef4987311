"""The API key: state-changing mutations need ``Authorization: Bearer <key>`` when one is set."""

from __future__ import annotations

import hmac


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_authorized(api_key: str | None, authorization: str | None) -> bool:
    """True when no key is configured, or the header carries the key.

    The comparison runs in constant time (``hmac.compare_digest``), so response timing tells an
    attacker nothing about how much of a guess was right.
    """
    if api_key is None:
        return True
    token = bearer_token(authorization)
    if token is None:
        return False
    return hmac.compare_digest(token.encode(), api_key.encode())
