"""Issue 24 on jobs: a batch item refused before upload keeps its reason in the job record, so any process shows it
(item 12); a job's cost is booked once, when its results are first read, in the ledger of the process that reads
them, at the price of the day it was submitted; a job that ends with nothing to bill gives its hold back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import pepperpy
from pepperpy.jobs import JobRef
from pepperpy.testing import FakeProviderServer
from tests.jobs.helpers import KEY, job_client

CHILD = """
import json, sys
import pepperpy
with pepperpy.Client(env_file=None, budget=5.0) as client:
    job = client.batch_job(sys.argv[1])
    job.wait(poll=0.01)
    out = [{"text": r.text, "cost": r.cost} if isinstance(r, pepperpy.Completion) else {"error": str(r)}
           for r in job.results()]
    job.results(); client.batch_job(sys.argv[1]).results()  # read again here: booked once
    usage = client.usage().by_model.get("openai/gpt-4o-mini")
    print(json.dumps({"results": out, "calls": usage and usage.calls, "errors": usage and usage.errors,
                      "cost": usage and usage.cost}))
"""


def test_a_refused_items_reason_and_the_jobs_cost_are_read_in_another_process(server: FakeProviderServer) -> None:
    with job_client(server, budget=5.0) as client:
        job = client.batch(["one", {"prompt": "two", "temperature": 7}, "three"], model="gpt-4o-mini")
        said = str(job.refused[1])
    assert "temperature=7 is out of range" in said
    env = {**os.environ, "PEPPERPY_PROVIDER_OPENAI_BASE_URL": server.base_url("openai"),
           "PEPPERPY_PROVIDER_OPENAI_API_KEY": KEY}
    child = subprocess.run([sys.executable, "-c", CHILD, job.id], capture_output=True, text=True, env=env, timeout=60)
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    refused = seen["results"][1]["error"]
    assert "item 1 was refused before upload (its temperature): " in refused
    assert "temperature=7 is out of range" in refused and "raised the details" not in refused
    costs = [r["cost"] for r in seen["results"] if "cost" in r]
    assert len(costs) == 2 and all(costs)
    assert (seen["calls"], seen["errors"]) == (3, 1)  # two answers and the refused item, booked once
    assert seen["cost"] == pytest.approx(sum(costs))


def test_a_refusal_reason_never_keeps_a_credential(server: FakeProviderServer) -> None:
    with job_client(server) as client:
        job = client.batch(["fine", {"prompt": "x", "api_key": "sk-proj-abcdefghijklmnop0123456789"}],
                           model="gpt-4o-mini")
    assert "sk-proj" not in job.id and "abcdefghijklmnop" not in str(JobRef.decode(job.id).reasons)
    assert JobRef.decode(job.id).reasons[1]  # but why it was refused is kept


def test_a_batch_is_priced_at_its_submission_day(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with job_client(server) as client:
        job = client.batch(["one"], model="gemini-pro")  # $2/$10 until 2026-11-30, $4/$20 from 2026-12-01
        ref = JobRef.decode(job.id)
        old = JobRef(ref.kind, ref.provider, ref.model, ref.parts, ref.total, ref.rejected,
                     {**ref.extra, "d": "2026-11-20"})  # the same job, had it been submitted in November
        then = client.batch_job(old.encode())
        then.wait(poll=0)
        now = client.batch_job(job.id)
        now.wait(poll=0)
        assert now.results()[0].cost == pytest.approx(2 * then.results()[0].cost)


def test_a_failed_video_gives_its_reservation_back(server: FakeProviderServer) -> None:
    server.jobs.outcome("failed")
    with job_client(server, budget=1.0) as client:
        job = client.generate_video("cat", model="veo-3.1-fast-generate-preview", seconds=8)
        keeper = client._pipeline.observer.budget
        assert keeper.spent() == pytest.approx(0.80)
        job.wait(poll=0)
        with pytest.raises(pepperpy.JobError):
            job.result()
        assert keeper.spent() == 0.0 and len(client.usage()) == 0
