"""The ``pepperpy`` command.

    pepperpy complete -m gpt-4o-mini "Explain circuit breakers"     # streams to the terminal
    echo "Explain X" | pepperpy complete -m claude-haiku --json -    # the prompt from stdin, JSON out
    pepperpy complete -m gpt-4o-mini -p seed 42 "Say hi"             # any call parameter (VALUE: JSON or text)
    pepperpy complete -m gpt-4o-mini -o answer.md "Write a haiku"    # the answer's text into a file
    pepperpy embed -m text-embedding-3-small "first text" "second"  # one JSON vector per line
    pepperpy map -m gpt-4o-mini prompts.txt > answers.jsonl        # many prompts; usage totals on stderr
    pepperpy image "a red kite" -m gpt-image-2.6-flare -o kite.png  # images, speech, transcripts: cli/media.py
    pepperpy speak "hello" -m tts-1 -o hi.mp3
    pepperpy transcribe note.m4a -m whisper-1
    pepperpy talk -m gpt-realtime-2 "Say hello"                     # a realtime voice turn (cli/talk.py)
    pepperpy models --provider openai --capability vision
    pepperpy providers                                              # credentials: set / missing, never values
    pepperpy keys set openai                                        # a key into the system keyring (cli/keys.py)
    pepperpy catalog validate my-catalog/                           # file:line: field: message
    pepperpy catalog sync openai --write my-catalog/                # what the provider lists that the catalog lacks
    pepperpy batch submit prompts.jsonl -m claude-haiku-4-5         # a provider batch; prints its id (cli/jobs.py)
    pepperpy video "A red kite" -m veo-3.1-fast-generate-preview -o kite.mp4

One convention on every command (``_params``): ``-p/--param KEY VALUE`` passes a call parameter, ``-o/--output
FILE`` says where the command writes. ``-v``/``--verbose``, ``--catalog``, ``--timeout SECONDS``, ``--max-retries
N`` and ``--budget USD`` go before or after the command; after a few seconds without an answer, one line on
stderr (a terminal) says the CLI is waiting. Errors print one line, ``error: ...``, on stderr and exit 1 (usage
errors exit 2, an unknown flag with the one meant); messages name commands and flags, never Python
(``cli_wording``); ``--verbose`` adds the traceback and the message uncut.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .. import errors
from .._lazy import lazy
from .._redact import redact
from ..dialects.base import get_dialect
from ..media import write_whole
from ..types import ModelSpec
from ._output import check_output, completion_json
from ._params import add_output, add_params, option_value, param_values, refuse_param_as_output, refuse_unknown_flags
from .catalog import list_models, list_providers, make_client, sync_catalog, validate_catalog
from .fanout import add_map_command
from .jobs import add_job_commands
from .keys import add_keys_commands
from .media import add_media_commands
from .notice import waiting
from .talk import add_talk_command

if TYPE_CHECKING:
    from .wording import cli_wording

__getattr__, _ = lazy(__name__, {"cli_wording": "wording"})  # compiled for a message only

__all__ = ["build_parser", "call_params", "cli_wording", "completion_json", "error_line", "main", "may_stream",
           "option_value", "parse_args"]

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130  # argparse exits 2 on usage errors
RESERVED_OPTIONS = {"model": "use -m/--model", "prompt": "give the prompt as the last argument",
                    "messages": "give the prompt as the last argument (- reads it from stdin)",
                    "stream": "answers stream by default; --no-stream waits for the whole answer",
                    "timeout": "use --timeout SECONDS", "max_retries": "use --max-retries N",
                    "api_key": "keys are never given on the command line: set the provider's variable in the "
                               "environment or in ./.env (`pepperpy providers` names it)"}
ERROR_LINE_LIMIT = 300  # characters of an error message shown without --verbose
Handler = Callable[[argparse.Namespace], int]


# --------------------------------------------------------------------------- commands

def _complete(args: argparse.Namespace) -> int:
    prompt = _read_prompt(args.prompt)
    params = call_params(args)
    with make_client(args) as client:
        spec = client.model(args.model)
        refuse_param_as_output(args, _param_names(client, spec), "complete")
        if args.output:
            check_output(args.output)
        if args.json or args.no_stream or args.output or not may_stream(spec):
            with waiting(spec.provider):
                result = client.complete(prompt, model=args.model, **params)
            text = json.dumps(completion_json(result), ensure_ascii=False, indent=2) if args.json else result.text
            if args.output:
                print(write_whole(args.output, ((text + "\n").encode("utf-8"),)))  # whole or not at all
            else:
                print(text)
        else:
            with waiting(spec.provider) as wait, client.stream(prompt, model=args.model, **params) as stream:
                for chunk in stream:
                    wait.answered()
                    sys.stdout.write(chunk.text)
                    sys.stdout.flush()
            result = stream.completion
            print("" if result.text.endswith("\n") else "\n", end="")
    if args.verbose or _is_terminal(sys.stderr):
        cost = f" · ${result.cost:.6f}" if result.cost is not None else ""
        print(f"[{result.provider}/{result.model} · {result.finish_reason} · {result.usage.input_tokens} in → "
              f"{result.usage.output_tokens} out{cost}]", file=sys.stderr)
    return EXIT_OK


def call_params(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``client.complete``: the dedicated flags, then every ``-p KEY VALUE``."""
    given = {"system": (args.system, "--system"), "temperature": (args.temperature, "-t/--temperature"),
             "max_tokens": (args.max_tokens, "--max-tokens")}
    return param_values(args, given, RESERVED_OPTIONS)


