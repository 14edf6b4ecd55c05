"""`trackwatch run` as a service: signals, systemd notifications, and the drain on stop.

- READY=1 once the loops run, STATUS= with the counts every STATUS_EVERY seconds, WATCHDOG=1
  from the event loop (heartbeat.py), STOPPING=1 on SIGTERM or SIGINT.
- SIGTERM: polls and sends in flight finish and are stored; nothing new starts. Whatever is
  still running after `stop_timeout_seconds` (keep it under the unit's TimeoutStopSec) is
  cancelled, and it is polled or sent again after the next start.
- SIGHUP: the configuration file (and its policy files and secret files) is read again. A
  broken one is refused with its errors logged, and the daemon runs on unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from trackwatch.app import Daemon, open_daemon
from trackwatch.clock import Clock
from trackwatch.config import ConfigError, Settings, load_settings
from trackwatch.logs import configure as configure_logging
from trackwatch.sdnotify import Notifier

log = logging.getLogger("trackwatch")
STATUS_EVERY = 30.0


async def status_line(daemon: Daemon) -> str:
    figures = await daemon.store.figures(daemon.clock.now())
    failing = sorted(daemon.poller.health.failing)
    text = (f"{figures.polled} shipments polled, {sum(figures.open_alerts.values())} open "
            f"alerts, {figures.notices['pending']} notices pending, "
            f"{figures.notices['dead']} dead")  # fmt: skip
    return text + (f"; failing: {', '.join(failing)}" if failing else "")


class Service:
    def __init__(self, daemon: Daemon, notifier: Notifier, config: Path | None) -> None:
        self.daemon = daemon
        self.notifier = notifier
        self.config = config
        self._tasks: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        if not self.daemon.stopping.is_set():
            log.info("stopping: finishing polls and sends in flight")
            self.notifier.stopping()
        self.daemon.stop()

    def hang_up(self) -> None:
        task = asyncio.get_running_loop().create_task(self.reload())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload(self) -> None:
        self.notifier.reloading()
        try:
            settings = load_settings(self.config)
        except ConfigError as exc:
            log.error("reload refused, the running configuration stays: %s",
                      "; ".join(exc.problems))  # fmt: skip
            self.notifier.ready(await status_line(self.daemon))
            return
        later = await self.daemon.reload(settings)
        if self.daemon.desk is not None:
            self.daemon.desk.settings = settings
        configure_logging(settings.daemon.log_level, settings)
        log.info("configuration reloaded: %d stores", len(settings.stores))
        if later:
            log.warning("changed, applied at the next restart: %s", ", ".join(later))
        self.notifier.ready(await status_line(self.daemon))

    async def _report_status(self) -> None:
        while not self.daemon.stopping.is_set():
            try:
                await asyncio.wait_for(self.daemon.stopping.wait(), STATUS_EVERY)
            except TimeoutError:
                self.notifier.status(await status_line(self.daemon))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self.hang_up)
        work = asyncio.create_task(self.daemon.run())
        # The heartbeat (and its watchdog pings) outlives the loops: a drain may take longer
        # than WatchdogSec.
        finished = asyncio.Event()
        beat = asyncio.create_task(self.daemon.heartbeat.run(finished))
        status = asyncio.create_task(self._report_status())
        await asyncio.sleep(0)  # the loops' first passes are under way
        settings = self.daemon.settings
        log.info("trackwatch running: %d stores, carriers %s", len(settings.stores),
                 ", ".join(self.daemon.carrier_names) or "none")  # fmt: skip
        self.notifier.ready(await status_line(self.daemon))
        stopping = asyncio.create_task(self.daemon.stopping.wait())
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            await self._drain(work, settings.daemon.stop_timeout_seconds)
        self.daemon.stop()  # also when a loop crashed: the status task ends with it
        stopping.cancel()
        finished.set()
        await asyncio.gather(status, beat)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        work.result()  # a loop that crashed ends the process with its error (Restart=on-failure)
        log.info("trackwatch stopped")

    async def _drain(self, work: asyncio.Task[None], seconds: float) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(work), seconds)
        except TimeoutError:
            log.error("work still running %gs after the stop request was cancelled; it is "
                      "polled or sent again after the next start", seconds)  # fmt: skip
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)


async def run_forever(
    settings: Settings, clock: Clock, config: Path | None, notifier: Notifier | None = None
) -> None:
    """`trackwatch run`: the daemon until SIGTERM or SIGINT."""
    notifier = notifier or Notifier()
    async with open_daemon(settings, clock, notifier=notifier) as daemon:
        await Service(daemon, notifier, config).run()
