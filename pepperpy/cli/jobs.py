"""The ``pepperpy`` command's long-running jobs: ``batch submit / status / results`` and ``video``.

    pepperpy batch submit prompts.jsonl -m claude-haiku-4-5 -o job.id          # prints the job id, writes it too
    pepperpy batch status @job.id                                              # an id, or @FILE holding one
    pepperpy batch results @job.id --wait -o answers.jsonl                     # one JSON object per input line
    pepperpy video "A red kite over the sea" -m veo-3.1-fast-generate-preview -o kite.mp4
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from .. import errors
from ..dialects.base import get_dialect
from ..media import write_whole
from ..types import Completion
from ._output import check_output, completion_json
from ._params import add_output, add_params, param_values, refuse_param_as_output
from .catalog import make_client

__all__ = ["add_job_commands", "batch_results", "batch_status", "batch_submit", "read_items", "video"]

EXIT_OK = 0
Command = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def add_job_commands(commands: Any, common: argparse.ArgumentParser, command: Command) -> None:
    """Register ``batch`` (submit, status, results) and ``video`` on the ``pepperpy`` parser."""
    batch = commands.add_parser("batch", parents=[common], help="provider batch jobs: half price, within 24 h",
                                description="Provider batch jobs (docs/jobs.md): submit, status, results.")
    sub = batch.add_subparsers(title="commands", metavar="COMMAND", required=True)
    submit = sub.add_parser("submit", parents=[common], help="submit a JSON Lines file of prompts",
                            description="Submit prompts to the provider's batch API; prints the job id.")
    submit.set_defaults(usage_error=submit.error, parser=submit)
    submit.add_argument("file", metavar="FILE", help="JSON Lines, one item per line: a JSON string (a prompt), a "
                                                     "list of messages or an object of complete() arguments; - "
                                                     "reads stdin")
    submit.add_argument("-m", "--model", required=True, help="a model with the batch capability")
    submit.add_argument("--text", action="store_true", help="each line is a prompt as it is, not JSON")
    submit.add_argument("--system", metavar="S", help="system prompt of every item")
    submit.add_argument("-t", "--temperature", type=float, metavar="TEMP")
    submit.add_argument("--max-tokens", type=int, metavar="N")
    add_params(submit, "another parameter of every item")
    add_output(submit, "also write the job id to FILE (then: @FILE)")
    submit.add_argument("--save-id", dest="output", metavar="FILE", help=argparse.SUPPRESS)  # -o's name before
    submit.set_defaults(handler=batch_submit)
    status = sub.add_parser("status", parents=[common], help="where a batch stands",
                            description="Ask the provider where a batch stands.")
    status.set_defaults(usage_error=status.error, parser=status)
    status.add_argument("id", metavar="ID", help="the job id, or @FILE holding it")
    status.set_defaults(handler=batch_status)
    results = sub.add_parser("results", parents=[common], help="write a batch's results as JSON Lines",
                             description="One JSON object per input item, in input order: the answer or the "
                                         "item's error.")
    results.set_defaults(usage_error=results.error, parser=results)
    results.add_argument("id", metavar="ID", help="the job id, or @FILE holding it")
    add_output(results, "write to FILE instead of stdout")
    results.add_argument("--wait", action="store_true", help="wait for the batch to finish first")
    results.set_defaults(handler=batch_results)

    video_parser = command("video", video, "generate a video and save it (waits, with a progress line)")
    video_parser.add_argument("prompt", nargs="*", metavar="PROMPT", help="what the video shows")
    video_parser.add_argument("-m", "--model", help="a video model (pepperpy models --mode video)")
    video_parser.add_argument("-o", "--output", required=True, metavar="FILE", help="where to save it, e.g. clip.mp4")
    video_parser.add_argument("--seconds", type=int, metavar="N", help="its length, one the model makes")
    video_parser.add_argument("--size", metavar="WxH", help="e.g. 1280x720")
    video_parser.add_argument("--image", metavar="PATH", help="a first frame to start from")
    video_parser.add_argument("--job", metavar="ID", help="wait for and save a video job started before (its id "
                                                          "or @FILE) instead of starting one")
    add_params(video_parser, "another parameter of the provider's (Veo's negativePrompt...)")


# --------------------------------------------------------------------------- batch


def batch_submit(args: argparse.Namespace) -> int:
    items = list(read_items(sys.stdin if args.file == "-" else None, args.file, text=args.text))
    params = _params(args)
    if args.output:
        check_output(args.output)
    with make_client(args) as client:
        provider, spec = client.catalog.resolve(args.model)
        refuse_param_as_output(args, {*spec.params, *get_dialect(provider.dialect).params}, "batch submit")
        job = client.batch(items, model=args.model, **params)
    if args.output:
        Path(args.output).write_text(job.id + "\n", encoding="utf-8")
    print(job.id)
    parts = len(job.provider_ids)
    print(f"[{job.model} · {len(items)} items · {parts} provider batch{'es' if parts > 1 else ''}]", file=sys.stderr)
    for index, error in sorted(job.refused.items()):
        print(f"item {index} refused before upload: {error}", file=sys.stderr)
    return EXIT_OK


def batch_status(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        job = client.batch_job(_job_id(args.id))
        status = job.status()
    print(f"{status}  ({job.model}; provider ids: {', '.join(job.provider_ids)})")
    return EXIT_OK


def batch_results(args: argparse.Namespace) -> int:
    if args.output:
        check_output(args.output)
    with make_client(args) as client:
        job = client.batch_job(_job_id(args.id))
        if args.wait:
            job.wait(progress=_Progress(sys.stderr, "batch"))
        results = job.results()
    lines = (json.dumps(result_json(index, result), ensure_ascii=False) + "\n" for index, result in enumerate(results))
    if args.output:
        write_whole(args.output, (line.encode("utf-8") for line in lines))  # whole or not at all
    else:
        sys.stdout.writelines(lines)
    answers = [r for r in results if isinstance(r, Completion)]
    failed = len(results) - len(answers)
    tokens = (f" · {sum(r.usage.input_tokens for r in answers)} in → {sum(r.usage.output_tokens for r in answers)} "
              f"out")
    cost = f" · ${job.cost:.6f}" if job.cost is not None else ""
    print(f"[{len(answers)} answers, {failed} error{'' if failed == 1 else 's'}{tokens}{cost}]", file=sys.stderr)
    return EXIT_OK


def result_json(index: int, result: Any) -> dict[str, Any]:
    """One line of ``batch results``: the answer, or the item's error."""
    if isinstance(result, Completion):
        return {"index": index, **completion_json(result)}
    return {"index": index, "error": {"type": type(result).__name__, "message": str(result),
                                      "status_code": getattr(result, "status_code", None),
                                      "state": getattr(result, "state", None)}}


