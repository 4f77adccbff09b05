"""A local fake of the Gemini Developer API and the Vertex AI REST API, for tests.

The real `google-genai` client talks to it over HTTP through `HttpOptions(base_url=...)` (or the
`GOOGLE_GEMINI_BASE_URL` / `GOOGLE_VERTEX_BASE_URL` variables); nothing in the SDK is patched.
Paths it serves (any `v1*` API version prefix is accepted, because the SDK picks the version):

  Developer API   POST /v1/models/{m}:generateContent          (the SDK's default version is v1)
                  POST /v1/models/{m}:batchEmbedContents  :embedContent
                  POST /v1/models/{m}:predict                   (Imagen)
  Vertex AI       POST /v1beta1/[projects/{p}/locations/{l}/]publishers/google/models/{m}:generateContent
                  POST .../models/{m}:predictLongRunning        (Veo submit) -> {"name": ".../operations/ID"}
                  POST /v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}:fetchPredictOperation
                  POST .../models/{m}:predict                   (Imagen, or embeddings for *embedding* models)
  OAuth           POST /token                                   (token endpoint for a fake ADC file)

Vertex paths carry `projects/{p}/locations/{l}/` when the client has a project (ADC); an express-mode
client (API key) posts to `/v1beta1/publishers/google/models/...` and then polls under the
operation name's own `projects/...` prefix. Requests without x-goog-api-key or Authorization get 401.

State (request log, operations, paid calls processed, faults, scripted answers) lives in the fake's process. Tests drive
it through a small control API under `/_fake/` (see `FakeGeminiControl`), the same way whether the
fake runs in a thread of the test process (`FakeGemini`) or as its own process
(`FakeGeminiProcess`, or `python -m tests.fake_gemini --port N`, which prints only its URL).

Only the standard library is imported at start-up; PyAV is imported when the first video is made.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import math
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = (
    "status",  # answer with an HTTP error (status, message, optional RetryInfo + Retry-After)
    "delay",  # sleep delay_s, then answer normally (past the client's timeout if long enough)
    "invalid_json",  # generateContent answers text that is not JSON
    "safety",  # generateContent candidate ends with finishReason (default SAFETY), no text
    "prompt_blocked",  # generateContent has no candidates, promptFeedback.blockReason (default SAFETY)
    "operation_error",  # Veo submit: the operation finishes done with error {code, message}
    "rai_filtered",  # Veo submit: finishes with no videos, raiMediaFilteredCount and reasons
    "polls",  # Veo submit: the operation needs `polls` polls before done (None: never done)
    "status_after",  # do the work (e.g. create the operation), then answer `status` anyway: a lost reply
    # Transport faults: the HTTP exchange itself breaks. "before" creates nothing; "after" does the work
    # (a paid submit is processed and counted) and the answer is lost.
    "close_before",  # read the request, do nothing, close the connection without answering
    "reset_before",  # read the request, do nothing, reset the connection (TCP RST)
    "close_after",  # do the work, then close the connection without answering
    "reset_after",  # do the work, then reset the connection (TCP RST)
    "slow_after",  # do the work, then answer only after delay_s (past the client's timeout if long enough)
)
TRANSPORT_FAULTS = {"close_before", "reset_before", "close_after", "reset_after"}

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# google.rpc.Code numbers, used in a failed operation's `error.code`.
RPC_CODES = {"INVALID_ARGUMENT": 3, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8, "INTERNAL": 13}

_MODEL_PATH = re.compile(
    r"^/(?P<version>v\d+[a-z0-9]*)/"
    r"(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/)?"
    r"(?:publishers/google/)?models/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$"
)


# ---------------------------------------------------------------------------------------------
# Synthetic media: a PNG with the standard library, an MP4 with PyAV (cached per colour).


def _colour(seed: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(seed.encode()).digest()
    return digest[0], digest[1], digest[2]


def make_png(width: int = 32, height: int = 18, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A solid-colour RGB PNG, built without Pillow so the fake starts fast."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


_video_cache: dict[tuple[tuple[int, int, int], str], bytes] = {}
_video_lock = threading.Lock()


def make_mp4(rgb: tuple[int, int, int] = (40, 120, 200), tag: str = "", frames: int = 8) -> bytes:
    """A real, decodable H.264 MP4 (64x36, 8 fps) of a solid colour with a moving bar.

    `tag` goes into the container's comment, so two operations with the same colour still get
    different bytes (assets are named by content hash).
    """
    key = (rgb, tag)
    with _video_lock:
        cached = _video_cache.get(key)
        if cached is not None:
            return cached
        import av  # lazy: PyAV costs start-up time and only Veo tests need it
        import numpy as np

        buffer = io.BytesIO()
        with av.open(buffer, mode="w", format="mp4") as container:
            if tag:
                container.metadata["comment"] = tag
            stream = container.add_stream("libx264", rate=8)
            stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
            for i in range(frames):
                image = np.empty((36, 64, 3), dtype=np.uint8)
                image[:] = rgb
                image[:, (i * 8) % 64 : (i * 8) % 64 + 4] = 255
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        data = buffer.getvalue()
        _video_cache[key] = data
        return data


def embedding_for(text: str, dim: int) -> list[float]:
    """A deterministic unit vector from the text's hash: equal texts, equal vectors."""
    values: list[float] = []
    counter = 0
    while len(values) < dim:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend((b - 127.5) / 127.5 for b in digest)
        counter += 1
    values = values[:dim]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


