"""Secure by default: no API key, no listening beyond loopback.

Bound to loopback without a key, everything works. Bound to any other address without a key, the
server refuses to start and says how to set one. The bind address is found in two ways so both
ways of serving are covered:

* at start-up, from the uvicorn server running the lifespan (``uvicorn graph_api.app:app --host
  0.0.0.0`` exits with the message before accepting a connection);
* at run time, from the process's own listening TCP sockets (Linux ``/proc``), which covers servers
  that do not run our lifespan (the app mounted into Reflex's backend, gunicorn, granian). A
  process found listening beyond loopback answers 503 with the message and shuts itself down.

Launchers that know their host (e.g. the web app's runner) call ``ensure_safe_bind(host)`` first.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from pathlib import Path
from types import FrameType

logger = logging.getLogger(__name__)

HOW_TO = (
    "set an API key first, e.g. `export SEGMENTATION_API_KEY=$(python -c 'import secrets; "
    "print(secrets.token_urlsafe(32))')`, then clients send `Authorization: Bearer <key>` to "
    "train; or bind to 127.0.0.1"
)


class UnsafeBindError(RuntimeError):
    """The server would listen beyond loopback without an API key."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(
            f"Refusing to serve on {address} without SEGMENTATION_API_KEY: anyone who can reach "
            f"it could retrain the model. To listen beyond loopback, {HOW_TO}."
        )


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; False for 0.0.0.0, :: and real addresses."""
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name that may resolve anywhere


def ensure_safe_bind(host: str, api_key: str | None, allow_insecure: bool = False) -> None:
    """Raise UnsafeBindError when ``host`` is not loopback and no key is configured."""
    if api_key or allow_insecure or is_loopback(host):
        return
    raise UnsafeBindError(host)


def uvicorn_host_from_stack() -> str | None:
    """The host of the uvicorn server whose lifespan is running (None if not under uvicorn).

    The lifespan coroutine is awaited from uvicorn's ``LifespanOn.main``, whose ``self.config``
    holds the command line's ``--host``. Unix sockets and inherited file descriptors have no host.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        config = getattr(frame.f_locals.get("self"), "config", None)
        if type(config).__module__.startswith("uvicorn"):
            if getattr(config, "uds", None) or getattr(config, "fd", None) is not None:
                return None
            host = getattr(config, "host", None)
            return host if isinstance(host, str) else None
        frame = frame.f_back
    return None


def _socket_inodes() -> set[str]:
    inodes: set[str] = set()
    fd_dir = Path("/proc/self/fd")
    for entry in fd_dir.iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _decode(hex_address: str, v6: bool) -> str:
    host_hex = hex_address.split(":")[0]
    raw = bytes.fromhex(host_hex)
    if not v6:
        return str(ipaddress.IPv4Address(raw[::-1]))
    # /proc prints IPv6 as four little-endian 32-bit words.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    address = ipaddress.IPv6Address(words)
    return str(address.ipv4_mapped or address)


def listening_addresses() -> list[str] | None:
    """Addresses this process listens on (TCP), or None where /proc is not available."""
    if not Path("/proc/self/net/tcp").exists():
        return None
    inodes = _socket_inodes()
    found: list[str] = []
    for name, v6 in (("tcp", False), ("tcp6", True)):
        path = Path("/proc/self/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            # fields: sl local_address rem_address st ... inode (index 9); 0A = LISTEN
            if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:
                found.append(_decode(fields[1], v6))
    return found


def exposed_address(api_key: str | None, allow_insecure: bool = False) -> str | None:
    """The first non-loopback address this process listens on without a key, if any."""
    if api_key or allow_insecure:
        return None
    addresses = listening_addresses() or []
    return next((a for a in addresses if not is_loopback(a)), None)
