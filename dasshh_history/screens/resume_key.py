"""The browser's ``R``: make the highlighted session the one dasshh opens next, then start dasshh in its place."""

from __future__ import annotations

from textual import work

from dasshh_history.data.resume import ResumeError
from dasshh_history.domain.values import SessionSummary
from dasshh_history.services.resume import ResumeOutcome, resume


class ResumeKey:
    """Part of :class:`~dasshh_history.screens.browser.BrowserScreen`: what ``R`` does.

    The write runs in a worker; when dasshh can be started the app exits
    with :class:`ResumeOutcome` as its result and the command line runs
    dasshh once Textual has given the terminal back.
    """

    def action_resume(self) -> None:
        summary = self._current_or_warn("resume")
        if summary is not None:
            self._resume(summary)

    @work(thread=True, exclusive=True, group="write", name="resume", description="Could not resume the session",
          exit_on_error=False)
    def _resume(self, summary: SessionSummary) -> ResumeOutcome:
        return resume(self.reader.db_client, summary, history=self.history_path, tz=self.tz, now=None)

    def _resume_failed(self, error: BaseException) -> bool:
        if isinstance(error, ResumeError):
            self.say(f"Cannot resume: {error}", severity="error")
            return True
        return False

    def _resume_done(self, outcome: ResumeOutcome) -> None:
        if outcome.launch is not None:
            self.app.exit(outcome)
            return
        self.say(outcome.message, timeout=12)
        self._reload_list()  # the session is now first by last update
