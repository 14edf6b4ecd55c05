"""Apprise's plugins loaded per scheme (trackwatch.notify.plugins), not all ~130 of them in
every daemon (issue 21: the daemon's RSS). Every URL reads as Apprise alone reads it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import apprise
from apprise.manager_plugins import NotificationManager

from trackwatch.notify import plugins

PROBE = """
import json, sys
import apprise
from trackwatch.notify import plugins
read = []
for url in sys.argv[1:]:
    plugins.ensure(url)
    read.append(apprise.Apprise.instantiate(url) is not None)
loaded = sorted(m for m in sys.modules if m.startswith("apprise.plugins."))
print(json.dumps({"read": read, "loaded": loaded}))
"""


def _fresh(*urls: str) -> dict[str, Any]:
    """In a fresh interpreter: which of `urls` Apprise reads after `ensure`, and the plugin
    modules then loaded."""
    done = subprocess.run([sys.executable, "-c", PROBE, *urls], capture_output=True,
                          text=True, timeout=120, check=True)  # fmt: skip
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_a_channels_scheme_loads_its_plugin_and_not_the_others() -> None:
    found = _fresh("json://127.0.0.1:8080/hook", "mailtos://user:pw@mail.example.com")
    assert found["read"] == [True, True]
    names = {m.split(".")[2] for m in found["loaded"]}
    assert names <= {"base", "custom_json", "email"}  # and their submodules, nothing else


def test_a_scheme_the_table_does_not_know_loads_every_plugin_as_apprise_would() -> None:
    found = _fresh("pover://user@token", "discrod://not-a-service")
    assert found["read"] == [True, False]  # Pushover read; a typo refused, as before
    assert len({m.split(".")[2] for m in found["loaded"]}) > 100


def test_every_scheme_in_the_table_is_read_by_the_plugin_it_names() -> None:
    plugins.ensure("pover://user@token")  # every plugin: Apprise's own map
    schemes = NotificationManager()  # type: ignore[no-untyped-call]
    for scheme, module in plugins.PLUGIN_OF.items():
        assert schemes[scheme].__module__.split(".")[2] == module, scheme
    assert apprise.Apprise.instantiate("tgram://123456789:abcdefg_hijklmnop/12315544/")
