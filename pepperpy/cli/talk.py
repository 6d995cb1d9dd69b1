"""``pepperpy talk``: one turn of a realtime voice session (OpenAI Realtime, Gemini Live).

    pepperpy talk -m gpt-realtime-2 "What is a circuit breaker?"          # prints the answer
    pepperpy talk -m gpt-realtime-2 -i question.wav -o answer.wav          # a spoken turn, the spoken answer saved

``-i`` takes a WAV file of PCM16 mono at the model's input rate (24 kHz on OpenAI, 16 kHz on Gemini); another
rate or format is refused before anything is sent, naming the rate to convert to. ``-o`` saves the answer's
audio as a WAV file (the session then answers in audio; the transcript is printed). ``-p KEY VALUE`` passes a
session parameter (VALUE read as JSON when it parses).
"""

from __future__ import annotations

import argparse
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import errors
from ._output import check_output
from .catalog import make_client
from .media import _cost, _params, _summary

__all__ = ["add_talk_command", "read_wav"]

EXIT_OK = 0


def read_wav(path: str, rate: int, model: str) -> bytes:
    """The PCM16 mono frames of the WAV file at ``path``; ValidationError naming the rate ``model`` takes when
    the file is another rate, width or channel count, or no WAV file at all."""
    convert = f"convert it, e.g. ffmpeg -i {path} -ac 1 -ar {rate} -sample_fmt s16 out.wav"
    try:
        with wave.open(str(Path(path).expanduser()), "rb") as audio:
            shape = (audio.getframerate(), audio.getnchannels(), audio.getsampwidth())
            frames = audio.readframes(audio.getnframes())
    except FileNotFoundError:
        raise errors.ValidationError(f"no such file: {path}", param="input", value=path) from None
    except (wave.Error, EOFError) as exc:
        raise errors.ValidationError(f"{path} is not a PCM WAV file ({exc}); {model} takes 16-bit mono PCM at "
                                     f"{rate} Hz: {convert}", param="input", value=path) from None
    if shape != (rate, 1, 2):
        found = f"{shape[0]} Hz, {shape[1]} channel(s), {shape[2] * 8}-bit"
        raise errors.ValidationError(f"{path} is {found}; {model} takes 16-bit mono PCM at {rate} Hz: {convert}",
                                     param="input", value=path)
    if not frames:
        raise errors.ValidationError(f"{path} holds no audio", param="input", value=path)
    return frames


def _talk(args: argparse.Namespace) -> int:
    from ..realtime import audio_rates

    params = _params(args, instructions=args.instructions, voice=args.voice)
    text = (sys.stdin.read().strip() if args.text == ["-"] else " ".join(args.text)) or None
    if text is None and args.input is None:
        raise errors.ValidationError("talk needs a question: give it as text, or a WAV file with -i",
                                     param="text")
    if args.output is not None:
        check_output(args.output)
    with make_client(args) as client:
        spec = client.model(args.model)
        provider = client.catalog.provider(spec.provider)
        audio = read_wav(args.input, audio_rates(spec, provider.dialect)[0], spec.name) if args.input else None
        spoken = args.output is not None or (bool(spec.outputs) and "text" not in spec.outputs)
        with client.realtime(args.model, output="audio" if spoken else "text", **params) as session:
            reply = session.ask(text, audio=audio)
    print(str(reply))
    saved = ""
    if args.output is not None:
        saved = f" → {reply.save(args.output)}"
    audio_part = f" · {reply.seconds:.1f} s of audio{saved}" if reply.audio else ""
    _summary(args, f"{reply.provider}/{reply.model}{audio_part} · {reply.usage.input_tokens} in → "
                   f"{reply.usage.output_tokens} out{_cost(reply.cost)}")
    return EXIT_OK


def add_talk_command(command: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser],
                     ) -> None:
    """Add ``talk`` with ``command(name, handler, help)`` (the CLI's helper)."""
    talk: Any = command("talk", _talk, "one turn of a realtime voice session: prints the answer (-o saves its audio)")
    talk.add_argument("-m", "--model", required=True, help="a realtime model (pepperpy models --mode realtime)")
    talk.add_argument("-i", "--input", metavar="WAV", help="the question as a WAV file (PCM16 mono at the model's "
                                                           "input rate: 24 kHz OpenAI, 16 kHz Gemini)")
    talk.add_argument("-o", "--output", metavar="WAV", help="save the spoken answer as a WAV file")
    talk.add_argument("--instructions", metavar="TEXT", help="how the model should answer (its system prompt)")
    talk.add_argument("--voice", metavar="V", help="one of the model's voices")
    talk.add_argument("-p", "--param", dest="params", nargs=2, action="append", metavar=("KEY", "VALUE"),
                      help="a session parameter (repeatable); VALUE is JSON when it parses, else a string")
    talk.add_argument("text", nargs="*", metavar="TEXT", help="the question; - reads it from stdin")
