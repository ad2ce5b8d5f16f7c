"""Scripted engines for UI tests: no model, steps you can hold and release."""

from __future__ import annotations

import threading
import time

from PIL import Image

from previz_app.engine.base import EngineError, FrameResult


class ScriptedEngine:
    """Renders a flat frame whose colour comes from the seed, in `steps` steps.

    With a `gate`, every step waits for it (so a test can see a job running); with
    `step_seconds`, every step sleeps (a job of known length); `fail_on` names a
    prompt substring that fails. Every step reports progress and a preview.
    """

    name = "blocking"

    def __init__(self, steps: int = 4, gate: threading.Event | None = None, step_seconds: float = 0.0, fail_on: str | None = None):
        self.steps, self.gate, self.step_seconds, self.fail_on = steps, gate, step_seconds, fail_on
        self.rendered: list = []
        self.started = threading.Event()

    def render(self, request, context):
        self.started.set()
        if self.fail_on and self.fail_on in request.prompt:
            raise EngineError(f"scripted failure for {request.prompt[:20]}")
        colour = (request.seed * 37 % 256, request.seed * 91 % 256, 128)
        for step in range(self.steps):
            context.check_cancelled()
            if self.gate is not None:
                self.gate.wait(10)
            if self.step_seconds:
                time.sleep(self.step_seconds)
            context.check_cancelled()
            context.on_progress(step + 1, self.steps)
            context.on_preview(Image.new("RGB", (32, 16), colour))
        self.rendered.append(request)
        return FrameResult(Image.new("RGB", (request.width, request.height), colour), request)
