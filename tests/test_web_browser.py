"""--mode=web in a real headless chromium, driven by chromedriver's W3C WebDriver HTTP API (urllib,
no client library): the page loads, a typed post gets five responses and the auto answer, the
candidates show on request, an empty post shows the error. A screenshot is saved in tmp_path."""

import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from ecm_tf import flags as ecm_flags
from ecm_tf.serving import web
from test_decoding_decode import make_model_dir
from test_web import NAMES, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                       reason="chromium and chromedriver not installed (tools/system_packages.sh installs them)"),
]


class Browser:
    """A chromedriver session on a headless chromium with a fresh profile."""

    def __init__(self, profile):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                self._call("GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,700"]
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome",
                                                 "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as reply:
            return json.loads(reply.read().decode("utf-8"))["value"] if method != "GET" or path != "/status" else {}

    def do(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def find(self, css):
        return [e[ELEMENT] for e in self.do("POST", "/elements", {"using": "css selector", "value": css})]

    def text(self, element):
        return self.do("GET", f"/element/{element}/text")

    def wait_for(self, css, count, seconds=120):
        """The elements matching `css` once there are `count` of them (fails after `seconds`)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.find(css)
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"{css}: fewer than {count} elements after {seconds} s")

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.do("GET", "/screenshot")))

    def close(self):
        try:
            self.do("DELETE", "")
        finally:
            self.driver.terminate()
            self.driver.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path / "profile")
    yield b
    b.close()


def test_page_in_headless_chromium(tmp_path, browser):
    make_model_dir(tmp_path / "model")
    cfg = ecm_flags.defaults().replace(model_dir=str(tmp_path / "model"), beam_size=4, top_k=3,
                                    classifier_dir=str(tmp_path / "no_classifier"))
    with serving(cfg, web.ModelBackend(cfg)) as url:
        browser.do("POST", "/url", {"url": url + "/"})
        name = browser.find("#model-name")[0]
        deadline = time.monotonic() + 60
        while browser.text(name) == "…" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert browser.text(name) == "ECM model" and browser.text(browser.find("#model-step")[0]) == "1"

        browser.do("POST", f"/element/{browser.find('#send')[0]}/click", {})  # empty post
        message = browser.find("#message")[0]
        assert browser.text(message) == "Empty post: type something to say to the model."
        assert "error" in browser.do("GET", f"/element/{message}/attribute/class")
        assert browser.find(".card") == []

        browser.do("POST", f"/element/{browser.find('#post')[0]}/value", {"text": "你 没有 任何 意义"})
        browser.do("POST", f"/element/{browser.find('#send')[0]}/click", {})
        cards = browser.wait_for(".card.response", 5)
        titles = [browser.text(browser.do("POST", f"/element/{c}/element",
                                          {"using": "css selector", "value": "h3"})[ELEMENT]) for c in cards]
        assert titles == NAMES
        bests = [browser.text(e) for e in browser.find(".card.response .best")]
        assert all(b.strip() and b.rstrip().endswith(")") and "(-" in b for b in bests), bests  # text (score)
        assert browser.text(browser.find("#message")[0]) == "Post: 你 没有 任何 意义"
        auto = browser.wait_for(".card.auto", 1)[0]
        assert browser.text(auto).startswith("auto → ")
        assert browser.text(browser.find(".card.response .more")[0]) == ""  # candidates hidden ...
        browser.do("POST", f"/element/{browser.find('#show-more')[0]}/click", {})
        assert len(browser.text(browser.find(".card.response .more")[0]).splitlines()) == 2  # ... until asked
        browser.screenshot(tmp_path / "web.png")

        browser.do("POST", f"/element/{browser.find('#post')[0]}/clear", {})
        browser.do("POST", f"/element/{browser.find('#send')[0]}/click", {})
        assert browser.text(browser.find("#message")[0]) == "Empty post: type something to say to the model."
    png = (tmp_path / "web.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000
