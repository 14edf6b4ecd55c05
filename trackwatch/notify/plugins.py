"""Apprise's plugins loaded per scheme as the channels use them, not all at once.

Apprise imports every one of its ~130 plugins (about 300 modules, 9.5 MB the daemon keeps
for its life) the first time it reads any URL. A daemon uses one to three schemes. Its
loader (`load_modules`) imports the plugins named in the folder it is given: here a folder
naming only the plugins wanted. A scheme this table does not know loads every plugin, as
Apprise itself would: no URL is read differently, only later (issue 21: the daemon's RSS).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from apprise.manager_plugins import NotificationManager

# A scheme -> the plugin module that reads it (apprise/plugins/<name>). The test
# (tests/test_apprise_plugins.py) checks each against Apprise's own map, every plugin loaded.
PLUGIN_OF = {
    "json": "custom_json", "jsons": "custom_json",
    "form": "custom_form", "forms": "custom_form",
    "xml": "custom_xml", "xmls": "custom_xml",
    "mailto": "email", "mailtos": "email",
    "slack": "slack", "discord": "discord", "tgram": "telegram",
    "ntfy": "ntfy", "ntfys": "ntfy", "twilio": "twilio",
}  # fmt: skip

_MANAGER = NotificationManager()  # type: ignore[no-untyped-call]  # Apprise's one registry
_LOCK = threading.Lock()
_EVERY: list[bool] = []  # non-empty once every plugin is loaded


def ensure(url: str) -> None:
    """The plugin that reads `url` is loaded (every plugin, for a scheme not in PLUGIN_OF)."""
    scheme = url.partition("://")[0].strip().lower()
    if _MANAGER and scheme in _MANAGER:  # `scheme in` alone would load every plugin
        return
    with _LOCK:
        wanted = PLUGIN_OF.get(scheme)
        if wanted is not None or not _EVERY:
            _load({wanted} if wanted else _every_plugin())
        if wanted is None:
            _EVERY.append(True)  # a scheme no plugin reads is not looked for again


def ensure_each(urls: Iterable[str]) -> None:
    for url in urls:
        ensure(url)


def _every_plugin() -> set[str]:
    return {Path(name).stem for name in os.listdir(_MANAGER.module_path)}


def _load(names: set[str]) -> None:
    """Apprise's loader over a folder naming only `names` not yet loaded (it reads the names
    and imports `apprise.plugins.<name>`; a name it already has would be warned about)."""
    have = set(_MANAGER._module_map or ())
    with tempfile.TemporaryDirectory(prefix="tw-apprise-") as folder:
        for name in names - have:
            Path(folder, name).mkdir()
        _MANAGER.load_modules(path=folder, name=_MANAGER.module_name_prefix)  # type: ignore[no-untyped-call]
