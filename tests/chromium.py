"""Headless Chromium for tests, driven over the DevTools protocol (``--remote-debugging-pipe``).

No dependencies beyond the standard library::

    with Chromium(tmp_path / "profile") as browser:
        page = browser.open(tmp_path / "page.html", viewport=(390, 844))
        text = page.evaluate("document.body.innerText")
        png = page.screenshot()
        pdf = page.pdf()
        assert not page.problems()      # console errors, exceptions, network requests

A missing browser raises :class:`ChromiumError` (tests should fail, not skip: CI installs it).
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import time
from pathlib import Path

CHROMIUM = os.environ.get("QUIZGEN_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-pipe",
]
TIMEOUT = 60.0   # seconds for any one DevTools exchange


class ChromiumError(RuntimeError):
    """The browser is missing, died, or did not answer in time."""


class Chromium:
    """One headless browser process with a fresh profile; use as a context manager."""

    def __init__(self, user_data_dir: Path | str):
        if not os.access(CHROMIUM, os.X_OK):
            raise ChromiumError(f"{CHROMIUM} not found: install Debian's 'chromium' package")
        profile = Path(user_data_dir)
        profile.mkdir(parents=True, exist_ok=True)
        self._log = open(profile.parent / f"{profile.name}-chromium.log", "wb")
        to_child, self._out = os.pipe()       # we write commands, chromium reads fd 3
        self._in, from_child = os.pipe()      # chromium writes fd 4, we read replies

        def child_fds():
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self._proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            pass_fds=(3, 4), preexec_fn=child_fds)
        os.close(to_child)
        os.close(from_child)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Ask the browser to quit; kill it if it does not."""
        if self._proc.poll() is None:
            try:
                self.send("Browser.close")
            except (ChromiumError, OSError):
                pass
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for fd in (self._in, self._out):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one DevTools command and return its result; events seen meanwhile are kept."""
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == msg["id"]:
                if "error" in reply:
                    raise ChromiumError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        """Wait for the event ``method`` in ``session`` (already seen or still to come)."""
        while True:
            for event in self.events:
                if event["method"] == method and event.get("sessionId") == session:
                    return event["params"]
            self.events.append(self._receive())

    def open(self, path: Path | str, viewport: tuple[int, int] | None = None) -> "Page":
        """Open a local file in a new tab, wait for its load event, and return the page."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable", session=session)
        if viewport:
            width, height = viewport
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1,
                       "mobile": width < 600}, session)
        url = Path(path).resolve().as_uri()
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        return Page(self, session, url)

    def _receive(self) -> dict:
        """The next NUL-terminated JSON message from the browser."""
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise ChromiumError(f"no answer from chromium within {TIMEOUT:.0f} s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise ChromiumError(f"chromium exited (code {self._proc.poll()}); "
                                    f"see {self._log.name}")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)


class Page:
    """A loaded tab: evaluate JavaScript, take screenshots, read what went wrong."""

    def __init__(self, browser: Chromium, session: str, url: str):
        self.browser, self.session, self.url = browser, session, url

    def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression evaluated in the page."""
        result = self.browser.send("Runtime.evaluate",
                                   {"expression": expression, "returnByValue": True},
                                   self.session)
        if "exceptionDetails" in result:
            raise ChromiumError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, full_page: bool = True) -> bytes:
        """A PNG of the whole page, or of the viewport only (Chromium caps the size)."""
        shot = self.browser.send("Page.captureScreenshot",
                                 {"format": "png", "captureBeyondViewport": full_page},
                                 self.session)
        return base64.b64decode(shot["data"])

    def pdf(self) -> bytes:
        """The page printed to PDF (A4, print CSS, no browser header or footer)."""
        printed = self.browser.send("Page.printToPDF",
                                    {"paperWidth": 8.27, "paperHeight": 11.69,
                                     "preferCSSPageSize": True}, self.session)
        return base64.b64decode(printed["data"])

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, log errors, network requests."""
        self.evaluate("0")   # a round trip, so that pending events have arrived
        found = []
        for event in self.browser.events:
            if event.get("sessionId") == self.session:
                found += _problem(event["method"], event["params"], self.url)
        return found


def _problem(method: str, params: dict, url: str) -> list[str]:
    """What is wrong according to one DevTools event (usually nothing)."""
    if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
        args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
        return [f"console.{params['type']}: {args}"]
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        return [f"exception: {details.get('exception', {}).get('description', details['text'])}"]
    if method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
        return [f"log {params['entry']['level']}: {params['entry']['text']}"]
    if method == "Network.requestWillBeSent" and params["request"]["url"] != url:
        return [f"network request: {params['request']['url']}"]
    return []
