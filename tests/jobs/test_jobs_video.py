"""Issue 16, must-show 3: a video job on each provider through to the saved file, Veo's download redirecting to
another host that never sees the key; and every way a video job goes wrong."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest
import requests

import pepperpy
from pepperpy.testing import FakeProviderServer, fake_providers
from pepperpy.testing._jobs_videos import fake_video
from tests.jobs.helpers import KEY, FakeClock, job_client

PROMPT = "A calico cat playing a piano on stage"
# OpenAI shut its own Videos API down on 2026-09-24, so the packaged catalog lists no OpenAI video model: the
# tests declare one, as a user would for an OpenAI-compatible server that still serves /v1/videos.
SORA = {"id": "sora-2", "mode": "video", "sizes": ["720x1280", "1280x720"], "seconds": [4, 8, 12],
        "pricing": {"per_second": 0.1}}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


@pytest.fixture
def client(server: FakeProviderServer, clock: FakeClock) -> Any:
    policy = pepperpy.RetryPolicy(max_retries=1, sleep=clock.sleep, clock=clock)
    with job_client(server, retry_policy=policy, providers={"openai": {"models": [SORA]}}) as c:
        yield c


def test_veo_through_to_the_saved_file_and_the_key_never_goes_to_storage(client: pepperpy.Client,
                                                                        server: FakeProviderServer,
                                                                        tmp_path: Path) -> None:
    job = client.generate_video(PROMPT, model="veo-3.1-generate-preview", seconds=8, size="1920x1080", image=PNG,
                                negativePrompt="cartoon")
    create = server.requests[0]
    assert (create.method, create.path) == ("POST", "/v1beta/models/veo-3.1-generate-preview:predictLongRunning")
    assert create.json == {
        "instances": [{"prompt": PROMPT, "image": {"bytesBase64Encoded": base64.b64encode(PNG).decode(),
                                                   "mimeType": "image/png"}}],
        "parameters": {"durationSeconds": 8, "aspectRatio": "16:9", "resolution": "1080p", "negativePrompt": "cartoon"}}
    seen: list[pepperpy.JobStatus] = []
    final = job.wait(poll=0, progress=seen.append)
    assert [(s.state, s.percent) for s in seen] == [("running", 50.0), ("completed", 100.0)] and final.finished

    video = job.result()
    assert video.data == fake_video(PROMPT, 8) and video.mime_type == "video/mp4"
    assert (video.model, video.provider, video.seconds, video.size) == ("veo-3.1-generate-preview", "gemini", 8,
                                                                        "1920x1080")
    assert video.cost == pytest.approx(0.4 * 8)  # per second at 1080p, from the catalog
    saved = video.save(tmp_path / "clip.mp4")
    assert saved.read_bytes() == fake_video(PROMPT, 8) and list(tmp_path.iterdir()) == [saved]
    assert job.result() is video  # downloaded once

    download, storage = server.requests[-2:]
    assert download.path.startswith("/v1beta/files/") and download.query == {"alt": "media"}
    assert download.headers["x-goog-api-key"] == KEY  # the provider's own host gets the key...
    assert storage.path.startswith("/storage/") and storage.origin.startswith("http://localhost:")
    assert not {"x-goog-api-key", "authorization", "x-api-key"} & set(storage.headers)  # ...the redirect target not


def test_the_fake_storage_refuses_a_client_that_forwards_the_key(client: pepperpy.Client,
                                                                 server: FakeProviderServer) -> None:
    job = client.generate_video(PROMPT, model="veo-3.1-fast-generate-preview")
    job.wait(poll=0)
    operation = requests.get(f"{server.base_url('gemini')}/{job.provider_id}", headers={"x-goog-api-key": KEY},
                             timeout=5).json()
    uri = operation["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    naive = requests.get(uri, headers={"x-goog-api-key": KEY}, timeout=5)  # requests forwards custom headers
    assert naive.status_code == 403 and "refuses requests carrying an API key" in naive.text
    assert naive.history and naive.history[0].status_code == 302


def test_openai_videos_through_to_the_saved_file(client: pepperpy.Client, server: FakeProviderServer,
                                                 tmp_path: Path) -> None:
    job = client.generate_video(PROMPT, model="sora-2", seconds=8, size="1280x720", image=PNG)
    create = server.requests[0]
    assert (create.method, create.path) == ("POST", "/v1/videos")
    assert create.headers["authorization"] == f"Bearer {KEY}"
    assert create.form == {"prompt": PROMPT, "model": "sora-2", "seconds": "8", "size": "1280x720"}
    (reference,) = create.files("input_reference")
    assert reference.data == PNG and reference.content_type == "image/png"
    final = job.wait(poll=0)
    assert (final.state, final.percent) == ("completed", 100.0)
    video = job.result()
    assert video.save(tmp_path / "sora.mp4").read_bytes() == fake_video(PROMPT, 8)
    assert video.cost == pytest.approx(0.8)
    assert server.requests[-1].path == f"/v1/videos/{job.provider_id}/content"


def test_the_in_process_fake_plays_the_same_redirect(tmp_path: Path) -> None:
    client = pepperpy.Client(env_file=None)
    with fake_providers(client) as fake:
        fake.jobs.polls = 0
        job = client.generate_video("waves", model="veo-3.1-lite-generate-preview", seconds=4)
        assert job.wait(poll=0).state == "completed"
        assert job.result().data == fake_video("waves", 4)
        storage = fake.requests[-1]
        assert storage.origin == "https://storage.fake-provider.test" and "x-goog-api-key" not in storage.headers


def test_a_video_job_resumes_from_its_id(client: pepperpy.Client, server: FakeProviderServer) -> None:
    job = client.generate_video(PROMPT, model="sora-2", seconds=4)
    again = client.video_job(job.id)
    assert again.provider_id == job.provider_id and again.wait(poll=0).state == "completed"
    assert again.result().seconds == 4
    with pytest.raises(pepperpy.ValidationError, match=r"client.batch_job\(id\)"):
        client.video_job(client.batch(["x"], model="claude-haiku-4-5").id)


@pytest.mark.parametrize("model", ["veo-3.1-generate-preview", "sora-2"])
def test_a_failed_video_says_why_and_cancel_says_it_cannot(model: str, client: pepperpy.Client,
                                                           server: FakeProviderServer) -> None:
    server.jobs.outcome("failed")
    job = client.generate_video(PROMPT, model=model)
    with pytest.raises(pepperpy.JobError) as early:
        job.result()
    assert early.value.state in ("queued", "running") and "wait()" in str(early.value)
    assert job.wait(poll=0).state == "failed"
    with pytest.raises(pepperpy.JobError, match="told to fail this video") as failed:
        job.result()
    assert failed.value.state == "failed" and failed.value.job_id == job.id
    with pytest.raises(pepperpy.JobError, match="cannot cancel"):
        job.cancel()


def test_the_cost_is_none_when_the_duration_is_unknown(client: pepperpy.Client) -> None:
    job = client.generate_video(PROMPT, model="veo-3.1-generate-preview")  # Veo does not say how long it made
    job.wait(poll=0)
    assert job.result().cost is None
    job = client.generate_video(PROMPT, model="sora-2")  # OpenAI does: its default, 4 s
    job.wait(poll=0)
    assert job.result().seconds == 4 and job.result().cost == pytest.approx(0.4)


def test_waiting_for_a_video_backs_off_to_ten_seconds(client: pepperpy.Client, server: FakeProviderServer,
                                                      clock: FakeClock) -> None:
    server.jobs.polls = 7
    client.generate_video(PROMPT, model="sora-2").wait()
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


@pytest.mark.parametrize("kwargs, error, words", [
    ({"model": "gpt-4o-mini"}, pepperpy.ValidationError, "chat model; generate_video.. needs a video model such as"),
    ({"model": "claude-haiku-4-5"}, pepperpy.ValidationError, "no video API"),
    ({"model": "sora-2", "seconds": 5}, pepperpy.ValidationError, "use one of 4, 8, 12"),
    ({"model": "sora-2", "seconds": True}, pepperpy.ValidationError, "whole number of seconds"),
    ({"model": "veo", "size": "640x480"}, pepperpy.ValidationError, "use one of 1280x720"),
    ({"model": "veo-3.1-lite-generate-preview", "size": "3840x2160"}, pepperpy.ValidationError, "1920x1080"),
    ({"model": "sora-2", "image": "missing.png"}, pepperpy.ValidationError, "no such file"),
    ({"model": "sora-2", "n": 2}, pepperpy.ValidationError, "one video per job"),
])
def test_bad_video_requests_fail_before_anything_is_sent(kwargs: dict[str, Any], error: type[Exception], words: str,
                                                         client: pepperpy.Client, server: FakeProviderServer) -> None:
    with pytest.raises(error, match=words):
        client.generate_video(PROMPT, **kwargs)
    with pytest.raises(pepperpy.ValidationError, match="needs a prompt"):
        client.generate_video("  ", model="sora-2")
    assert server.requests == []


def test_a_video_save_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    video = pepperpy.Video(b"\x00\x00\x00\x18ftypmp42" + bytes(1000), "video/mp4", "veo-3.1-generate-preview",
                           "gemini")
    occupied = tmp_path / "clip.mp4"
    occupied.mkdir()  # the rename over the target fails once the bytes are written
    with pytest.raises(OSError):
        video.save(occupied)
    assert list(tmp_path.iterdir()) == [occupied] and list(occupied.iterdir()) == []  # no .part file left
    saved = video.save(tmp_path / "other.mp4")
    assert saved.read_bytes() == video.data and sorted(tmp_path.iterdir()) == [occupied, saved]


def test_audit_records_of_jobs_carry_sizes_never_the_image_or_every_prompt(
        server: FakeProviderServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pepperpy")
    server.jobs.polls = 0
    with job_client(server, log_content=True) as client:
        job = client.generate_video(PROMPT, model="veo-3.1-generate-preview", image=PNG)
        client.batch(["first prompt", "second prompt"], model="claude-haiku-4-5").wait(poll=0)
        job.wait(poll=0)
    audited = {r.op: r for r in caplog.records if r.name == "pepperpy.audit"}
    create = audited["video.create"]
    assert create.prompt == {"prompt": PROMPT, "image_bytes": len(PNG)} and create.input_bytes == len(PNG)
    batch = audited["batch.create"]
    assert batch.prompt == {"requests": 2, "bytes": batch.input_bytes} and batch.input_bytes > 0
    text = " ".join(str(vars(r)) for r in caplog.records)
    assert base64.b64encode(PNG).decode() not in text and "second prompt" not in text  # sizes, never content


def test_veo_downloads_through_the_configured_base_url_whatever_host_the_uri_names(
        client: pepperpy.Client, server: FakeProviderServer, tmp_path: Path) -> None:
    # The live API names its files on generativelanguage.googleapis.com even when it was reached through a
    # gateway; like python-genai, pepperpy takes the file id from the uri and downloads from its own base_url.
    server.jobs.file_origin = "https://files.gemini.invalid"
    job = client.generate_video(PROMPT, model="veo-3.1-generate-preview", seconds=4)
    job.wait(poll=0)
    video = job.result()  # fetching the uri as named would fail: that host does not exist
    assert video.data == fake_video(PROMPT, 4)
    download, storage = server.requests[-2:]
    assert download.path.startswith("/v1beta/files/") and download.path.endswith(":download")
    assert download.query == {"alt": "media"} and download.headers["x-goog-api-key"] == KEY
    assert storage.path.startswith("/storage/") and "x-goog-api-key" not in storage.headers
