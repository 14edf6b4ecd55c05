"""Importing a CSV file from the console, as `trackwatch import` does (the same formats,
checks and store method): the file streamed to a temporary file as it arrives (never held
in memory, and beyond the API's body limit), imported, and the report shown: how many rows
were added, already watched and bad, each bad row's every problem, and the warnings. A
store's staff import into their own store only: rows naming another are bad rows.

The form's fields come before its file (the browser sends them in the form's order), so the
CSRF token is checked before a byte of the file is read."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from aiohttp import BodyPartReader, web

from trackwatch.errors import InputError
from trackwatch.importing.presets import PRESETS
from trackwatch.store.records import StaffAction
from trackwatch.web.console.desk import PREFIX, Viewer
from trackwatch.web.console.erasure import Erasure
from trackwatch.web.console.sessions import csrf_ok

if TYPE_CHECKING:
    from trackwatch.importing.run import ImportOptions

T = TypeVar("T")
IMPORT = f"{PREFIX}/import"
MAX_BYTES = 64 * 1024 * 1024  # about 400,000 rows of an export
FIELD_BYTES = 256  # the longest field: the CSRF token, a store id, a format name
SHOWN = 200  # bad rows and warnings listed; the count says how many more
FIELDS = ("csrf", "store", "format", "dry_run")


class Upload(Exception):
    """The upload is refused as a whole (status and what to say)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


class Uploads(Erasure):
    def upload_routes(self) -> list[web.RouteDef]:
        return [web.get(IMPORT, self.import_form), web.post(IMPORT, self.import_file)]

    def _import_page(self, viewer: Viewer, status: int = 200, **shown: object) -> web.Response:
        context = {"report": None, "bad": [], "warnings": [], "problem": None, **shown}
        return self.render("import.j2", viewer.session, status, viewer=viewer.account,
                           stores=self._stores(viewer), formats=sorted(PRESETS),
                           **context)  # fmt: skip

    async def import_form(self, request: web.Request) -> web.Response:
        return self._import_page(await self.viewer(request))

    async def import_file(self, request: web.Request) -> web.Response:
        viewer = await self.viewer(request)
        with tempfile.TemporaryDirectory(prefix="trackwatch-import-") as tmp:
            path = Path(tmp) / "upload.csv"
            try:
                form = await _receive(request, viewer, path)
                options = self._options(viewer, form)
            except Upload as refused:
                if refused.status == 403:
                    raise web.HTTPForbidden(text=refused.text) from None
                return self._import_page(viewer, refused.status, problem=refused.text)
            return await self._run(viewer, path, options)

    def _options(self, viewer: Viewer, form: Mapping[str, str]) -> ImportOptions:
        # The import machinery (and tqdm) loads on the first upload, not in every daemon:
        # most never use this page, and it would stay resident (issue 21: the daemon's RSS).
        from trackwatch.importing.run import ImportOptions  # noqa: PLC0415

        chosen = form.get("store") or None
        if chosen is not None and not viewer.may_see(chosen):
            raise Upload(403, "store: not one of the stores you may import into")
        if viewer.account.stores is not None:
            chosen = viewer.account.store  # staff: rows of exports are their store's
        preset = PRESETS.get(form.get("format", ""))
        return ImportOptions(preset, chosen, None, form.get("dry_run") == "yes",
                             viewer.account.stores)  # fmt: skip

    async def _run(self, viewer: Viewer, path: Path, options: ImportOptions) -> web.Response:
        from trackwatch.importing.run import import_csv  # noqa: PLC0415 (see _options)

        bad: list[tuple[int, InputError]] = []
        warnings: list[tuple[int, str]] = []
        now = self.now()
        try:
            report = await import_csv(
                path, self.desk.report.settings, self.desk.store, now, progress=False,
                options=options, on_bad=lambda line, e: _keep(bad, (line, e)),
                on_warning=lambda line, text: _keep(warnings, (line, text)),
            )  # fmt: skip
        except InputError as exc:
            problems = "; ".join(f"{p.field}: {p.reason}" for p in exc.problems)
            return self._import_page(viewer, 400, problem=problems)
        if not options.dry_run:
            await self.desk.store.record_action(StaffAction(
                now, viewer.account.login, options.store or "*", "import",
                detail=f"{report.format}: {report.summary()}"[:500]))  # fmt: skip
            self.desk.report.wake()
        return self._import_page(viewer, report=report, bad=bad, warnings=warnings)


def _keep(shown: list[T], item: T) -> None:
    if len(shown) < SHOWN:
        shown.append(item)


async def _receive(request: web.Request, viewer: Viewer, path: Path) -> dict[str, str]:
    """The form's fields, the file written to `path`; Upload when refused."""
    if not request.content_type.startswith("multipart/"):
        raise Upload(400, "file: send the form as multipart/form-data")
    reader = await request.multipart()
    form: dict[str, str] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise Upload(400, "file: nested multipart is not a CSV file")
        if part.name == "file":
            if not csrf_ok(viewer.session, form.get("csrf")):
                raise Upload(403, "This form has expired or was not sent from the console; "
                             "reload the page and try again.")  # fmt: skip
            await _save(part, path)
            return form
        if part.name in FIELDS:
            form[part.name] = await _short(part)
    raise Upload(400, "file: no file was sent")


async def _short(part: BodyPartReader) -> str:
    """A form field's text, read no further than any field of the form can be long."""
    value = b""
    while chunk := await part.read_chunk(1024):  # aiohttp reads at least a boundary's length
        value += chunk
        if len(value) > FIELD_BYTES:
            raise Upload(400, f"{part.name}: longer than any value this form takes")
    return value.decode("utf-8", "replace").strip()


async def _save(part: BodyPartReader, path: Path) -> None:
    written = 0
    with path.open("wb") as out:
        while chunk := await part.read_chunk(1 << 16):
            written += len(chunk)
            if written > MAX_BYTES:
                raise Upload(413, f"file: larger than {MAX_BYTES // 2**20} MiB; import it with "
                             "`trackwatch import` on the server")  # fmt: skip
            out.write(chunk)
    if written == 0:
        raise Upload(400, "file: the file is empty")


__all__ = ["IMPORT", "Uploads"]