def read_items(stream: TextIO | None, file: str, *, text: bool = False) -> Iterator[Any]:
    """The items of a JSON Lines file (or stdin), one per non-empty line; ValidationError naming a bad line."""
    try:
        handle = stream if stream is not None else open(file, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise errors.ValidationError(f"cannot read {file}: {exc.strerror or exc}", param="file", value=file) from None
    try:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if text:
                yield line.rstrip("\r\n")
                continue
            try:
                yield json.loads(line)
            except ValueError:
                raise errors.ValidationError(
                    f"{file}:{number} is not JSON; each line is a JSON string (a prompt, in quotes), a list of "
                    f"messages or an object of complete() arguments (--text reads plain lines)", param="file",
                    value=number) from None
    finally:
        if stream is None:
            handle.close()


# --------------------------------------------------------------------------- video


def video(args: argparse.Namespace) -> int:
    check_output(args.output)
    with make_client(args) as client:
        if args.job:
            job = client.video_job(_job_id(args.job))
        else:
            prompt = " ".join(args.prompt)
            if not prompt or not args.model:
                raise errors.ValidationError("pepperpy video needs a PROMPT and -m MODEL (or --job ID to finish a "
                                             "video started before)", param="prompt")
            job = client.generate_video(prompt, model=args.model, seconds=args.seconds, size=args.size,
                                        image=args.image, **param_values(args, {}, _VIDEO_RESERVED))
        print(f"[video job {job.id}: if interrupted, --job with this id resumes it]", file=sys.stderr)
        job.wait(progress=_Progress(sys.stderr, "video"))
        result = job.result()
    path = result.save(args.output)
    cost = f" · ${result.cost:.4f}" if result.cost is not None else ""
    print(path)
    print(f"[{result.provider}/{result.model} · {len(result.data):,} bytes {result.mime_type}{cost}]", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- helpers


class _Progress:
    """A progress line on ``stream``: rewritten in place on a terminal, one line per change elsewhere."""

    def __init__(self, stream: TextIO, what: str) -> None:
        self.stream, self.what, self.last = stream, what, ""
        try:
            self.terminal = stream.isatty()
        except (AttributeError, ValueError):
            self.terminal = False

    def __call__(self, status: Any) -> None:
        line = f"[{self.what}] {status}"
        if line == self.last:
            return
        self.last = line
        end = "\n" if not self.terminal or status.finished else ""
        self.stream.write(("\r\x1b[K" if self.terminal else "") + line + end)
        self.stream.flush()


def _job_id(text: str) -> str:
    """The id as given, or read from the file named after ``@``."""
    if not text.startswith("@"):
        return text
    try:
        return Path(text[1:]).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise errors.ValidationError(f"cannot read the job id from {text[1:]}: {exc.strerror or exc}", param="id",
                                     value=text) from None


_VIDEO_RESERVED = {"model": "use -m/--model", "prompt": "give it as the argument", "seconds": "use --seconds",
                   "size": "use --size", "image": "use --image"}


def _params(args: argparse.Namespace) -> dict[str, Any]:
    given = {"system": (args.system, "--system"), "temperature": (args.temperature, "-t/--temperature"),
             "max_tokens": (args.max_tokens, "--max-tokens")}
    return param_values(args, given, {"model": "use -m/--model"})
