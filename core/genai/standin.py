"""The local generation stand-in (`STUDIO_GENERATION=standin`): a loopback server that speaks the part
of Vertex AI's REST API the server pays for (the Veo submit and its operation, Imagen's predict) and
answers with a rendered test clip or still, so a pipeline runs offline, deterministically and free,
through the same google-genai client, job store, poller and assets as with Vertex.

What it returns is a test pattern, not a generation: a dusk-coloured frame with a lantern-like light
drifting across it, tinted by a hash of the prompt, and every job and asset made through it is
marked as a stand-in. It answers nothing else (text, plans, judgments): those say they need Gemini.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import uuid
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STANDIN_KEY = "stand-in-no-key"  # the client needs a key; the stand-in ignores it
CLIP_SECONDS = 4
CLIP_FPS = 12
CLIP_SIZE = (320, 180)


def _tint(prompt: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(prompt.encode()).digest()
    return 40 + digest[0] % 80, 40 + digest[1] % 80, 60 + digest[2] % 100


def render_clip(prompt: str, seconds: int = CLIP_SECONDS) -> bytes:
    """An H.264 MP4 of the test pattern (deterministic for a prompt)."""
    import av
    import numpy as np

    w, h = CLIP_SIZE
    base = np.array(_tint(prompt), dtype=np.float32)
    rows = np.linspace(0.6, 1.2, h, dtype=np.float32)[:, None, None]
    sky = np.clip(base[None, None, :] * rows, 0, 255) * np.ones((h, w, 3), dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(CLIP_FPS, 1))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        frames = seconds * CLIP_FPS
        for i in range(frames):
            cx, cy = 40 + (w - 80) * i / max(frames - 1, 1), h * 0.55
            glow = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 14.0**2))[:, :, None]
            frame = np.clip(sky + glow * np.array([200, 150, 60], dtype=np.float32), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def render_still(prompt: str) -> bytes:
    """A PNG of the test pattern's first frame."""
    from PIL import Image

    w, h = CLIP_SIZE
    image = Image.new("RGB", (w * 2, h * 2), _tint(prompt))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class StandIn:
    """`StandIn().start()` returns its base URL; `close()` stops it."""

    def __init__(self) -> None:
        self._operations: dict[str, str] = {}  # operation name -> prompt
        self._clips: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                    status, answer = standin._answer(self.path.split("?", 1)[0], body)
                except ValueError:
                    status, answer = 400, _error(400, "The stand-in could not read the request as JSON.")
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass  # stdout may be an MCP stdio stream

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="studio-standin", daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        model, _, method = path.rpartition("/models/")[2].partition(":")
        if method == "predictLongRunning":
            instances = body.get("instances") or [{}]
            name = f"projects/stand-in/locations/local/publishers/google/models/{model}/operations/{uuid.uuid4().hex}"
            with self._lock:
                self._operations[name] = str(instances[0].get("prompt", ""))
            return 200, {"name": name}
        if method == "fetchPredictOperation":
            name = str(body.get("operationName", ""))
            with self._lock:
                prompt = self._operations.get(name)
            if prompt is None:
                return 404, _error(404, f"The stand-in has no operation {name!r} (it forgets them when it restarts).")
            clip = self._clip(prompt)
            video = {"bytesBase64Encoded": base64.b64encode(clip).decode(), "mimeType": "video/mp4"}
            response = {"@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"}
            return 200, {"name": name, "done": True, "response": {**response, "videos": [video]}}
        if method == "predict":
            instances = body.get("instances") or [{}]
            png = render_still(str(instances[0].get("prompt", "")))
            return 200, {
                "predictions": [{"bytesBase64Encoded": base64.b64encode(png).decode(), "mimeType": "image/png"}]
            }
        return 501, _error(
            501,
            f"The generation stand-in (STUDIO_GENERATION=standin) makes test clips and stills only; {method or path} "
            "needs Gemini: unset STUDIO_GENERATION and set credentials.",
        )

    def _clip(self, prompt: str) -> bytes:
        with self._lock:
            cached = self._clips.get(prompt)
        if cached is None:
            cached = render_clip(prompt)
            with self._lock:
                self._clips[prompt] = cached
        return cached


def _error(code: int, message: str) -> dict[str, Any]:
    status = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 501: "UNIMPLEMENTED"}[code]
    return {"error": {"code": code, "message": message, "status": status}}
