"""The sd_notify(3) protocol without libsystemd: newline-separated assignments in one
datagram to the AF_UNIX socket systemd names in $NOTIFY_SOCKET (a leading '@' is Linux's
abstract namespace). Outside systemd there is no socket and every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger("trackwatch.systemd")


def watchdog_interval(env: Mapping[str, str], pid: int | None = None) -> float | None:
    """Half of WatchdogSec (systemd's advice), when the watchdog is on for this process."""
    usec = env.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if owner and owner != str(pid if pid is not None else os.getpid()):
        return None
    return int(usec) / 1_000_000 / 2


class Notifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self._address = address or None
        self.watchdog = watchdog_interval(env)
        self._warned = False

    def send(self, *assignments: str) -> bool:
        if self._address is None:
            return False
        message = "\n".join(assignments).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message, self._address)
        except OSError as exc:
            if not self._warned:  # once: a lost socket would otherwise log every second
                log.warning("cannot notify systemd: %s", exc.strerror)
                self._warned = True
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={status}")

    def reloading(self) -> bool:
        monotonic_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", "STATUS=reloading configuration",
                         f"MONOTONIC_USEC={monotonic_usec}")  # fmt: skip

    def stopping(self) -> bool:
        return self.send("STOPPING=1", "STATUS=stopping: finishing polls and sends in flight")

    def watchdog_ping(self) -> bool:
        return self.send("WATCHDOG=1")
