"""``pepperpy batch submit / status / results`` and ``pepperpy video``, in-process against the fake server."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from pepperpy import cli
from pepperpy.testing import FakeProviderServer, server_environ
from pepperpy.testing._jobs_videos import fake_video

ITEMS = ['"What is the capital of France?"', '{"prompt": "And of Peru?", "max_tokens": 20}',
         '[{"role": "user", "content": "And of Japan?"}]', '{"prompt": "too hot", "temperature": 9}']


@pytest.fixture
def offline(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    for name, value in server_environ(server).items():
        monkeypatch.setenv(name, value)
    server.jobs.polls = 1
    return server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_submit_status_and_results(offline: FakeProviderServer, capsys: pytest.CaptureFixture[str],
                                   tmp_path: Path) -> None:
    (tmp_path / "prompts.jsonl").write_text("\n".join(ITEMS) + "\n\n", encoding="utf-8")
    code, out, err = run(capsys, "batch", "submit", "prompts.jsonl", "-m", "claude-haiku-4-5", "--max-tokens", "50",
                         "-o", "job.id")
    job_id = out.strip()
    assert code == 0 and job_id.startswith("batch:anthropic:") and (tmp_path / "job.id").read_text().strip() == job_id
    assert "4 items · 1 provider batch" in err and "item 3 refused before upload: temperature=9" in err
    sent = offline.requests[0].json["requests"]
    assert [r["custom_id"] for r in sent] == ["item-0", "item-1", "item-2"]
    assert [r["params"]["max_tokens"] for r in sent] == [50, 20, 50]  # an item's own value wins

    code, out, _ = run(capsys, "batch", "status", "@job.id")
    assert code == 0 and out.startswith("completed 3/4 done, 1 failed") and "msgbatch_fake" in out

    code, out, err = run(capsys, "batch", "results", job_id, "-o", "answers.jsonl")
    assert (code, out) == (0, "") and "3 answers, 1 error · " in err and " out · $" in err  # totals: tokens, cost
    lines = [json.loads(line) for line in (tmp_path / "answers.jsonl").read_text().splitlines()]
    assert [line.get("text") for line in lines] == ["echo: What is the capital of France?", "echo: And of Peru?",
                                                    "echo: And of Japan?", None]
    assert lines[3] == {"index": 3, "error": {"type": "ValidationError", "status_code": None, "state": None,
                                              "message": lines[3]["error"]["message"]}}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left


def test_results_wait_first_and_plain_text_from_stdin(offline: FakeProviderServer, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    offline.jobs.polls = 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("first question\nsecond question\n"))
    code, out, _ = run(capsys, "batch", "submit", "-", "--text", "-m", "gemini-flash")
    job_id = out.strip()
    assert code == 0 and job_id.startswith("batch:gemini:")
    code, out, err = run(capsys, "batch", "results", job_id)
    assert code == 1 and "still running" in err and "`pepperpy batch results ID --wait`" in err and "job." not in err
    code, out, err = run(capsys, "batch", "results", "--wait", job_id)
    assert code == 0 and [json.loads(line)["text"] for line in out.splitlines()] == [
        "echo: first question", "echo: second question"]
    assert "[batch] completed 2/2 done" in err


@pytest.mark.parametrize("line, words", [
    ("not json", "prompts.jsonl:2 is not JSON"),
])
def test_a_bad_file_is_one_clear_error(line: str, words: str, offline: FakeProviderServer,
                                       capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "prompts.jsonl").write_text(f'"fine"\n{line}\n', encoding="utf-8")
    code, out, err = run(capsys, "batch", "submit", "prompts.jsonl", "-m", "claude-haiku-4-5")
    assert (code, out) == (1, "") and words in err and offline.requests == []
    assert run(capsys, "batch", "submit", "missing.jsonl", "-m", "claude-haiku-4-5")[2].startswith(
        "error: cannot read missing.jsonl")
    assert "cannot read the job id from nope" in run(capsys, "batch", "status", "@nope")[2]


def test_video_waits_with_a_progress_line_and_saves(offline: FakeProviderServer, capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    offline.jobs.polls = 2
    code, out, err = run(capsys, "video", "A red kite over the sea", "-m", "veo-3.1-fast-generate-preview",
                         "--seconds", "4", "--size", "1280x720", "-o", "kite.mp4")
    assert (code, out) == (0, "kite.mp4\n")
    assert (tmp_path / "kite.mp4").read_bytes() == fake_video("A red kite over the sea", 4)
    assert "[video] running 50%\n[video] completed 100%\n" in err and "$0.4000" in err
    job_id = err.split("[video job ", 1)[1].split(":", 3)
    assert job_id[0] == "video" and job_id[1] == "gemini"


def test_video_resumes_a_job_by_id(offline: FakeProviderServer, capsys: pytest.CaptureFixture[str],
                                   tmp_path: Path) -> None:
    import pepperpy

    job = pepperpy.Client().generate_video("dusk", model="veo-3.1-lite-generate-preview")
    (tmp_path / "video.id").write_text(job.id)
    assert run(capsys, "video", "--job", "@video.id", "-o", "dusk.mp4")[:2] == (0, "dusk.mp4\n")
    assert (tmp_path / "dusk.mp4").read_bytes() == fake_video("dusk", 8)
    code, _, err = run(capsys, "video", "-o", "x.mp4")
    assert code == 1 and "needs a PROMPT and -m MODEL" in err


def test_results_that_cannot_be_written_leave_no_partial_file(offline: FakeProviderServer,
                                                              capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path) -> None:
    (tmp_path / "prompts.jsonl").write_text('"one"\n"two"\n', encoding="utf-8")
    job_id = run(capsys, "batch", "submit", "prompts.jsonl", "-m", "claude-haiku-4-5")[1].strip()
    (tmp_path / "answers.jsonl").mkdir()  # written whole, the rename over it then fails
    code, _, err = run(capsys, "batch", "results", job_id, "-o", "answers.jsonl")
    assert code == 1 and "answers.jsonl" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.jsonl", "prompts.jsonl"]  # no .part left
    code, _, err = run(capsys, "batch", "results", job_id, "-o", "missing/answers.jsonl")
    assert code == 1 and "missing/answers.jsonl" in err


def test_a_video_output_that_cannot_be_written_fails_before_the_job(offline: FakeProviderServer,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "video", "Waves at dusk", "-m", "veo-3.1-fast-generate-preview", "-o",
                         "missing/clip.mp4")
    assert (code, out) == (1, "") and "the folder missing does not exist" in err and "unexpected" not in err
    assert offline.requests == []  # no video made, billed and then lost
