"""Issue 16, must-show 2: a job started in one process is waited for and read in another, by its id alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.jobs.helpers import KEY, job_client

CHILD = """
import json, sys
import pepperpy
job_id = sys.argv[1]
with pepperpy.Client(env_file=None) as client:
    job = client.batch_job(job_id)
    final = job.wait(poll=0.01)
    out = [{"text": r.text, "cost": r.cost} if isinstance(r, pepperpy.Completion)
           else {"error": type(r).__name__, "param": getattr(r, "param", None)} for r in job.results()]
    print(json.dumps({"state": final.state, "done": final.done, "failed": final.failed, "results": out,
                      "ids": list(job.provider_ids)}))
"""

MODELS = {"anthropic": "claude-haiku-4-5", "gemini": "gemini-3.8-flash", "openai": "gpt-4o-mini"}


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_a_job_submitted_here_is_waited_for_and_read_in_another_process(provider: str,
                                                                        server: FakeProviderServer) -> None:
    server.jobs.polls = 4
    limits = {"options": {"batch_max_requests": 3}}  # two provider batches behind the one id
    with job_client(server, providers={provider: limits}) as client:
        job = client.batch(["one", "two", {"prompt": "bad", "temperature": 7}, "four", "five"],
                           model=MODELS[provider])
        assert job.status().state == "running"
        submitted = len(server.requests)
        env = {**os.environ, f"PEPPERPY_PROVIDER_{provider.upper()}_BASE_URL": server.base_url(provider),
               f"PEPPERPY_PROVIDER_{provider.upper()}_API_KEY": KEY}
        child = subprocess.run([sys.executable, "-c", CHILD, job.id], capture_output=True, text=True, env=env,
                               timeout=60)
        assert child.returncode == 0, child.stderr
        seen = json.loads(child.stdout)
        assert seen["state"] == "completed" and (seen["done"], seen["failed"]) == (4, 1)
        assert seen["ids"] == list(job.provider_ids) and len(seen["ids"]) == 2
        assert [r.get("text") or r["error"] for r in seen["results"]] == [
            "echo: one", "echo: two", "ValidationError", "echo: four", "echo: five"]
        assert seen["results"][2]["param"] == "temperature"
        child_ports = {r.client_port for r in server.requests[submitted:]}
        parent_ports = {r.client_port for r in server.requests[:submitted]}
        assert child_ports and not child_ports & parent_ports  # the child's own connections did the polling
        # and the first process reads the same results afterwards
        mine = job.results()
        assert [r.cost for r in mine if isinstance(r, pepperpy.Completion)] == [
            r["cost"] for r in seen["results"] if "text" in r]


VIDEO_CHILD = """
import sys
import pepperpy
with pepperpy.Client(env_file=None) as client:
    job = client.video_job(sys.argv[1])
    print(job.wait(poll=0.01).state, job.result().save(sys.argv[2]).stat().st_size)
"""


def test_a_video_started_here_is_saved_by_another_process(server: FakeProviderServer, tmp_path: object) -> None:
    from pathlib import Path

    from pepperpy.testing._jobs_videos import fake_video

    with job_client(server) as client:
        job = client.generate_video("Waves at dusk", model="veo-3.1-fast-generate-preview", seconds=6)
    env = {**os.environ, "PEPPERPY_PROVIDER_GEMINI_BASE_URL": server.base_url("gemini"),
           "PEPPERPY_PROVIDER_GEMINI_API_KEY": KEY}
    target = Path(str(tmp_path)) / "waves.mp4"
    child = subprocess.run([sys.executable, "-c", VIDEO_CHILD, job.id, str(target)], capture_output=True, text=True,
                           env=env, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["completed", str(len(fake_video("Waves at dusk", 6)))]
    assert target.read_bytes() == fake_video("Waves at dusk", 6)
    storage = server.requests[-1]
    assert storage.path.startswith("/storage/") and "x-goog-api-key" not in storage.headers
