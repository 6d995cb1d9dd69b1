"""The Client's media methods: images, speech, transcription, video and realtime voice (``MediaMethods``).

A face and nothing else: each method is its signature, its docstring and one call to the collaborator that
does the work, ``MediaCalls`` (``_media_calls``), ``pepperpy.jobs`` for video, ``pepperpy.realtime`` for voice
sessions. Mixed into
:class:`pepperpy.Client` (docs/adr/0008 says why these methods are not written in the Client's own module).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..http._upload import UploadSource
    from ..jobs import Services, VideoJob
    from ..media import AudioStream, Images, Speech, Transcription, TranscriptionStream
    from ..realtime import RealtimeSession, Sessions
    from ._media_calls import MediaCalls

__all__ = ["MediaMethods"]


class MediaMethods:
    """``generate_image``, ``synthesize`` / ``synthesize_stream``, ``transcribe`` / ``transcribe_stream``,
    ``generate_video`` / ``video_job`` and ``realtime`` of :class:`pepperpy.Client`."""

    if TYPE_CHECKING:
        @property
        def _media(self) -> MediaCalls: ...

        def _jobs(self) -> Services: ...

        def _sessions(self) -> Sessions: ...

    def generate_image(self, prompt: str, *, model: str | None = None, n: int = 1, size: str | None = None,
                       quality: str | None = None, image: UploadSource | Sequence[UploadSource] | None = None,
                       mask: UploadSource | None = None, fallbacks: Sequence[str] | None = None,
                       cache: bool | None = None, **params: Any) -> Images:
        """Generate ``n`` images from ``prompt``; with ``image`` (a path, bytes or binary file, or a list of
        them) edit those images instead (``mask`` marks where, on OpenAI). Every ``Image.data`` holds the
        bytes: URLs the provider answers with are downloaded (bounded, without the API key).

        >>> result = client.generate_image("a kite", model="gpt-image-2.6-flare", size="1024x1024")   # doctest: +SKIP
        >>> result.images[0].save("kite.png"); result.cost                                              # doctest: +SKIP
        """
        return self._media.generate_image(prompt, model=model, n=n, size=size, quality=quality, image=image,
                                          mask=mask, fallbacks=fallbacks, cache=cache, **params)

    def synthesize(self, text: str, *, model: str | None = None, voice: str | None = None, format: str | None = None,
                   fallbacks: Sequence[str] | None = None, cache: bool | None = None, **params: Any) -> Speech:
        """Speak ``text``: the audio in ``format`` (the provider's default: mp3 on OpenAI, a WAV file on
        Gemini; ``"pcm"`` for raw samples). ``voice`` None takes the model's first catalog voice.

        >>> client.synthesize("Hello!", model="gpt-4o-mini-tts", voice="alloy").save("hello.mp3")   # doctest: +SKIP
        """
        return self._media.synthesize(text, model=model, voice=voice, format=format, fallbacks=fallbacks,
                                      cache=cache, **params)

    def synthesize_stream(self, text: str, *, model: str | None = None, voice: str | None = None,
                          format: str | None = None, fallbacks: Sequence[str] | None = None,
                          **params: Any) -> AudioStream:
        """``synthesize`` as an iterator of audio bytes as they arrive; leaving its ``with`` block early
        closes the connection. Only opening the response is retried or handed to a fallback.

        >>> with client.synthesize_stream("Hello!", model="gpt-4o-mini-tts", voice="alloy") as audio:  # doctest: +SKIP
        ...     for piece in audio:
        ...         speaker.write(piece)
        """
        return self._media.synthesize_stream(text, model=model, voice=voice, format=format, fallbacks=fallbacks,
                                             **params)

    def transcribe(self, audio: UploadSource, *, model: str | None = None, language: str | None = None,
                   prompt: str | None = None, fallbacks: Sequence[str] | None = None, **params: Any) -> Transcription:
        """The text spoken in ``audio`` (a path, bytes or a binary file object), streamed from disk; a file
        over the provider's upload limit fails before anything is sent. Transcriptions are never cached.

        >>> client.transcribe("note.m4a", model="gpt-4o-mini-transcribe", language="en").text   # doctest: +SKIP
        """
        return self._media.transcribe(audio, model=model, language=language, prompt=prompt, fallbacks=fallbacks,
                                      **params)

    def transcribe_stream(self, audio: UploadSource, *, model: str | None = None, language: str | None = None,
                          prompt: str | None = None, fallbacks: Sequence[str] | None = None,
                          **params: Any) -> TranscriptionStream:
        """The transcript's text pieces as the provider sends them, for models with ``streaming`` (the
        gpt-4o-transcribe family, Gemini); ``.transcription`` is the whole Transcription at the end.

        >>> with client.transcribe_stream("note.m4a", model="gpt-4o-mini-transcribe") as pieces:   # doctest: +SKIP
        ...     for text in pieces:
        ...         print(text, end="")
        """
        return self._media.transcribe_stream(audio, model=model, language=language, prompt=prompt,
                                             fallbacks=fallbacks, **params)

    # ------------------------------------------------------------------ video (pepperpy.jobs)

    def generate_video(self, prompt: str, *, model: str | None = None, seconds: int | None = None,
                       size: str | None = None, image: UploadSource | None = None, **params: Any) -> VideoJob:
        """Start generating a video; returns at once with a ``VideoJob`` (``wait()``, then ``result()``).

        ``seconds`` and ``size`` (``"1280x720"``...) are checked against the model's catalog entry; ``image`` (a
        path, bytes or a binary file) is the first frame to start from; ``params`` go to the provider as given
        (Veo's ``negativePrompt``, ``personGeneration``...). See docs/jobs.md.

        >>> job = client.generate_video("A red kite over the sea", model="veo-3.1-fast-generate-preview",
        ...                             seconds=8, size="1280x720")                           # doctest: +SKIP
        >>> job.wait(); job.result().save("kite.mp4")                                        # doctest: +SKIP
        """
        from ..jobs import submit_video

        return submit_video(self._jobs(), prompt, model=self._media.preparer.model_for(model, "video"),
                            seconds=seconds, size=size, image=image,
                            params=params)

    def video_job(self, id: str) -> VideoJob:
        """The video job with this id (``job.id``), from this process or another.

        >>> client.video_job("video:gemini:eyJ2Ijox...").result().save("clip.mp4")   # doctest: +SKIP
        """
        from ..jobs import JobRef, VideoJob

        return VideoJob(self._jobs(), JobRef.decode(id, "video"))

    # ------------------------------------------------------------------ realtime voice (pepperpy.realtime)

    def realtime(self, model: str | None = None, *, instructions: str | None = None, output: str = "text",
                 voice: str | None = None, tools: Sequence[Any] | None = None, turn_detection: Any = None,
                 **params: Any) -> RealtimeSession:
        """Open a realtime voice session (OpenAI's Realtime API, Gemini's Live API): a context manager whose
        ``ask(text)`` or ``ask(audio=pcm16)`` is one turn, answered in ``output`` ``"text"`` or ``"audio"``.

        ``turn_detection=None``: pepperpy asks for every answer (the provider's voice activity detection is off,
        each answer checked against the budget first); ``"server_vad"`` or the provider's settings dict let the
        provider answer when the speaker pauses. ``tools`` as for ``run``; ``params`` go to the provider's
        session (``max_output_tokens``, ``reasoning``...). Needs ``pip install "pepperpy[realtime]"``; see
        docs/realtime.md.

        >>> with client.realtime("gpt-realtime-2", instructions="Be brief.") as s:   # doctest: +SKIP
        ...     print(s.ask("Say hello").text)
        """
        return self._sessions().open(self._media.preparer.model_for(model, "realtime"), instructions=instructions,
                                     output=output, voice=voice, tools=tools, turn_detection=turn_detection,
                                     params=params)
