"""Drives headless Chromium through the viewer page, as a person would, and checks what it shows.

usage: viewer_browser.py CHROMIUM URL SCREENSHOT_DIR
       viewer_browser.py CHROMIUM URL --many N

The second form checks that the page stays responsive with N traces listed: it measures the
time to render the list and to open one trace, prints both, and fails only past a generous
bound (10 s each), never on a tight timing.

The browser is Debian's `chromium`, spoken to over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: fd 3 carries commands in, fd 4 answers out, NUL-terminated JSON), so
nothing beyond the standard library is needed. Clicks are real DOM clicks dispatched in the page.
Exits 0 when every check holds; otherwise prints the failed check and exits 1.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time

TRACE_ID = "5b8efff798038103d269b633813fc60c"
CHARGE = "eee19b7ec3c1b176"


class Browser:
    def __init__(self, chromium):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="viewer-chromium-")

        def fds():
            # Copies first, so that moving one end to 3 or 4 never closes the other; dup2
            # leaves the targets inheritable, everything else is closed at exec.
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
             "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--window-size=1400,900", f"--user-data-dir={self.profile}", "about:blank"],
            preexec_fn=fds, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)

    def call(self, method, params=None, session=False):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buffer:
                chunk = os.read(self.from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def eval(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression, what, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.1)
        fail(f"{what}: not seen within {seconds} s (page text: {self.eval('document.body.innerText')[:600]!r})")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)
    print(f"ok: {message}")


def many(chromium, url, count):
    """The trace list with `count` traces: time to render it, and to open one trace."""
    browser = Browser(chromium)
    try:
        started = time.time()
        browser.call("Page.navigate", {"url": url + "#traces"}, session=True)
        rows = browser.wait(f"document.querySelectorAll('#trace-list .trace-row').length >= {count}"
                            f" && document.querySelectorAll('#trace-list .trace-row').length",
                            f"{count} trace rows", seconds=30)
        listed = time.time() - started
        check(rows == count, f"the list shows all {count} traces: {rows}")
        started = time.time()
        browser.eval("document.querySelectorAll('#trace-list .trace-row')[500].click()")
        browser.wait("document.querySelectorAll('#waterfall .wf-row').length === 4", "the opened trace",
                     seconds=30)
        opened = time.time() - started
        print(f"responsiveness: {count} traces listed in {listed * 1000:.0f} ms,"
              f" one trace opened in {opened * 1000:.0f} ms")
        check(listed < 10 and opened < 10, "the list renders and a trace opens within 10 s each")
    finally:
        browser.close()
    print("viewer browser checks: all passed")


def main():
    if len(sys.argv) == 5 and sys.argv[3] == "--many":
        many(sys.argv[1], sys.argv[2], int(sys.argv[4]))
        return
    chromium, url, shots = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(shots, exist_ok=True)
    browser = Browser(chromium)
    try:
        browser.call("Page.navigate", {"url": url + "#traces"}, session=True)
        row = browser.wait("document.querySelector('#trace-list .trace-row')?.innerText", "the trace list")
        check("GET /checkout" in row and "checkout, frontend" in row and "4" in row,
              f"the trace list shows the trace: {row!r}")
        check(browser.eval("document.querySelector('#trace-list .trace-row .error-flag') !== null"),
              "the trace is flagged as failed")
        browser.screenshot(os.path.join(shots, "viewer-traces.png"))

        browser.eval("document.querySelector('#trace-list .trace-row').click()")
        names = browser.wait(
            "(() => { const r = [...document.querySelectorAll('#waterfall .wf-row')];"
            " return r.length === 4 ? r.map(x => x.querySelector('.wf-label').innerText) : null })()",
            "the waterfall's four rows")
        order = [n.split("\n")[-1] if "\n" in n else n for n in names]
        check([("GET /checkout" in order[0]), ("reserve stock" in order[1]), ("POST /charge" in order[2]),
               ("charge card" in order[3])] == [True] * 4, f"the waterfall has every span in order: {order}")
        critical = browser.eval("document.querySelectorAll('#waterfall .wf-bar.critical').length")
        errors = browser.eval("document.querySelectorAll('#waterfall .wf-bar.error').length")
        check(critical == 2 and errors == 1,
              f"the critical path is drawn (2 orange bars + the failed one in red): {critical}, {errors}")
        nested = browser.eval(
            "[...document.querySelectorAll('#waterfall .wf-label')].map(l => parseInt(l.style.paddingLeft))")
        check(nested == [8, 24, 24, 40], f"children are indented under their parents: {nested}")

        browser.eval(f"document.querySelector('#waterfall .wf-row[data-span=\"{CHARGE}\"]').click()")
        panel = browser.wait("document.querySelector('#span-attributes') &&"
                             " document.querySelector('#span-panel').innerText", "the span's details")
        check("payment.amount" in panel and "42.5" in panel and "card declined" in panel,
              "clicking a span shows its attributes and status")
        check("card declined by the issuer" in panel and "charging card" in panel,
              "the span's panel lists its logs")
        browser.screenshot(os.path.join(shots, "viewer-waterfall.png"))

        browser.call("Page.navigate", {"url": url + "#logs"}, session=True)
        browser.wait("document.querySelectorAll('#log-list .log-row').length === 3", "three log rows")
        browser.eval("(() => { const s = document.querySelector('#filter-severity'); s.value = 'ERROR';"
                     " s.dispatchEvent(new Event('change')); })()")
        browser.wait("document.querySelectorAll('#log-list .log-row').length === 1", "the severity filter")
        browser.eval("document.querySelector('#log-list .trace-link').click()")
        back = browser.wait("document.querySelector('.wf-row.selected')?.dataset.span", "back to the span")
        check(back == CHARGE, "a log record links back to its span")

        browser.call("Page.navigate", {"url": url + "#metrics"}, session=True)
        browser.wait("document.querySelectorAll('#metric-list .metric-row').length === 2", "two metrics")
        browser.eval("[...document.querySelectorAll('#metric-list .metric-row')]"
                     ".find(r => r.innerText.includes('orders_total')).click()")
        points = browser.wait("document.querySelectorAll('#metric-chart circle.point').length", "chart points")
        check(points == 4, f"the counter's chart has its points (2 series x 2): {points}")
        browser.screenshot(os.path.join(shots, "viewer-metrics.png"))
        browser.eval("[...document.querySelectorAll('#metric-list .metric-row')]"
                     ".find(r => r.innerText.includes('checkout.duration')).click()")
        bars = browser.wait("document.querySelectorAll('#metric-chart rect.bucket').length", "histogram buckets")
        check(bars == 4, f"the histogram's buckets are drawn as bars: {bars}")
        text = browser.eval("document.querySelector('#metric-chart').innerText")
        check("p50 75" in text, f"the histogram's percentiles are shown: {text[:200]!r}")
    finally:
        browser.close()
    print("viewer browser checks: all passed")


if __name__ == "__main__":
    main()