def may_stream(spec: ModelSpec) -> bool:
    """Whether ``complete`` streams for this model: as Python does, unless its catalog entry lists capabilities
    without ``streaming`` (an entry that lists none says nothing, and the provider decides)."""
    return spec.open or not spec.capabilities or "streaming" in spec.capabilities


def _param_names(client: Any, spec: ModelSpec) -> set[str]:
    """The parameters a model takes, by name: its catalog ranges and its dialect's own."""
    return {*spec.params, *get_dialect(client.catalog.provider(spec.provider).dialect).params}


def _embed(args: argparse.Namespace) -> int:
    texts = list(args.texts)
    if texts == ["-"]:
        texts = [line for line in sys.stdin.read().splitlines() if line.strip()]
        if not texts:
            raise errors.ValidationError("no text on stdin: send one text per line", param="texts")
    params = param_values(args, {}, {"model": "use -m/--model", "input": "give the texts as arguments"})
    if args.output:
        check_output(args.output)
    with make_client(args) as client, waiting(client.model(args.model).provider):
        result = client.embed(texts, model=args.model, **params)
    lines = [json.dumps(vector) + "\n" for vector in result.vectors]
    if args.output:
        print(write_whole(args.output, (line.encode("utf-8") for line in lines)))
    else:
        sys.stdout.writelines(lines)
    if args.verbose or _is_terminal(sys.stderr):
        dims = len(result.vectors[0]) if result.vectors else 0
        count = f"{len(result.vectors)} vector{'' if len(result.vectors) == 1 else 's'}"
        print(f"[{result.provider}/{result.model} · {count} × {dims} dims · {result.usage.input_tokens} tokens]",
              file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- helpers

def _read_prompt(words: Sequence[str]) -> str:
    if list(words) == ["-"]:
        prompt = sys.stdin.read().strip()
        if not prompt:
            raise errors.ValidationError("the prompt on stdin is empty", param="prompt")
        return prompt
    return " ".join(words)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def error_line(exc: BaseException, verbose: bool = False) -> str:
    """The one line ``error: ...`` printed for an exception: whitespace (an HTML error page's newlines)
    collapsed, and, without ``verbose``, cut after ERROR_LINE_LIMIT characters. Catalog problems found
    together are listed one per line under it."""
    if isinstance(exc, errors.CatalogError) and len(exc.problems) > 1:  # one line per problem, each whole
        lines = [" ".join(str(problem).split()) for problem in exc.problems]
        return f"error: {len(lines)} catalog problems:" + "".join(f"\n  {line}" for line in lines)
    if isinstance(exc, errors.PepperpyError):
        from .wording import cli_wording  # its patterns compile for a message only

        text, suffix = cli_wording(str(exc)), ""
        if isinstance(exc, errors.ModelNotFoundError):
            # With no suggestion the hint follows the name directly: "unknown model 'x' Run ..."
            text = re.sub(rf"^(unknown \w+ {re.escape(repr(exc.name))}) (?=\S)", r"\1. ", text)
    else:
        text, suffix = f"unexpected {type(exc).__name__}: {redact(str(exc))}", \
            " (run with --verbose for the traceback)"
    text = " ".join(text.split())
    if len(text) > ERROR_LINE_LIMIT and not verbose:
        text = text[:ERROR_LINE_LIMIT - 1].rstrip() + "…"
        suffix = suffix or " (--verbose shows all of it)"
    return f"error: {text}{suffix}"


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Warnings on the command line: one plain line, not Python's ``file:line: Category`` and a source line."""
    from .wording import cli_wording

    print(f"warning: {cli_wording(str(message))}", file=file if file is not None else sys.stderr)


# --------------------------------------------------------------------------- parser and entry point

class _Version(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        from importlib.metadata import version

        print(f"pepperpy {version('pepperpy')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``pepperpy`` command."""
    parser = argparse.ArgumentParser(prog="pepperpy", description="Call LLM providers from the catalog: complete, "
                                     "embed, draw, speak, transcribe, list.")
    _add_global_options(parser, after_command=False)
    parser.add_argument("--version", action=_Version)
    # The options also after the command. Separate actions with other dests: a subparser fills a fresh
    # namespace and copies all of it over the top-level one, so shared actions (argparse `parents=`) with
    # defaults would reset what was given before the command. main() merges the two.
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, after_command=True)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(handler=handler, usage_error=sub.error, parser=sub)
        return sub

    complete = command("complete", _complete, "answer a prompt (streamed to the terminal by default)")
    complete.add_argument("-m", "--model", required=True, help="model id, alias or provider/id")
    complete.add_argument("--system", metavar="S", help="system prompt")
    complete.add_argument("-t", "--temperature", type=float, metavar="TEMP")
    complete.add_argument("--max-tokens", type=int, metavar="N")
    add_params(complete)
    add_output(complete, "write the answer's text (with --json, the JSON) to FILE instead of the terminal")
    complete.add_argument("--json", action="store_true",
                          help="print the whole answer as JSON (text, model, provider, finish_reason, usage, cost)")
    complete.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
    complete.add_argument("prompt", nargs="*", metavar="PROMPT",
                          help="the prompt; - reads it from stdin; put -- before a prompt that starts with -")

    add_map_command(command)

    embed = command("embed", _embed, "embed texts; prints one JSON vector per line")
    embed.add_argument("-m", "--model", required=True, help="an embedding model")
    add_params(embed, "another parameter, e.g. -p dimensions 256")
    add_output(embed, "write the vectors (one JSON array per line) to FILE instead of stdout")
    embed.add_argument("texts", nargs="+", metavar="TEXT", help="texts to embed; - reads one per line from stdin")

    add_job_commands(commands, common, command)
    add_keys_commands(commands, common)
    add_media_commands(command)
    add_talk_command(command)

    models = command("models", list_models, "list catalog models")
    models.add_argument("--provider", metavar="P")
    models.add_argument("--mode", choices=("chat", "embedding", "image", "speech", "transcription", "video",
                                                 "realtime"))
    models.add_argument("--capability", metavar="C", help="e.g. vision, tools, streaming, reasoning")
    models.add_argument("--available", action="store_true", help="only providers whose credentials are set")

    command("providers", list_providers, "list providers, their base URLs and whether credentials are set")

    catalog = commands.add_parser("catalog", parents=[common], help="catalog tools", description="Catalog tools.")
    catalog_commands = catalog.add_subparsers(title="commands", metavar="COMMAND", required=True)
    validate = catalog_commands.add_parser("validate", parents=[common], help="check catalog YAML files",
                                           description="Check catalog files: every problem as "
                                                       "file:line: field: message; exit 1 when any.")
    validate.add_argument("paths", nargs="*", metavar="PATH",
                          help="files or folders (default: the packaged catalog and PEPPERPY_CATALOG_PATH)")
    validate.add_argument("--max-age", type=_days, metavar="DAYS",
                          help="also flag files whose figures were checked more than DAYS days ago (their "
                               "'checked:' date), and files with figures but no such date")
    validate.set_defaults(handler=validate_catalog)
    sync = catalog_commands.add_parser(
        "sync", parents=[common], help="compare the catalog with a provider's own model listing",
        description="Ask the provider's model-listing API (every page) and print what differs from the catalog: "
                    "+ models the catalog lacks, - models the provider no longer lists, ~ limits and prices that "
                    "changed. Uses the provider's credentials.")
    sync.add_argument("provider", metavar="PROVIDER", help="a catalog provider, e.g. openai (pepperpy providers)")
    sync.add_argument("--write", metavar="DIR", help="write the new models to DIR/PROVIDER-synced.yaml, a catalog "
                                                     "file (only the figures the listing gives)")
    sync.set_defaults(handler=sync_catalog)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    suffix = "_after_command" if after_command else ""
    parser.add_argument("-v", "--verbose", dest="verbose" + suffix, action="store_true",
                        default=argparse.SUPPRESS if after_command else False,
                        help="show tracebacks and call details")
    parser.add_argument("--catalog", dest="catalog" + suffix, action="append", metavar="PATH",
                        default=argparse.SUPPRESS if after_command else None,
                        help="an extra catalog file or folder (repeatable; also PEPPERPY_CATALOG_PATH)")
    parser.add_argument("--timeout", dest="timeout" + suffix, type=_seconds, metavar="SECONDS",
                        default=argparse.SUPPRESS if after_command else None,
                        help="seconds to wait for a provider's answer (default: PEPPERPY_TIMEOUT, else the catalog's "
                             "timeout, else 60)")
    parser.add_argument("--max-retries", dest="max_retries" + suffix, type=_retries, metavar="N",
                        default=argparse.SUPPRESS if after_command else None,
                        help="retries of a failed call that may succeed later (default 2; 0: none)")
    parser.add_argument("--budget", dest="budget" + suffix, type=_usd, metavar="USD",
                        default=argparse.SUPPRESS if after_command else None,
                        help="refuse the calls that could take this run past USD, before sending them")


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"takes seconds above 0, e.g. 30 or 2.5, not {text!r}")
    return seconds


def _retries(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"takes a whole number of retries, e.g. 0 or 3, not {text!r}")
    return int(text)


def _usd(text: str) -> float:
    try:
        amount = float(text)
    except ValueError:
        amount = -1.0
    if not 0 <= amount < float("inf"):
        raise argparse.ArgumentTypeError(f"takes an amount of USD, e.g. 0.50, not {text!r}")
    return amount


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = -1
    if days < 0:
        raise argparse.ArgumentTypeError(f"takes a whole number of days, e.g. 90, not {text!r}")
    return days


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line; ``-v``, ``--catalog``, ``--timeout``, ``--max-retries`` and ``--budget`` count
    wherever they are, before or after the command. An unknown flag is a usage error naming the one meant."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)  # exits 2 on a usage error
    if unknown:
        refuse_unknown_flags(getattr(args, "parser", None) or parser, unknown)
    found = vars(args)
    args.verbose = bool(args.verbose or found.pop("verbose_after_command", False))
    catalogs = [*(args.catalog or ()), *found.pop("catalog_after_command", ())]
    args.catalog = catalogs or None
    for name in ("timeout", "max_retries", "budget"):  # after the command wins: it is written last
        late = found.pop(name + "_after_command", None)
        if late is not None:
            setattr(args, name, late)
    if getattr(args, "handler", None) is _complete and not args.prompt:
        _no_prompt(args)
    return args


def _no_prompt(args: argparse.Namespace) -> None:
    """``complete`` without a prompt: most often ``-p KEY`` took the prompt as its VALUE (``-p seed "Say hi"``)."""
    if args.params:
        key, value = args.params[-1]
        args.usage_error(f"no prompt: -p {key} took {value!r} as its VALUE (-p takes KEY and VALUE); give both, "
                         f"then the prompt: -p {key} VALUE \"...\" (or put -- before the prompt)")
    args.usage_error("the prompt is missing: give it as the last argument, or - to read it from stdin")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (the console script passes it to ``sys.exit``)."""
    args = parse_args(argv)
    try:
        with warnings.catch_warnings():  # restores Python's own display afterwards (main runs in tests too)
            warnings.showwarning = _show_warning
            return int(args.handler(args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `pepperpy models | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        print(error_line(exc, args.verbose), file=sys.stderr)
        return EXIT_ERROR

