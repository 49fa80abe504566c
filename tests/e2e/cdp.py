"""A headless Chromium driven through the DevTools protocol (tornado's websocket client, which
the neuroglancer package already needs): start it on a page, evaluate JavaScript there."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, NAMES) if p), None)


class HeadlessChromium:
    def __init__(self, binary: str, url: str, start_timeout: float = 20.0):
        self.profile = tempfile.mkdtemp(prefix="cavern-chromium-")
        # software WebGL (SwiftShader): no GPU needed; a throwaway profile; no sandbox
        # (containers run tests as root, where Chromium's sandbox cannot start)
        args = [binary, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions",
                f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
                "--remote-allow-origins=*", "--window-size=1024,768", url]
        self._log = open(os.path.join(self.profile, "stderr.log"), "wb")  # a pipe could fill
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self._log)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        end = time.monotonic() + start_timeout
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > end:
                err = self.stop()
                raise RuntimeError(f"Chromium did not start: {err[-500:]}")
            time.sleep(0.05)
        while True:  # the file appears before its content is written
            text = open(port_file).read().split()
            if text:
                break
            time.sleep(0.05)
        port = int(text[0])
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                                 timeout=10))
        self.ws_url = next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page")
        self._id = 0

    def screenshot(self, path: str, width: int = 1280, height: int = 800) -> str:
        """A PNG of the page at width x height (DevTools Page.captureScreenshot)."""
        import base64
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        answer = self.call("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(answer["result"]["data"]))
        return path

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-able)."""
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        result = answer.get("result", {})
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def call(self, method: str, params: dict) -> dict:
        """One DevTools command and its answer."""
        from tornado.websocket import websocket_connect
        self._id += 1
        msg_id = self._id

        async def ask():
            conn = await websocket_connect(self.ws_url, max_message_size=64 << 20)
            try:
                await conn.write_message(json.dumps({
                    "id": msg_id, "method": method, "params": params}))
                while True:
                    raw = await asyncio.wait_for(conn.read_message(), 10)
                    if raw is None:
                        raise RuntimeError("Chromium closed the DevTools connection")
                    answer = json.loads(raw)
                    if answer.get("id") == msg_id:
                        return answer
            finally:
                conn.close()
        return asyncio.run(ask())

    def wait_for(self, expression: str, timeout: float = 15.0):
        """Evaluate until the expression gives a truthy value; returns it."""
        end = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > end:
                raise AssertionError(f"the page never gave {expression!r} (last: {value!r})")
            time.sleep(0.1)

    def stop(self) -> str:
        err = ""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        with open(self._log.name, "rb") as f:
            err = f.read().decode("utf-8", "replace")
        shutil.rmtree(self.profile, ignore_errors=True)
        return err