# ---------------------------------------------------------------------------------------------
# A JSON instance for a response schema, so an unscripted structured-output call still answers.


def instance_for_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A minimal valid instance of a JSON schema or a Gemini `Schema` (types in upper case)."""
    defs = defs if defs is not None else {**schema.get("$defs", {}), **schema.get("definitions", {})}
    if "$ref" in schema:
        return instance_for_schema(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            options = [s for s in schema[key] if str(s.get("type", "")).lower() != "null"]
            return instance_for_schema((options or schema[key])[0], defs)
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    kind = str(kind).lower()
    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        return {name: instance_for_schema(sub, defs) for name, sub in props.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 1) or 1), 1)
        return [instance_for_schema(schema.get("items", {}), defs) for _ in range(count)]
    if kind == "string":
        return "x" * int(schema.get("minLength", 0) or 0) or "fake"
    if kind == "integer":
        return max(int(schema.get("minimum", 1) or 1), 1)
    if kind == "number":
        return float(schema.get("minimum", 1.0) or 1.0)
    if kind == "boolean":
        return True
    return None


# ---------------------------------------------------------------------------------------------
# State


@dataclass
class Fault:
    """One scripted fault. `match` is a substring of the request path (e.g. ":generateContent",
    "veo-3.1", ":fetchPredictOperation"); `times` is how many requests it applies to (None: sticky).
    The first matching fault wins."""

    match: str
    kind: str = "status"
    times: int | None = 1
    status: int = 500
    message: str | None = None
    retry_delay_s: float | None = None  # 429: RetryInfo.retryDelay and Retry-After
    delay_s: float = 0.0
    finish_reason: str = "SAFETY"
    block_reason: str = "SAFETY"
    error_code: int = RPC_CODES["INTERNAL"]
    rai_reasons: list[str] = field(default_factory=lambda: ["Video filtered by the fake's safety filter."])
    polls: int | None = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        fault = cls(**data)
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; one of {FAULT_KINDS}")
        return fault


@dataclass
class Operation:
    name: str
    model: str
    prompt: str
    sample_count: int
    storage_uri: str | None
    polls_needed: int | None  # None: never finishes
    polls_seen: int = 0
    error: dict[str, Any] | None = None
    rai_reasons: list[str] | None = None

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "prompt": self.prompt,
            "polls_seen": self.polls_seen,
            "polls_needed": self.polls_needed,
            "done": self.done,
        }

    @property
    def done(self) -> bool:
        return self.polls_needed is not None and self.polls_seen > self.polls_needed


class FakeState:
    """Everything the fake remembers; one lock guards it all (requests are small and few)."""

    def __init__(self, embedding_dim: int = 768, default_polls: int = 1) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.defaults = {"embedding_dim": embedding_dim, "default_polls": default_polls}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests: list[dict[str, Any]] = []
            self.faults: list[Fault] = []
            self.scripts: list[tuple[str, str]] = []  # (model substring, text), consumed in order
            self.operations: dict[str, Operation] = {}
            self.paid: list[dict[str, Any]] = []  # paid calls processed (Veo submits, images), oldest first
            self.embedding_dim: int = int(self.defaults["embedding_dim"])
            self.default_polls: int | None = self.defaults["default_polls"]

    def record(self, method: str, path: str, query: str, headers: dict[str, str], body: Any) -> None:
        redacted = {
            k.lower(): ("<redacted>" if k.lower() in ("x-goog-api-key", "authorization") else v)
            for k, v in headers.items()
        }
        with self.lock:
            self.requests.append(
                {
                    "seq": len(self.requests),
                    "method": method,
                    "path": path,
                    "query": query,
                    "headers": redacted,
                    "body": body,
                }
            )

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.match in path:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def record_paid(self, kind: str, model: str, path: str, body: dict[str, Any]) -> None:
        """A paid call the fake processed (it would be billed), with its `studio-job` label if any."""
        labels = body.get("labels") or {}
        with self.lock:
            self.paid.append({"kind": kind, "model": model, "path": path, "label": labels.get("studio-job")})

    def take_script(self, model: str) -> str | None:
        with self.lock:
            for i, (match, text) in enumerate(self.scripts):
                if match in model:
                    del self.scripts[i]
                    return text
        return None


# ---------------------------------------------------------------------------------------------
# The API behaviour


class _Reply(Exception):
    """Raised inside a handler to answer with this status, JSON body and headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, message: str, details: list[dict[str, Any]] | None = None) -> _Reply:
    body: dict[str, Any] = {
        "error": {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}
    }
    if details:
        body["error"]["details"] = details
    return _Reply(status, body)


