"""``pepperpy map``: many prompts at once, one JSON line per answer in input order, the usage totals at the end.

    pepperpy map -m gpt-4o-mini prompts.txt > answers.jsonl      # one prompt per line
    pepperpy map -m gpt-4o-mini --budget 0.50 questions.jsonl     # {"prompt": ...} or {"messages": [...]} lines
    pepperpy map -m gpt-4o-mini -p seed 7 -o answers.jsonl prompts.txt

Each output line is ``{"index": i, "text": ..., "finish_reason": ..., "usage": {...}, "cost": ...}``, or
``{"index": i, "error": "..."}`` for a prompt that failed (the others go on; the exit status is then 1).
The totals (calls, errors, tokens, cost per model) go to stderr. Ctrl-C stops at once: requests in flight are
aborted (their connections closed), and the command exits 130.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from .. import errors
from ..dialects.base import get_dialect
from ..media import write_whole
from ._output import check_output, completion_json
from ._params import add_output, add_params, refuse_param_as_output
from .catalog import make_client

__all__ = ["add_map_command", "read_prompts", "run_map"]

EXIT_OK, EXIT_ERROR = 0, 1


def add_map_command(command: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser],
                    ) -> None:
    """Add ``map`` to the ``pepperpy`` parser (``command`` makes a sub-parser with the common options)."""
    sub = command("map", run_map, "answer many prompts at once: one JSON line each, usage totals at the end")
    sub.add_argument("-m", "--model", required=True, help="model id, alias or provider/id")
    sub.add_argument("--system", metavar="S", help="system prompt for every item")
    sub.add_argument("-t", "--temperature", type=float, metavar="TEMP")
    sub.add_argument("--max-tokens", type=int, metavar="N")
    add_params(sub, "another call parameter, as for complete")
    add_output(sub, "write the answers (JSON Lines) to FILE instead of stdout")
    sub.add_argument("--concurrency", type=int, metavar="N", help="calls in flight at once (default: all, up to "
                                                                  "the Client's max_concurrency)")
    sub.add_argument("file", metavar="FILE", help="one prompt per line, or JSON lines with \"prompt\" or "
                                                  "\"messages\"; - reads stdin")


def read_prompts(text: str) -> list[Any]:
    """The items of a prompts file: plain lines, or JSON objects with ``prompt`` or ``messages``."""
    items: list[Any] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise errors.ValidationError(f"line {number}: not valid JSON ({exc.msg})", param="file") from None
            if not isinstance(item, dict):
                item = {}
            if isinstance(item.get("messages"), list):
                items.append(item["messages"])
            elif isinstance(item.get("prompt"), str):
                items.append(item["prompt"])
            else:
                raise errors.ValidationError(f"line {number}: a JSON line needs \"prompt\" (text) or \"messages\" "
                                             f"(a list)", param="file")
        else:
            items.append(line)
    if not items:
        raise errors.ValidationError("no prompts: the file has no non-empty line", param="file")
    return items


def run_map(args: argparse.Namespace) -> int:
    from . import call_params

    if args.file == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(args.file, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise errors.ConfigurationError(f"cannot read {args.file}: {exc.strerror}") from None
    items = read_prompts(text)
    params = call_params(args)
    if args.concurrency is not None:
        params["max_workers"] = args.concurrency
    if args.output:
        check_output(args.output)
    failed = False
    lines: list[str] = []
    with make_client(args) as client:
        provider, spec = client.catalog.resolve(args.model)
        refuse_param_as_output(args, {*spec.params, *get_dialect(provider.dialect).params}, "map")
        try:
            results = client.map(items, model=args.model, return_exceptions=True, **params)
            for index, result in enumerate(results):
                if isinstance(result, Exception):
                    failed = True
                    line: dict[str, Any] = {"index": index,
                                            "error": f"{type(result).__name__}: {_wording(str(result))}"}
                else:
                    line = {"index": index, **completion_json(result)}
                lines.append(json.dumps(line, ensure_ascii=False) + "\n")
                if not args.output:
                    sys.stdout.write(lines[-1])
        finally:
            print(client.usage(), file=sys.stderr)
    if args.output:
        print(write_whole(args.output, (line.encode("utf-8") for line in lines)))
    return EXIT_ERROR if failed else EXIT_OK


def _wording(message: str) -> str:
    from .wording import cli_wording  # its patterns compile for a message only

    return cli_wording(message)
