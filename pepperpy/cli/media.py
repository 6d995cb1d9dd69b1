"""The ``pepperpy`` command's media commands: ``image``, ``speak`` and ``transcribe``.

    pepperpy image "a red kite" -m gpt-image-2.6-flare -o kite.png    # saves the image, prints its path
    pepperpy speak "hello" -m tts-1 -o hi.mp3                         # saves the audio (-o - writes it to stdout)
    pepperpy transcribe note.m4a -m gpt-transcribe                    # prints the text (--json: everything)

``-p KEY VALUE`` passes any other call parameter (VALUE read as JSON when it parses) and ``-o FILE`` is where
the result goes, as on every command.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..media import write_whole
from ._output import check_output
from ._params import add_output, add_params, param_values
from .catalog import make_client

if TYPE_CHECKING:
    from ..media import Transcription

__all__ = ["add_media_commands", "transcription_json"]

EXIT_OK = 0
_RESERVED = {"model": "use -m/--model", "prompt": "give it as the argument", "text": "give it as the argument",
             "audio": "give the file as the argument", "stream": "use --stream"}


def _params(args: argparse.Namespace, **given: Any) -> dict[str, Any]:
    flags = {"n": "-n", "size": "--size", "quality": "--quality", "language": "--language", "prompt": "--prompt"}
    return param_values(args, {key: (value, flags.get(key, f"--{key}")) for key, value in given.items()}, _RESERVED)


def _summary(args: argparse.Namespace, line: str) -> None:
    if args.verbose or _is_terminal(sys.stderr):
        print(f"[{line}]", file=sys.stderr)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _cost(value: float | None) -> str:
    return f" · ${value:.6f}" if value is not None else ""


def _image(args: argparse.Namespace) -> int:
    params = _params(args, n=args.n, size=args.size, quality=args.quality)
    inputs = [Path(path) for path in args.image or ()]
    check_output(args.output)
    with make_client(args) as client:
        result = client.generate_image(" ".join(args.prompt), model=args.model, image=inputs or None, **params)
    for path in result.save(args.output):
        print(path)
    images = f"{len(result)} image{'' if len(result) == 1 else 's'}"
    _summary(args, f"{result.provider}/{result.model} · {images}{_cost(result.cost)}")
    return EXIT_OK


def _speak(args: argparse.Namespace) -> int:
    params = _params(args)
    text = sys.stdin.read().strip() if args.text == ["-"] else " ".join(args.text)
    if args.output != "-":
        check_output(args.output)
    with make_client(args) as client:
        if args.output == "-":  # to a player: the audio as it arrives
            with client.synthesize_stream(text, model=args.model, voice=args.voice, format=args.format,
                                          **params) as audio:
                for piece in audio:
                    sys.stdout.buffer.write(piece)
                    sys.stdout.buffer.flush()
            return EXIT_OK
        speech = client.synthesize(text, model=args.model, voice=args.voice, format=args.format, **params)
    print(speech.save(args.output))
    _summary(args, f"{speech.provider}/{speech.model} · {speech.format} · {speech.size_bytes:,} bytes"
                   f"{_cost(speech.cost)}")
    return EXIT_OK


def transcription_json(result: Transcription) -> dict[str, Any]:
    """What ``pepperpy transcribe --json`` prints."""
    from dataclasses import asdict  # only JSON output needs it

    return {"text": result.text, "model": result.model, "provider": result.provider, "language": result.language,
            "duration": result.duration, "segments": [asdict(segment) for segment in result.segments],
            "usage": asdict(result.usage), "cost": result.cost}


def _transcribe(args: argparse.Namespace) -> int:
    params = _params(args, language=args.language, prompt=args.prompt)
    audio: Any = sys.stdin.buffer if args.audio == "-" else Path(args.audio)
    if args.output:
        check_output(args.output)
    with make_client(args) as client:
        if args.stream and not args.output:
            with client.transcribe_stream(audio, model=args.model, **params) as pieces:
                for piece in pieces:
                    sys.stdout.write(piece)
                    sys.stdout.flush()
            result = pieces.transcription
            print()
        else:
            result = (client.transcribe_stream(audio, model=args.model, **params).transcription if args.stream
                      else client.transcribe(audio, model=args.model, **params))
            text = json.dumps(transcription_json(result), ensure_ascii=False, indent=2) if args.json else result.text
            if args.output:
                print(write_whole(args.output, ((text + "\n").encode("utf-8"),)))
            else:
                print(text)
    length = f" · {result.duration:.1f} s" if result.duration is not None else ""
    _summary(args, f"{result.provider}/{result.model}{length}{_cost(result.cost)}")
    return EXIT_OK


def add_media_commands(command: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser],
                       ) -> None:
    """Add ``image``, ``speak`` and ``transcribe`` with ``command(name, handler, help)`` (the CLI's helper)."""

    def extra(parser: argparse.ArgumentParser) -> None:
        add_params(parser)

    image = command("image", _image, "generate images; saves them and prints their paths")
    image.add_argument("-m", "--model", required=True, help="an image model (pepperpy models --mode image)")
    image.add_argument("-o", "--output", default="image", metavar="FILE",
                       help="where to save (default: image.png); several images are FILE-1, FILE-2...")
    image.add_argument("-n", type=int, metavar="N", help="how many images")
    image.add_argument("--size", metavar="S", help="e.g. 1024x1024, or 1K/2K/4K on Gemini")
    image.add_argument("--quality", metavar="Q", help="e.g. low, medium, high")
    image.add_argument("--image", action="append", metavar="FILE", help="an input image to edit (repeatable)")
    extra(image)
    image.add_argument("prompt", nargs="+", metavar="PROMPT", help="what to draw")

    speak = command("speak", _speak, "speak a text; saves the audio and prints its path")
    speak.add_argument("-m", "--model", required=True, help="a speech model (pepperpy models --mode speech)")
    speak.add_argument("-o", "--output", default="speech", metavar="FILE",
                       help="where to save (default: speech.<format>); - writes the audio to stdout as it arrives")
    speak.add_argument("--voice", metavar="V", help="one of the model's voices (default: its first)")
    speak.add_argument("--format", metavar="F", help="mp3, wav, opus, pcm... (default: the provider's)")
    extra(speak)
    speak.add_argument("text", nargs="+", metavar="TEXT", help="the text; - reads it from stdin")

    transcribe = command("transcribe", _transcribe, "print the text spoken in an audio file")
    transcribe.add_argument("-m", "--model", required=True,
                            help="a transcription model (pepperpy models --mode transcription)")
    transcribe.add_argument("--language", metavar="L", help="the spoken language, e.g. en")
    transcribe.add_argument("--prompt", metavar="P", help="context: names and words the audio may contain")
    transcribe.add_argument("--json", action="store_true",
                            help="print everything as JSON (text, language, duration, segments, usage, cost)")
    transcribe.add_argument("--stream", action="store_true", help="print the text as it arrives (models that stream)")
    add_output(transcribe, "write the text (with --json, the JSON) to FILE instead of stdout")
    extra(transcribe)
    transcribe.add_argument("audio", metavar="AUDIO", help="the audio file; - reads it from stdin")

