"""The real google-genai client, in Developer-API and Vertex modes, against the fake over HTTP,
and every fault mapped to an actionable GenerationError with no key in it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from core.genai import (
    GenAIClients,
    GenAISettings,
    GenerationError,
    MissingCredentials,
    generate_structured,
    generate_text,
    map_operation_error,
)
from tests.conftest import REPO
from tests.fake_gemini import FakeGemini, FakeGeminiControl, FakeGeminiProcess, embedding_for

DEV_KEY = "AIzaFAKEdeveloperKEY0123456789abcdefghijk"  # shaped like a real key, on purpose
VERTEX_KEY = "vertex-express-secret-42"
TEXT_MODEL = "gemini-2.5-flash"
VEO = "veo-3.1-generate-001"


class Shot(BaseModel):
    number: int
    description: str
    duration_s: float


class ShotList(BaseModel):
    scene: str
    shots: list[Shot]


@pytest.fixture(autouse=True)
def _clean(fake: FakeGemini) -> None:
    fake.reset()


def make_settings(fake: FakeGeminiControl, **overrides: Any) -> GenAISettings:
    values: dict[str, Any] = {
        "api_key": DEV_KEY,
        "vertex_api_key": VERTEX_KEY,
        "gemini_base_url": fake.url,
        "vertex_base_url": fake.url,
        "timeout_s": 5.0,
        "max_retries": 2,
        "retry_initial_delay_s": 0.01,
        "retry_max_delay_s": 0.05,
        "retry_jitter_s": 0.01,
    }
    return GenAISettings.model_validate({**values, **overrides})


@pytest.fixture
async def clients(fake: FakeGemini) -> AsyncIterator[GenAIClients]:
    built = GenAIClients(make_settings(fake))
    yield built
    await built.aclose()


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert DEV_KEY not in text and VERTEX_KEY not in text


def assert_log_has_no_secret(fake: FakeGemini) -> None:
    assert_no_secret(json.dumps(fake.requests()))


# --------------------------------------------------------------------------- Developer API


async def test_text_round_trip(fake: FakeGemini, clients: GenAIClients) -> None:
    text = await generate_text(clients, TEXT_MODEL, "Describe the opening shot.")
    assert "Describe the opening shot." in text
    [request] = fake.requests_to(":generateContent")
    assert request["path"] == f"/v1/models/{TEXT_MODEL}:generateContent"
    assert request["headers"]["x-goog-api-key"] == "<redacted>"
    assert request["body"]["contents"][0]["parts"][0]["text"] == "Describe the opening shot."
    assert_log_has_no_secret(fake)


async def test_structured_output_uses_the_scripted_json(fake: FakeGemini, clients: GenAIClients) -> None:
    plan = {"scene": "3", "shots": [{"number": 1, "description": "Wide on the pier", "duration_s": 8}]}
    fake.script_json(TEXT_MODEL, plan)
    result = await generate_structured(clients, TEXT_MODEL, "Plan scene 3", ShotList)
    assert result == ShotList.model_validate(plan)
    config = fake.requests_to(":generateContent")[0]["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"]["properties"]["shots"]["type"] == "ARRAY"


async def test_unscripted_structured_output_is_a_valid_instance(clients: GenAIClients) -> None:
    result = await generate_structured(clients, TEXT_MODEL, "Plan scene 1", ShotList)
    assert isinstance(result, ShotList) and len(result.shots) == 1


async def test_script_only_applies_to_its_model(fake: FakeGemini, clients: GenAIClients) -> None:
    fake.script("gemini-2.5-pro", "for pro only")
    assert "for pro only" not in await generate_text(clients, TEXT_MODEL, "hello")
    assert await generate_text(clients, "gemini-2.5-pro", "hello") == "for pro only"


@pytest.mark.parametrize(
    ("script", "fault"),
    [(None, "invalid_json"), (json.dumps({"scene": "3", "shots": [{"number": "one"}]}), None)],
    ids=["not-json", "wrong-shape"],
)
async def test_malformed_structured_output(
    fake: FakeGemini, clients: GenAIClients, script: str | None, fault: str | None
) -> None:
    if script is not None:
        fake.script(TEXT_MODEL, script)
    if fault is not None:
        fake.add_fault(":generateContent", fault)
    with pytest.raises(GenerationError) as info:
        await generate_structured(clients, TEXT_MODEL, "Plan scene 3", ShotList)
    assert info.value.kind == "malformed_response"
    assert "ShotList" in str(info.value)


async def test_embeddings_are_deterministic(fake: FakeGemini, clients: GenAIClients) -> None:
    from google.genai import types

    texts: list[Any] = ["neon rain", "neon rain", "dry desert"]
    response = await clients.developer().models.embed_content(
        model="gemini-embedding-001",
        contents=texts,
        config=types.EmbedContentConfig(output_dimensionality=16),
    )
    vectors = [e.values for e in response.embeddings or []]
    assert [len(v or []) for v in vectors] == [16, 16, 16]
    assert vectors[0] == vectors[1] != vectors[2]
    assert vectors[0] == embedding_for("neon rain", 16)
    [request] = fake.requests_to(":batchEmbedContents")
    assert request["path"] == "/v1/models/gemini-embedding-001:batchEmbedContents"


async def test_native_image_output(fake: FakeGemini, clients: GenAIClients) -> None:
    from google.genai import types

    response = await clients.developer().models.generate_content(
        model="gemini-2.5-flash-image",
        contents="storyboard frame: a lighthouse at dusk",
        config=types.GenerateContentConfig(response_modalities=["IMAGE"]),
    )
    parts = response.candidates[0].content.parts  # type: ignore[index, union-attr]
    images = [p.inline_data for p in parts or [] if p.inline_data]
    assert images and images[0].mime_type == "image/png"
    assert (images[0].data or b"").startswith(b"\x89PNG\r\n\x1a\n")


# --------------------------------------------------------------------------- Vertex AI


async def _wait_done(clients: GenAIClients, operation: Any, limit: int = 20) -> Any:
    for _ in range(limit):
        if operation.done:
            return operation
        operation = await clients.vertex().operations.get(operation)
    raise AssertionError("operation never finished")


async def _submit_video(clients: GenAIClients, prompt: str = "a red car on a wet street") -> Any:
    from google.genai import types

    return await clients.vertex().models.generate_videos(
        model=VEO,
        source=types.GenerateVideosSource(prompt=prompt),
        config=types.GenerateVideosConfig(number_of_videos=1, duration_seconds=8, negative_prompt="daylight", seed=7),
    )


async def test_veo_submit_and_poll_express_mode(fake: FakeGemini, clients: GenAIClients) -> None:
    import av

    fake.configure(default_polls=2)
    operation = await _submit_video(clients)
    assert not operation.done
    assert operation.name.startswith(f"projects/fake-project/locations/us-central1/publishers/google/models/{VEO}/")
    operation = await _wait_done(clients, operation)
    assert operation.error is None
    video = operation.response.generated_videos[0].video
    assert video.mime_type == "video/mp4"
    with av.open(io.BytesIO(video.video_bytes), mode="r") as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 4 and (frames[0].width, frames[0].height) == (64, 36)
    assert operation.response.rai_media_filtered_count == 0

    [submit] = fake.requests_to(":predictLongRunning")
    assert submit["path"] == f"/v1beta1/publishers/google/models/{VEO}:predictLongRunning"
    assert submit["body"]["instances"][0]["prompt"] == "a red car on a wet street"
    assert submit["body"]["parameters"]["negativePrompt"] == "daylight"
    polls = fake.requests_to(":fetchPredictOperation")
    assert len(polls) == 3  # two "not yet", then done
    prefix = f"/v1beta1/projects/fake-project/locations/us-central1/publishers/google/models/{VEO}"
    assert polls[0]["path"] == prefix + ":fetchPredictOperation"
    assert polls[0]["body"] == {"operationName": operation.name}
    assert_log_has_no_secret(fake)


async def test_veo_project_mode_with_adc(fake: FakeGemini, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", fake.write_adc_file(str(tmp_path / "adc.json")))
    settings = make_settings(fake, vertex_api_key=None, project="studio-proj", location="europe-west4")
    clients = GenAIClients(settings)
    try:
        operation = await _wait_done(clients, await _submit_video(clients))
    finally:
        await clients.aclose()
    assert operation.response.generated_videos[0].video.video_bytes
    submit = fake.requests_to(":predictLongRunning")[0]
    model_path = f"/v1beta1/projects/studio-proj/locations/europe-west4/publishers/google/models/{VEO}"
    assert submit["path"] == model_path + ":predictLongRunning"
    assert submit["headers"]["authorization"] == "<redacted>"
    assert "x-goog-api-key" not in submit["headers"]


async def test_vertex_without_adc_is_no_credentials(
    fake: FakeGemini, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    clients = GenAIClients(make_settings(fake, vertex_api_key=None, project="studio-proj"))
    try:
        with pytest.raises(Exception) as info:
            await _submit_video(clients)
        error = clients.map_error(info.value, backend="vertex")
    finally:
        await clients.aclose()
    assert error.kind == "no_credentials"
    assert "gcloud auth application-default login" in str(error)
    assert fake.requests() == []


async def test_veo_operation_error_is_returned_not_raised(fake: FakeGemini, clients: GenAIClients) -> None:
    fake.add_fault(":predictLongRunning", "operation_error", error_code=8, message="Veo quota exceeded.")
    operation = await _wait_done(clients, await _submit_video(clients))
    assert operation.error == {"code": 8, "message": "Veo quota exceeded."}
    error = map_operation_error(operation.error)
    assert error.kind == "quota_exhausted" and "Veo quota exceeded." in str(error)


async def test_veo_rai_filtered(fake: FakeGemini, clients: GenAIClients) -> None:
    fake.add_fault(VEO, "rai_filtered", rai_reasons=["Contains a public figure."])
    operation = await _wait_done(clients, await _submit_video(clients))
    assert operation.error is None
    assert not operation.response.generated_videos
    assert operation.response.rai_media_filtered_count == 1
    assert operation.response.rai_media_filtered_reasons == ["Contains a public figure."]


async def test_veo_never_done_and_gcs_output(fake: FakeGemini, clients: GenAIClients) -> None:
    from google.genai import types

    fake.add_fault(":predictLongRunning", "polls", polls=None)
    stuck = await _submit_video(clients)
    for _ in range(5):
        stuck = await clients.vertex().operations.get(stuck)
    assert not stuck.done
    assert [op["polls_seen"] for op in fake.operations()] == [5]

    operation = await clients.vertex().models.generate_videos(
        model=VEO,
        source=types.GenerateVideosSource(prompt="gcs please"),
        config=types.GenerateVideosConfig(output_gcs_uri="gs://bucket/out"),
    )
    operation = await _wait_done(clients, operation)
    assert operation.response.generated_videos[0].video.uri.startswith("gs://bucket/out/")


async def test_poll_retries_a_503(fake: FakeGemini, clients: GenAIClients) -> None:
    operation = await _submit_video(clients)
    fake.add_fault(":fetchPredictOperation", status=503)
    operation = await _wait_done(clients, operation)
    assert operation.response.generated_videos
    assert len(fake.requests_to(":fetchPredictOperation")) == 3  # 503, retried "not yet", done


async def test_imagen_predict(fake: FakeGemini, clients: GenAIClients) -> None:
    from google.genai import types

    response = await clients.vertex().models.generate_images(
        model="imagen-4.0-generate-001",
        prompt="character sheet, front view",
        config=types.GenerateImagesConfig(number_of_images=2),
    )
    images = [g.image.image_bytes for g in response.generated_images or [] if g.image]
    assert len(images) == 2 and all(b and b.startswith(b"\x89PNG") for b in images)
    [request] = fake.requests_to(":predict")
    assert request["path"] == "/v1beta1/publishers/google/models/imagen-4.0-generate-001:predict"
    assert request["body"]["parameters"]["sampleCount"] == 2


async def test_vertex_text_and_embeddings(fake: FakeGemini) -> None:
    clients = GenAIClients(make_settings(fake, use_vertex=True))
    try:
        texts: list[Any] = ["a", "b"]
        text = await generate_text(clients, TEXT_MODEL, "hello vertex")
        response = await clients.vertex().models.embed_content(model="text-embedding-005", contents=texts)
    finally:
        await clients.aclose()
    assert "hello vertex" in text
    assert [len(e.values or []) for e in response.embeddings or []] == [768, 768]
    paths = [r["path"] for r in fake.requests()]
    assert paths == [
        f"/v1beta1/publishers/google/models/{TEXT_MODEL}:generateContent",
        "/v1beta1/publishers/google/models/text-embedding-005:predict",
    ]


# --------------------------------------------------------------------------- faults and mapping

FAULTS: list[tuple[dict[str, Any], str]] = [
    ({"status": 401}, "auth_refused"),
    ({"status": 403}, "auth_refused"),
    ({"status": 400, "message": "API key not valid. Please pass a valid API key."}, "auth_refused"),
    ({"status": 404}, "model_not_found"),
    ({"status": 429, "retry_delay_s": 7, "times": None}, "quota_exhausted"),
    ({"status": 500, "times": None}, "server_error"),
    ({"status": 503, "times": None}, "server_error"),
    ({"kind": "safety"}, "safety_blocked"),
    ({"kind": "prompt_blocked"}, "safety_blocked"),
    ({"kind": "invalid_json"}, "malformed_response"),
]


@pytest.mark.parametrize(("fault", "kind"), FAULTS, ids=[f"{k}-{f.get('status', f.get('kind'))}" for f, k in FAULTS])
async def test_fault_maps_to_actionable_error(
    fake: FakeGemini, clients: GenAIClients, fault: dict[str, Any], kind: str
) -> None:
    fake.add_fault(":generateContent", **fault)
    with pytest.raises(GenerationError) as info:
        await generate_structured(clients, TEXT_MODEL, "Plan scene 3", ShotList)
    error = info.value
    assert error.kind == kind, str(error)
    assert_no_secret(str(error), repr(error.args))
    if kind == "quota_exhausted":
        assert error.retry_after_s == 7 and "Retry after 7 s" in str(error)
    if kind == "safety_blocked":
        assert error.finish_reason == "SAFETY"
    if fault.get("times", 1) is None:  # sticky: the client retried up to its limit, then gave up
        assert len(fake.requests_to(":generateContent")) == 3


async def test_timeout(fake: FakeGemini) -> None:
    clients = GenAIClients(make_settings(fake, timeout_s=0.3, max_retries=0))
    fake.add_fault(":generateContent", "delay", delay_s=10)
    try:
        with pytest.raises(GenerationError) as info:
            await generate_text(clients, TEXT_MODEL, "slow")
    finally:
        await clients.aclose()
    assert info.value.kind == "timeout" and "0.3 s" in str(info.value)


@pytest.mark.parametrize("status", [429, 503])
async def test_transient_errors_are_retried(fake: FakeGemini, clients: GenAIClients, status: int) -> None:
    fake.add_fault(":generateContent", status=status, retry_delay_s=0.01)
    assert "retry me" in await generate_text(clients, TEXT_MODEL, "retry me")
    assert len(fake.requests_to(":generateContent")) == 2


async def test_retried_submit_reaches_the_fake_once_successfully(fake: FakeGemini, clients: GenAIClients) -> None:
    fake.add_fault(":predictLongRunning", status=429, retry_delay_s=0.01)
    operation = await _submit_video(clients)
    assert operation.name
    assert len(fake.requests_to(":predictLongRunning")) == 2
    assert len(fake.operations()) == 1  # the 429 created nothing


async def test_lost_submit_reply_duplicates_unless_paid_options_are_used(
    fake: FakeGemini, clients: GenAIClients
) -> None:
    from google.genai import types

    # The backend accepted the job but the reply was lost (503): the default retry submits again.
    fake.add_fault(":predictLongRunning", "status_after", status=503)
    await _submit_video(clients)
    assert len(fake.operations()) == 2

    fake.reset()
    fake.add_fault(":predictLongRunning", "status_after", status=503)
    config = types.GenerateVideosConfig(http_options=clients.paid_http_options())

    async def send(prompt: str) -> types.GenerateVideosOperation:
        return await clients.vertex().models.generate_videos(
            model=VEO, source=types.GenerateVideosSource(prompt=prompt), config=config
        )

    with pytest.raises(GenerationError) as info:
        await clients.send_paid(lambda: send("once"), backend="vertex", model=VEO)
    assert info.value.kind == "server_error"
    assert len(fake.operations()) == 1  # one job, and the caller knows the outcome is uncertain

    fake.add_fault(":predictLongRunning", status=429, retry_delay_s=0.01)  # refused: safe to retry
    await clients.send_paid(lambda: send("again"), backend="vertex", model=VEO)
    assert len(fake.operations()) == 2
    assert len(fake.requests_to(":predictLongRunning")) == 3


@pytest.mark.parametrize("transport", ["auto", "httpx"])
@pytest.mark.parametrize("fault", ["close_after", "reset_after", "slow_after"])
async def test_a_paid_call_makes_one_attempt_whatever_the_transport_fault(
    fake: FakeGemini, transport: str, fault: str
) -> None:
    # With retry options, google-genai retries dropped/reset connections and timeouts whatever the
    # status codes: paid_http_options must make it one attempt, on aiohttp and on httpx.
    from google.genai import types

    clients = GenAIClients(make_settings(fake, timeout_s=0.5, transport=transport))
    fake.add_fault(":predictLongRunning", fault, delay_s=2.0, times=None)
    config = types.GenerateVideosConfig(http_options=clients.paid_http_options(), labels={"studio-job": "vj_1"})

    async def send() -> types.GenerateVideosOperation:
        return await clients.vertex().models.generate_videos(
            model=VEO, source=types.GenerateVideosSource(prompt="once"), config=config
        )

    try:
        with pytest.raises(GenerationError) as info:
            await clients.send_paid(send, backend="vertex", model=VEO)
    finally:
        await clients.aclose()
    assert info.value.kind == ("timeout" if fault == "slow_after" else "connection_lost"), str(info.value)
    assert fake.paid_by_label("video") == {"vj_1": 1}


async def test_a_refused_connection_is_connection_error_and_nothing_was_sent() -> None:
    import socket

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clients = GenAIClients(
        GenAISettings(vertex_api_key=VERTEX_KEY, vertex_base_url=f"http://127.0.0.1:{port}", max_retries=0)
    )
    from google.genai import types

    try:
        with pytest.raises(Exception) as info:
            await clients.vertex().models.generate_videos(
                model=VEO,
                source=types.GenerateVideosSource(prompt="x"),
                config=types.GenerateVideosConfig(http_options=clients.paid_http_options()),
            )
    finally:
        await clients.aclose()
    error = clients.map_error(info.value)
    assert error.kind == "connection_error" and "nothing was sent" in str(error)


async def test_key_echoed_by_the_server_is_scrubbed(fake: FakeGemini, clients: GenAIClients) -> None:
    fake.add_fault(":generateContent", status=400, message=f"Bad request for key {DEV_KEY} / {VERTEX_KEY}")
    with pytest.raises(GenerationError) as info:
        await generate_text(clients, TEXT_MODEL, "hi")
    assert info.value.kind == "invalid_request"
    assert "***" in str(info.value)
    assert_no_secret(str(info.value))


def test_operation_error_codes() -> None:
    assert map_operation_error({"code": 3, "message": "Prompt rejected by safety filters."}).kind == "safety_blocked"
    assert map_operation_error({"code": 13, "message": "boom"}).kind == "server_error"
    assert map_operation_error({"code": 99}).kind == "unknown"


# --------------------------------------------------------------------------- credentials


async def test_missing_credentials_say_what_to_set() -> None:
    clients = GenAIClients(GenAISettings())
    with pytest.raises(MissingCredentials) as dev:
        clients.developer()
    with pytest.raises(MissingCredentials) as vertex:
        clients.vertex()
    assert "GEMINI_API_KEY" in str(dev.value) and dev.value.kind == "no_credentials"
    assert "GOOGLE_CLOUD_PROJECT" in str(vertex.value) and "GOOGLE_GENAI_USE_VERTEXAI" in str(vertex.value)
    assert str(dev.value) != str(vertex.value)
    with pytest.raises(MissingCredentials):
        await generate_text(clients, TEXT_MODEL, "hi")


def test_describe_never_shows_secrets(fake: FakeGemini) -> None:
    report = GenAIClients(make_settings(fake)).describe()
    assert report.developer_api_key and report.vertex_api_key and report.vertex_auth == "express_api_key"
    assert report.text_backend == "developer"
    assert_no_secret(report.model_dump_json())
    adc = GenAIClients(GenAISettings(project="p", use_vertex=True)).describe()
    assert (adc.vertex_auth, adc.vertex_location, adc.text_backend) == ("adc", "us-central1", "vertex")
    assert not adc.developer_ready


def test_settings_from_env() -> None:
    env = {
        "GEMINI_API_KEY": "gem",
        "GOOGLE_API_KEY": "goog",
        "GOOGLE_GENAI_USE_VERTEXAI": "true",
        "GOOGLE_CLOUD_LOCATION": "us-east1",
        "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:1",
        "GOOGLE_VERTEX_BASE_URL": "http://127.0.0.1:2",
    }
    settings = GenAISettings.from_env(env, timeout_s=9)
    assert settings.api_key == SecretStr("goog")  # the SDK's precedence
    assert settings.use_vertex is True and settings.vertex_api_key == SecretStr("goog")  # express mode
    assert (settings.location, settings.gemini_base_url, settings.vertex_base_url, settings.timeout_s) == (
        "us-east1",
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        9,
    )
    with_project = GenAISettings.from_env({**env, "GOOGLE_CLOUD_PROJECT": "p"})
    assert with_project.vertex_api_key is None and with_project.project == "p"
    assert GenAISettings.from_env({}).use_vertex is None


# --------------------------------------------------------------------------- as a separate process


async def test_fake_as_a_process() -> None:
    with FakeGeminiProcess() as proc:
        clients = GenAIClients(make_settings(proc))
        try:
            assert await generate_text(clients, TEXT_MODEL, "from another process")
            proc.add_fault(":generateContent", status=404)
            with pytest.raises(GenerationError) as info:
                await generate_text(clients, TEXT_MODEL, "missing")
        finally:
            await clients.aclose()
        assert info.value.kind == "model_not_found"
        assert len(proc.requests_to(":generateContent")) == 2


def test_process_prints_only_its_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_gemini", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert out == "" and err == ""
