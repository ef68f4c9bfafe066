"""The Secrets screen: every likely credential in the history, masked; Enter shows its event, x redacts.

The scan runs in a thread (the first one reads every event: seconds on a
large history) and says how far it got; what it found is listed with the
session's title (masked too), where it is and the secret masked.  Redacting
asks first, saying that it cannot be undone, then rewrites the history (see
:mod:`~dasshh_history.services.secrets`); the app's search index is closed
meanwhile (its builder stopped), the cache updated in place, and the index
opened again when next used, without a rebuild.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Label, Static

from dasshh_history.domain.secrets import KINDS, mask_text
from dasshh_history.domain.text import one_line
from dasshh_history.services.secrets import Finding, Redacted, SecretsService, TrashFinding
from dasshh_history.widgets.fitted_table import fill_fitted


class ConfirmRedactScreen(ModalScreen[bool]):
    """Says how many secrets would be replaced, and that it cannot be undone; ``True`` to redact."""

    BINDINGS = [
        Binding("y", "confirm", "Redact"),
        Binding("n,escape", "cancel", "Keep"),
    ]

    def __init__(self, summary: str) -> None:
        super().__init__()
        self._summary = summary

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog danger"):
            yield Label("Redact secrets?", classes="dialog-title")
            yield Static(Text(self._summary), id="redact-summary", classes="dialog-session")
            yield Label("Each becomes [REDACTED:kind] in the history.", markup=False)
            yield Label("This cannot be undone: nothing goes to the trash.", id="redact-warning")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Redact", variant="error", id="redact")
                yield Button("Keep", id="keep")
            yield Label("y redacts · n or escape keeps them", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "redact")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The app's keys for the browser (rename, delete...) have nothing to act on here: not offered in the footer.
        return hasattr(self, f"action_{action}")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def summary(findings: list[Finding | TrashFinding]) -> str:
    kept = [f for f in findings if isinstance(f, Finding)]
    trashed = len(findings) - len(kept)
    events = len({f.event_rowid for f in kept if f.event_rowid is not None})
    titles = len({f.session_id for f in kept if f.event_rowid is None})
    return (f"{len(kept):,} likely secret{'s' * (len(kept) != 1)} in {events:,} "
            f"event{'s' * (events != 1)} and {titles:,} title{'s' * (titles != 1)}"
            + (f", and {trashed:,} in the trash" if trashed else ""))


class SecretsScreen(Screen[Finding | None]):
    """Lists the findings; dismisses with the finding to show (None: back)."""

    BINDINGS = [
        Binding("escape,q,P", "close", "Back"),
        Binding("enter", "open", "Show", priority=True),
        Binding("x", "redact", "Redact all"),
    ]

    def __init__(self, service: SecretsService, titles: Callable[[list[str]], dict[str, str | None]],
                 redact: Callable[[list[Finding | TrashFinding]], Redacted]) -> None:
        super().__init__()
        self.service = service
        self._titles = titles
        self._redact = redact
        self.findings: list[Finding | TrashFinding] = []

    def compose(self) -> ComposeResult:
        yield Label("Scanning for secrets…", id="secrets-status")
        yield DataTable(id="secrets-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Session", "Where", "Kind", "Secret")
        self.scan()

    @work(thread=True, exclusive=True, group="secrets")
    def scan(self) -> None:
        def progress(done: int, total: int) -> None:
            if total:
                self.app.call_from_thread(self._status, f"Scanning for secrets: {done:,} of {total:,} events")

        self.service.scan(progress)
        findings: list[Finding | TrashFinding] = [*self.service.findings(), *self.service.trash_findings()]
        titles = self._titles(sorted({f.session_id for f in findings if isinstance(f, Finding)}))
        self.app.call_from_thread(self._show, findings, titles)

    def _status(self, text: str) -> None:
        self.query_one("#secrets-status", Label).update(Text(text))

    def _show(self, findings: list[Finding], titles: dict[str, str | None]) -> None:
        self.findings = findings
        table = self.query_one(DataTable)
        rows = []
        for f in findings:
            trashed = isinstance(f, TrashFinding)
            title = one_line(mask_text((f.title if trashed else titles.get(f.session_id)) or f.session_id), 40)
            where = "title" if f.event_id is None and f.field == "title" else f.field
            where = f"trash · {where}" if trashed else where
            rows.append((Text(title), Text(where), Text(KINDS.get(f.kind, f.kind)), Text(f.masked)))
        fill_fitted(table, rows)
        self._status(f"{summary(findings)} (masked) · Enter shows it · x redacts them all"
                     if findings else "No likely secret found")
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The app's keys for the browser (``screen.rename``...) have nothing to act on here: not offered.
        return hasattr(self, f"action_{action}")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.findings and 0 <= table.cursor_row < len(self.findings):
            finding = self.findings[table.cursor_row]
            if isinstance(finding, TrashFinding):  # not in the history: nothing to show there
                self.app.notify("That session is in the trash (deleted): x redacts it there too", markup=False)
                return
            self.dismiss(finding)

    def action_redact(self) -> None:
        if not self.findings:
            return
        findings = list(self.findings)

        def answered(yes: bool | None) -> None:
            if yes:
                self._status("Redacting…")
                self.redact(findings)

        self.app.push_screen(ConfirmRedactScreen(summary(findings)), answered)

    @work(thread=True, exclusive=True, group="secrets")
    def redact(self, findings: list[Finding]) -> None:
        try:
            done = self._redact(findings)
        except Exception as exc:  # noqa: BLE001 - said on screen; the history is as it was (one transaction)
            self.app.call_from_thread(self.app.notify, f"Redaction failed: {exc}", severity="error", markup=False)
            self.app.call_from_thread(self._status, "Redaction failed: nothing was changed")
            return
        self.app.call_from_thread(self.app.notify, f"Redacted {done.secrets:,} secrets", markup=False)
        self.app.call_from_thread(self.scan)


def open_secrets(app, client, index, reader, browser) -> None:  # the app and its parts (app is not imported here)
    """Push the Secrets screen for the app's history; Enter there highlights the session in the list."""
    if isinstance(app.screen, SecretsScreen):
        return
    if client.db_path is None:
        app.notify("Secrets need a history file", severity="warning")
        return
    service = SecretsService(client, index.cache_path, trash_dir=app.actions.trash.directory)

    def titles(ids: list[str]) -> dict[str, str | None]:
        return {s.id: s.detail for s in reader.list_summaries_by_ids(ids)}

    def redact(findings: list[Finding | TrashFinding]) -> Redacted:  # in a worker thread
        index.close()  # its builder stopped; the cache is updated in place (or discarded): opened again when next used
        done = service.redact([f for f in findings if isinstance(f, Finding)], client)
        if done.secrets:
            app.call_from_thread(browser.reload_timeline)  # the session shown may hold what was redacted
        if any(isinstance(f, TrashFinding) for f in findings):
            done = replace(done, secrets=done.secrets + service.redact_trash()[0])
        return done

    def shown(finding: Finding | None) -> None:
        service.close()
        if finding is None:
            return
        if browser.search_query:
            app.notify("Clear the search (escape) to see that session in the list", markup=False)
            return
        browser.show_event(finding.session_id, finding.event_id)

    app.push_screen(SecretsScreen(service, titles, redact), shown)
