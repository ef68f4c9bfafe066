"""The dasshh-history app: a shell that builds the services, opens the browser screen and holds the global keys."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from pathlib import Path

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.client import DBClient
from dasshh_history.data.models import utcnow
from dasshh_history.data.session import SessionService
from dasshh_history.data.watch import ChangeWatcher
from dasshh_history.errors import DB_ERRORS
from dasshh_history.idle_gc import IdleCollector
from dasshh_history.screens.browser import BrowserScreen
from dasshh_history.screens.help import HelpScreen, help_sections
from dasshh_history.screens.stats import StatsScreen
from dasshh_history.services.actions import Actions
from dasshh_history.services.index_keeper import IndexKeeper
from dasshh_history.services.listing import Listing
from dasshh_history.services.resume import ResumeOutcome
from dasshh_history.services.settings import DEFAULT_THEME, SettingsStore
from dasshh_history.services.stats import StatsKeeper


class HistoryApp(App[ResumeOutcome | None]):
    """Browse, search, rename and delete dasshh chat sessions."""

    CSS_PATH = "app.tcss"
    TITLE = "dasshh-history"

    # The timeline's selected block: offered while the browser's timeline has the focus (so not under a dialog,
    # which ``screen.`` would ask); the help lists them with the timeline's keys.
    TIMELINE_KEYS = [
        Binding("y", "copy_block", "Copy block", tooltip="Copy the selected block's text (OSC 52)"),
        Binding("v", "view_block", "Block in pager", tooltip="Read the selected block's text in $PAGER"),
    ]
    # Keys that work anywhere; most act on the browser screen (``screen.``), whose footer shows them.
    BINDINGS = [
        Binding("slash", "screen.search", "Search", key_display="/"),
        Binding("r", "screen.rename", "Rename"),
        Binding("d,delete", "screen.delete", "Delete", key_display="d"),
        Binding("u", "screen.undo", "Undo delete"),
        Binding("D", "screen.recently_deleted", "Recently deleted", show=False,
                tooltip="The trash: deleted sessions, newest first; restore any of them"),
        Binding("e", "screen.export", "Export"),
        Binding("E", "screen.export_all", "Export all", tooltip="Export the listed sessions to a new folder"),
        Binding("c", "screen.copy", "Copy"),
        Binding("V", "screen.view_session", "Pager", tooltip="Read the session as Markdown in $PAGER"),
        Binding("s", "screen.sort", "Sort"),
        Binding("R", "screen.resume", "Resume in dasshh", show=False,  # the help and the palette list it
                tooltip="Make the session the one dasshh opens at its next start (it sets its last update),"
                        " and start dasshh"),
        Binding("S", "stats", "Stats", show=False, tooltip="The stats of the history, or of the search's results"),
        *TIMELINE_KEYS,
        Binding("tab", "app.focus_next", "Switch pane", show=False),
        Binding("shift+tab", "app.focus_previous", "Switch pane", show=False),
        Binding("n", "screen.next_match", "Next match", show=False),
        Binding("N", "screen.previous_match", "Previous match", show=False),
        Binding("escape", "screen.clear_search", "Clear search", show=False),
        Binding("P", "secrets", "Secrets", show=False, tooltip="Likely credentials in the history, masked; redact them"),
        Binding("M", "screen.reveal_secrets", "Reveal secrets", show=False,
                tooltip="Show the timeline's likely secrets whole, or masked again"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        client: DBClient,
        *,
        clock: Callable[[], datetime] = utcnow,
        tz: tzinfo | None = None,
        search_path: Path | None = None,
        history_path: Path | None = None,
        trash_dir: Path | None = None,
        trash_days: int | None = None,
        settings: SettingsStore | None = None,
    ) -> None:
        """``settings``: the file the settings are read from and kept in (default: the user's config folder)."""
        super().__init__()
        self.settings_store = settings if settings is not None else SettingsStore()
        self.settings, self._settings_warnings = self.settings_store.load()
        self.client = client
        self.service = SessionService(client)
        self.reader = HistoryReader(client)
        self.index = IndexKeeper(client, search_path, tz=tz, clock=clock, background=True)
        self.actions = Actions(client, tz=tz, index=self.index, trash_dir=trash_dir, clock=clock)
        self._trash_days = trash_days if trash_days is not None else self.settings.trash_days
        self.stats = StatsKeeper(client, search_path, tz=tz)
        self.clock = clock
        self.tz = tz
        self._history_path = history_path
        self._collector = IdleCollector()  # full garbage collections wait for a pause in input
        self.browser = BrowserScreen(
            reader=self.reader,
            listing=Listing(self.service, self.reader, self.index),
            index=self.index,
            actions=self.actions,
            watcher=ChangeWatcher(client),
            clock=clock,
            tz=tz,
            history_path=history_path,
            loaded=self._settle_memory,
            order=self.settings.sort,
            conversation_view=self.settings.conversation_view,
            remember=self.remember,
        )

    def get_default_screen(self) -> Screen:
        return self.browser

    # -- settings kept between runs ----------------------------------------------------

    def on_mount(self) -> None:
        for warning in self._settings_warnings:
            self.say(warning, severity="warning", timeout=10)
        if self.settings.theme != self.theme:
            if self.settings.theme in self.available_themes:
                self.theme = self.settings.theme
            else:
                self.say(f"{self.settings_store.path}: no theme named {self.settings.theme!r}; using {DEFAULT_THEME}",
                         severity="warning", timeout=10)
        self.theme_changed_signal.subscribe(self, lambda theme: self.remember(theme=theme.name))
        self._expire_trash()

    def remember(self, **changes: object) -> None:
        """Keep a changed setting for the next start (``theme``, ``sort``, ``conversation_view``); a failure is said."""
        settings = dataclasses.replace(self.settings, **changes)  # type: ignore[arg-type]
        if settings == self.settings:
            return
        self.settings = settings
        if not self.settings_store.writable:
            return  # said at the start: the file could not be read, and is not written over
        try:
            self.settings_store.save(settings)
        except OSError as exc:
            self.say(f"Could not save the settings to {self.settings_store.path}: {exc.strerror or exc}",
                     severity="warning")

    def _settle_memory(self) -> None:
        """Once the browser has read its first page (before the first layout), as it was before the screen
        split: the modules and widgets alive now live as long as the app, so the collector need not look
        at them again (a full collection took ~75 ms with a large session open; now ~20 ms), and from
        now on full collections wait for a pause in input."""
        gc.freeze()
        self._collector.start()
        self.set_interval(1.0, self._collector.tick)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._collector.input_seen()
        await super().on_event(event)

    @work(thread=True, group="trash-expiry", exit_on_error=False)
    def _expire_trash(self) -> None:
        """Trash older than ``trash_days`` goes at start (whole files), then the search cache is purged of
        the words of what it held (see ``IndexKeeper.purge_after_expiry``): no copy of it stays."""
        try:
            expired = self.actions.expire_trash(self._trash_days)
        except OSError as exc:
            self.call_from_thread(self.say, f"Could not empty the old trash: {exc.strerror or exc}", severity="warning")
            return
        try:  # and the search cache's copies of what it held (a process of its own, at low priority)
            self.index.purge_after_expiry(expired > 0)
        except DB_ERRORS:
            pass  # owed still: tried again at the next start

    def on_unmount(self) -> None:
        self._collector.stop()
        self.stats.close()

    def action_stats(self) -> None:
        """The stats screen: of the sessions the list shows (a search's results), else of the whole history."""
        if self.screen is not self.browser:
            return  # not over a dialog; on the stats, S goes back
        browser = self.browser
        query = browser.listed_query.text.strip() if browser.listed_ids is not None else None
        ids = browser.listed_ids
        # Kept while the list shows the same sessions: opened again, it shows its figures at once.
        kept = self.get_screen("stats") if self.is_screen_installed("stats") else None
        if not (isinstance(kept, StatsScreen) and kept.scope == ((tuple(ids) if ids is not None else None), query)):
            if kept is not None:
                self.uninstall_screen("stats")
            self.install_screen(StatsScreen(self.stats, self.client, session_ids=ids, query=query, tz=self.tz),
                                "stats")
        self.push_screen("stats")

    def on_stats_screen_open_session(self, message: StatsScreen.OpenSession) -> None:
        """Enter on a session in the stats: back to the browser, that session highlighted and shown."""
        if isinstance(self.screen, StatsScreen):
            self.pop_screen()
        self.browser.load_sessions(highlight_id=message.session_id)

    def say(self, message: str, *, severity: str = "information", timeout: float | None = None) -> None:
        """Notify without interpreting markup: messages may quote stored titles."""
        self.notify(message, severity=severity, markup=False, timeout=timeout)  # type: ignore[arg-type]

    def action_copy_block(self) -> None:
        self.browser.action_copy_block()

    def action_view_block(self) -> None:
        self.browser.action_view_block()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("copy_block", "view_block"):
            return self.screen is self.browser and self.browser.check_action(action, parameters)
        return True

    def action_secrets(self) -> None:
        from dasshh_history.screens.secrets import open_secrets

        open_secrets(self, self.client, self.index, self.reader, self.browser)

    def action_help(self) -> None:
        anywhere = [binding for binding in self.BINDINGS if binding not in self.TIMELINE_KEYS]
        at = next(i for i, binding in enumerate(anywhere) if binding.action == "screen.clear_search")
        anywhere[at:at] = BrowserScreen.BINDINGS  # Escape's "Clear marks", before its "Clear search"
        self.push_screen(HelpScreen(help_sections(anywhere, timeline=self.TIMELINE_KEYS)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own "Keys" (a panel of the focused widget's keys) would be a second "Keys": ours lists every key.
        textual_keys = (self.action_show_help_panel, self.action_hide_help_panel)
        yield from (command for command in super().get_system_commands(screen) if command.callback not in textual_keys)
        browser = self.browser
        yield SystemCommand("Rename session", "Rename the highlighted session (r)", browser.action_rename)
        yield SystemCommand("Delete session", "Delete the highlighted session and its events (d)", browser.action_delete)
        yield SystemCommand("Export session", "Write the session as Markdown to a file you choose (e)",
                            browser.action_export)
        yield SystemCommand("Export all listed sessions", "Write every session in the list (a search's results)"
                            " to a new folder (E)", browser.action_export_all)
        yield SystemCommand("Copy session", "Send the session as Markdown to the terminal's clipboard (c)",
                            browser.action_copy)
        yield SystemCommand("Session in pager", "Read the session as Markdown in $PAGER (V)", browser.action_view_session)
        yield SystemCommand("Copy block", "Send the timeline's selected block to the terminal's clipboard (y)",
                            browser.action_copy_block)
        yield SystemCommand("Block in pager", "Read the timeline's selected block in $PAGER (v)",
                            browser.action_view_block)
        yield SystemCommand("Resume in dasshh", "Make the session the one dasshh opens next, and start dasshh (R)",
                            browser.action_resume)
        yield SystemCommand("Undo delete", "Bring back the last delete, from the trash (u)", browser.action_undo)
        yield SystemCommand("Recently deleted", "The trash: deleted sessions, newest first; restore any of them (D)",
                            browser.action_recently_deleted)
        yield SystemCommand("Search", "Search every session's titles, messages and tools (/)", browser.action_search)
        yield SystemCommand("Stats", "The history at a glance: activity, hours, tools, largest sessions (S)",
                            self.action_stats)
        yield SystemCommand("Secrets", "Likely credentials in the history, masked; redact them (P)", self.action_secrets)
        yield SystemCommand("Keys", "Every key and what it does, in the help screen (?)", self.action_help)
        yield SystemCommand("Focus sessions", "Move focus to the session list", browser.session_list.focus)
        yield SystemCommand("Focus timeline", "Move focus to the timeline", browser.timeline.focus)