def _fault_reply(fault: Fault) -> _Reply:
    status = fault.status
    message = fault.message or {
        401: "Request had invalid authentication credentials.",
        403: "Permission denied on resource (or it may not exist).",
        404: "models/unknown is not found for API version v1, or is not supported for generateContent.",
        429: "Resource has been exhausted (e.g. check quota).",
        503: "The model is overloaded. Please try again later.",
    }.get(status, "Internal error encountered.")
    details: list[dict[str, Any]] = []
    headers: dict[str, str] = {}
    if fault.retry_delay_s is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{fault.retry_delay_s:g}s"})
        headers["Retry-After"] = str(math.ceil(fault.retry_delay_s))
    reply = _error(status, message, details)
    reply.headers.update(headers)
    return reply


def _prompt_text(body: dict[str, Any]) -> str:
    texts: list[str] = []
    for content in body.get("contents", []) or []:
        for part in content.get("parts", []) or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return "\n".join(texts)


class FakeApi:
    """Answers one parsed API request; raises _Reply for non-200 answers."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    def handle(self, path: str, body: dict[str, Any], fault: Fault | None) -> Any:
        match = _MODEL_PATH.match(path)
        if not match:
            raise _error(404, f"The fake has no route for {path}.")
        model, method = match["model"], match["method"]
        project = match["project"] or "fake-project"
        location = match["location"] or "us-central1"
        if method == "generateContent":
            return self.generate_content(model, path, body, fault)
        if method in ("batchEmbedContents", "embedContent"):
            return self.embed(method, body)
        if method == "predict":
            return self.predict(model, path, body, fault)
        if method == "predictLongRunning":
            return self.submit_video(model, project, location, path, body, fault)
        if method == "fetchPredictOperation":
            return self.fetch_operation(body)
        raise _error(404, f"Method {method} is not served by the fake.")

    def generate_content(self, model: str, path: str, body: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        config = body.get("generationConfig", {}) or {}
        prompt = _prompt_text(body)
        usage = {
            "promptTokenCount": max(1, len(prompt) // 4),
            "candidatesTokenCount": 8,
            "totalTokenCount": 0,
        }
        usage["totalTokenCount"] = usage["promptTokenCount"] + usage["candidatesTokenCount"]
        base: dict[str, Any] = {
            "modelVersion": model,
            "responseId": uuid.uuid4().hex[:16],
            "usageMetadata": usage,
        }
        if fault and fault.kind == "prompt_blocked":
            return {**base, "promptFeedback": {"blockReason": fault.block_reason}}
        if fault and fault.kind == "safety":
            ratings = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]
            candidate = {"finishReason": fault.finish_reason, "index": 0, "safetyRatings": ratings}
            return {**base, "candidates": [candidate]}

        modalities = [str(m).upper() for m in config.get("responseModalities", []) or []]
        wants_json = config.get("responseMimeType") == "application/json"
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        parts: list[dict[str, Any]] = []
        scripted = self.state.take_script(model)
        if fault and fault.kind == "invalid_json":
            parts.append({"text": '{"shots": [ {"number": 1, "description": "unterminated'})
        elif scripted is not None:
            parts.append({"text": scripted})
        elif wants_json:
            parts.append({"text": json.dumps(instance_for_schema(schema) if schema else {})})
        elif modalities != ["IMAGE"]:
            parts.append({"text": f"Fake answer from {model} to: {prompt[:80]}"})
        if "IMAGE" in modalities:
            self.state.record_paid("image", model, path, body)
            png = make_png(rgb=_colour(prompt))
            parts.append({"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}})
        candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
        return {**base, "candidates": [candidate]}

    def embed(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        requests = body.get("requests") if method == "batchEmbedContents" else [body]
        embeddings = []
        for request in requests or []:
            text = _prompt_text({"contents": [request.get("content", {})]})
            dim = int(request.get("outputDimensionality") or self.state.embedding_dim)
            embeddings.append({"values": embedding_for(text, dim)})
        if method == "embedContent":
            return {"embedding": embeddings[0]}
        return {"embeddings": embeddings}

    def predict(self, model: str, path: str, body: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        instances = body.get("instances", []) or []
        parameters = body.get("parameters", {}) or {}
        if "embedding" in model:  # Vertex text-embedding models answer :predict
            dim = int(parameters.get("outputDimensionality") or self.state.embedding_dim)
            predictions: list[dict[str, Any]] = []
            for instance in instances:
                values = embedding_for(str(instance.get("content", "")), dim)
                predictions.append({"embeddings": {"values": values, "statistics": {"truncated": False}}})
            return {"predictions": predictions}
        prompt = str(instances[0].get("prompt", "")) if instances else ""
        if fault and fault.kind == "rai_filtered":
            return {"predictions": [{"raiFilteredReason": fault.rai_reasons[0]}]}
        self.state.record_paid("image", model, path, body)
        count = int(parameters.get("sampleCount") or 1)
        mime = (parameters.get("outputOptions") or {}).get("mimeType", "image/png")
        predictions = []
        for i in range(count):
            png = make_png(rgb=_colour(f"{prompt}#{i}"))
            predictions.append({"bytesBase64Encoded": base64.b64encode(png).decode(), "mimeType": mime})
        return {"predictions": predictions}

    def submit_video(
        self, model: str, project: str, location: str, path: str, body: dict[str, Any], fault: Fault | None
    ) -> dict[str, Any]:
        instances = body.get("instances", []) or [{}]
        parameters = body.get("parameters", {}) or {}
        op_id = str(uuid.uuid4().int)[:19]
        name = f"projects/{project}/locations/{location}/publishers/google/models/{model}/operations/{op_id}"
        operation = Operation(
            name=name,
            model=model,
            prompt=str(instances[0].get("prompt", "")),
            sample_count=int(parameters.get("sampleCount") or 1),
            storage_uri=parameters.get("storageUri"),
            polls_needed=self.state.default_polls,
        )
        if fault and fault.kind == "polls":
            operation.polls_needed = fault.polls
        if fault and fault.kind == "operation_error":
            operation.error = {
                "code": fault.error_code,
                "message": fault.message or "Video generation failed in the fake backend.",
            }
        if fault and fault.kind == "rai_filtered":
            operation.rai_reasons = list(fault.rai_reasons)
        with self.state.lock:
            self.state.operations[name] = operation
        self.state.record_paid("video", model, path, body)
        return {"name": name}

    def fetch_operation(self, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("operationName", ""))
        with self.state.lock:
            operation = self.state.operations.get(name)
            if operation is None:
                raise _error(404, f"Operation {name!r} not found.")
            operation.polls_seen += 1
            done = operation.done
        if not done:
            return {"name": name}
        if operation.error is not None:
            return {"name": name, "done": True, "error": operation.error}
        kind = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
        if operation.rai_reasons is not None:
            response = {
                "@type": kind,
                "raiMediaFilteredCount": operation.sample_count,
                "raiMediaFilteredReasons": operation.rai_reasons,
            }
            return {"name": name, "done": True, "response": response}
        videos = []
        for i in range(operation.sample_count):
            if operation.storage_uri:
                uri = f"{operation.storage_uri.rstrip('/')}/{name.rsplit('/', 1)[-1]}/sample_{i}.mp4"
                videos.append({"gcsUri": uri, "mimeType": "video/mp4"})
            else:
                data = make_mp4(_colour(operation.prompt), tag=f"{name}#{i}")
                videos.append({"bytesBase64Encoded": base64.b64encode(data).decode(), "mimeType": "video/mp4"})
        response = {"@type": kind, "raiMediaFilteredCount": 0, "videos": videos}
        return {"name": name, "done": True, "response": response}


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # stdout/stderr stay quiet: the fake may run beside an MCP stdio server

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to tell it

    def _break_connection(self, *, reset: bool) -> None:
        """End the exchange without an answer: a clean close (FIN), or a TCP reset (RST)."""
        self.close_connection = True
        if not reset:
            return  # the handler returns, and socketserver shuts the socket down without a byte sent
        # SO_LINGER 0 makes close() send RST. The socket's fd closes once its makefile reader closes too
        # (the writer holds no reference, and http.server still flushes it afterwards).
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()

    def _body(self, raw: bytes) -> Any:
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _error(400, f"Invalid JSON payload received. {exc}") from exc

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            if split.path == "/token":  # OAuth token endpoint (form-encoded) for a fake ADC file
                self._send(200, {"access_token": "fake-access-token", "expires_in": 3600, "token_type": "Bearer"})
                return
            body = self._body(raw)
            if split.path.startswith("/_fake/"):
                self._send(200, _control(state, method, split.path, split.query, body))
                return
            state.record(method, split.path, split.query, dict(self.headers.items()), body)
            if method != "POST":
                raise _error(404, f"The fake serves POST only ({method} {split.path}).")
            if not (self.headers.get("x-goog-api-key") or self.headers.get("authorization")):
                raise _error(401, "Request is missing required authentication credential.")
            fault = state.take_fault(split.path)
            kind = fault.kind if fault else None
            if kind == "delay" and fault is not None:
                if state.stopping.wait(fault.delay_s):
                    return
            if kind == "status" and fault is not None:
                raise _fault_reply(fault)
            if kind in ("close_before", "reset_before"):
                self._break_connection(reset=kind == "reset_before")
                return
            answer = FakeApi(state).handle(split.path, body, fault)
            if kind == "status_after" and fault is not None:
                raise _fault_reply(fault)
            if kind in ("close_after", "reset_after"):
                self._break_connection(reset=kind == "reset_after")
                return
            if kind == "slow_after" and fault is not None:
                if state.stopping.wait(fault.delay_s):
                    return
            self._send(200, answer)
        except _Reply as reply:
            self._send(reply.status, reply.body, reply.headers)
        except Exception as exc:  # a bug in the fake must still answer, or the client hangs
            self._send(500, {"error": {"code": 500, "message": f"fake bug: {exc!r}", "status": "INTERNAL"}})


def _control(state: FakeState, method: str, path: str, query: str, body: Any) -> Any:
    params = {k: v[-1] for k, v in parse_qs(query).items()}
    if path == "/_fake/requests" and method == "GET":
        contains = params.get("contains", "")
        with state.lock:
            return {"requests": [r for r in state.requests if contains in r["path"]]}
    if path == "/_fake/faults" and method == "POST":
        fault = Fault.from_json(body)
        with state.lock:
            state.faults.append(fault)
        return {"ok": True}
    if path == "/_fake/faults" and method == "DELETE":
        with state.lock:
            state.faults.clear()
        return {"ok": True}
    if path == "/_fake/faults" and method == "GET":
        with state.lock:
            return {"faults": [vars(f) for f in state.faults]}
    if path == "/_fake/script" and method == "POST":
        with state.lock:
            state.scripts.append((str(body.get("model", "")), str(body["text"])))
        return {"ok": True}
    if path == "/_fake/config" and method == "POST":
        with state.lock:
            if "embedding_dim" in body:
                state.embedding_dim = int(body["embedding_dim"])
            if "default_polls" in body:
                polls = body["default_polls"]
                state.default_polls = None if polls is None else int(polls)
        return {"ok": True}
    if path == "/_fake/paid" and method == "GET":
        with state.lock:
            return {"paid": list(state.paid)}
    if path == "/_fake/operations" and method == "GET":
        with state.lock:
            return {"operations": [op.public() for op in state.operations.values()]}
    if path == "/_fake/reset" and method == "POST":
        state.reset()
        return {"ok": True}
    raise _error(404, f"no control route {method} {path}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState


# ---------------------------------------------------------------------------------------------
# Control client: the same calls whether the fake runs in this process or in another one.


class FakeGeminiControl:
    """Reads the fake's request log and scripts its behaviour over its `/_fake/` API."""

    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/")

    @property
    def url(self) -> str:
        return self._url

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"fake control {method} {path} failed: {exc.read()!r}") from exc

    def requests(self, contains: str = "") -> list[dict[str, Any]]:
        """Every API request so far (oldest first) whose path contains `contains`."""
        query = f"?contains={urllib.parse.quote(contains)}" if contains else ""
        return list(self._call("GET", "/_fake/requests" + query)["requests"])

    def requests_to(self, contains: str) -> list[dict[str, Any]]:
        return self.requests(contains)

    def add_fault(self, match: str, kind: str = "status", **fields: Any) -> None:
        """Queue a fault; see `Fault` for the fields (times=None makes it sticky)."""
        self._call("POST", "/_fake/faults", {"match": match, "kind": kind, **fields})

    def clear_faults(self) -> None:
        self._call("DELETE", "/_fake/faults")

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_fake/faults")["faults"])

    def script(self, model: str, text: str) -> None:
        """The next generateContent for a model whose name contains `model` answers `text`."""
        self._call("POST", "/_fake/script", {"model": model, "text": text})

    def script_json(self, model: str, value: Any) -> None:
        self.script(model, json.dumps(value))

    def configure(self, *, embedding_dim: int | None = None, default_polls: int | str | None = "keep") -> None:
        """Embedding size, and how many polls a new Veo operation needs before done (None: never)."""
        body: dict[str, Any] = {}
        if embedding_dim is not None:
            body["embedding_dim"] = embedding_dim
        if default_polls != "keep":
            body["default_polls"] = default_polls
        self._call("POST", "/_fake/config", body)

    def operations(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_fake/operations")["operations"])

    def paid(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The paid calls the fake processed (would have billed), oldest first: Veo submits
        (kind "video") and image generations ("image"), each with its `studio-job` label (or None)."""
        return [p for p in self._call("GET", "/_fake/paid")["paid"] if kind is None or p["kind"] == kind]

    def paid_by_label(self, kind: str | None = None) -> dict[str | None, int]:
        """How many paid calls were processed per `studio-job` label."""
        counts: dict[str | None, int] = {}
        for call in self.paid(kind):
            counts[call["label"]] = counts.get(call["label"], 0) + 1
        return counts

    def reset(self) -> None:
        """Forget requests, faults, scripts and operations; restore the default configuration."""
        self._call("POST", "/_fake/reset")

    def write_adc_file(self, path: str) -> str:
        """Write an ADC credentials file whose token endpoint is this fake (for Vertex project mode).

        Point GOOGLE_APPLICATION_CREDENTIALS at it."""
        # `authorized_user` files always refresh at oauth2.googleapis.com; this type honours token_url.
        info = {
            "type": "external_account_authorized_user",
            "audience": "//iam.googleapis.com/locations/global/workforcePools/fake/providers/fake",
            "client_id": "fake-client",
            "client_secret": "fake-secret",
            "refresh_token": "fake-refresh",
            "token_url": f"{self.url}/token",
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(info, handle)
        return path


class FakeGemini(FakeGeminiControl):
    """The fake in a background thread of this process: `with FakeGemini() as fake: fake.url`.

    Fakes given one `state` are one API on several ports (each request records its Host header), so a
    test can tell which of several servers sent each call."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        embedding_dim: int = 768,
        default_polls: int = 1,
        state: FakeState | None = None,
    ):
        self.state = state or FakeState(embedding_dim=embedding_dim, default_polls=default_polls)
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None
        host_, port_ = self._server.server_address[:2]
        super().__init__(f"http://{host_!s}:{port_}")

    def start(self) -> FakeGemini:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="fake-gemini", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()  # wakes handlers sleeping in a delay fault
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeGeminiProcess(FakeGeminiControl):
    """The fake as its own process, so it outlives a server process a test kills."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._process: subprocess.Popen[str] | None = None
        super().__init__("http://127.0.0.1:0")

    def start(self) -> FakeGeminiProcess:
        # It stops when our end of its stdin closes, so a crashed test run leaves no orphan behind.
        command = [sys.executable, __file__, "--port", str(self._port), "--exit-on-stdin-eof"]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"fake_gemini did not start (said {line!r})")
        self._url = line
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            for pipe in (self._process.stdin, self._process.stdout):
                if pipe is not None:
                    pipe.close()
            self._process = None

    def __enter__(self) -> FakeGeminiProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Gemini / Vertex AI server for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--embedding-dim", type=int, default=768)
    parser.add_argument("--default-polls", type=int, default=1)
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin closes (the parent died)")
    args = parser.parse_args(argv)
    fake = FakeGemini(args.host, args.port, embedding_dim=args.embedding_dim, default_polls=args.default_polls)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if args.exit_on_stdin_eof:

        def watch_parent() -> None:
            sys.stdin.read()
            stop.set()

        threading.Thread(target=watch_parent, daemon=True).start()
    fake.start()
    print(fake.url, flush=True)  # the one line on stdout: a parent reads it to find the port
    stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
