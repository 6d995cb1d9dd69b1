"""The values media calls hand out: Image and Images, Speech, Transcription (with its Segments), Video, and the
two streams, AudioStream and TranscriptionStream. All are frozen dataclasses except the streams.

They show themselves in Jupyter (an Image inline, a Speech as an audio player) and never print their bytes:
``repr`` says the kind and the size.

>>> Image(b"\\x89PNG...", "image/png")
Image(7 bytes, mime_type='image/png')

- ``_values``: the results; ``_streams``: the two streams; ``_formats``: extensions, whole-or-nothing writes
  (``write_whole``), WAV from PCM.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy

if TYPE_CHECKING:
    from ._formats import EXTENSIONS, pcm_rate, wav_from_pcm, write_whole
    from ._streams import AudioStream, TranscriptionStream
    from ._values import Image, Images, Segment, Speech, Transcription, Video

__all__ = ["EXTENSIONS", "AudioStream", "Image", "Images", "Segment", "Speech", "Transcription",
           "TranscriptionStream", "Video", "pcm_rate", "wav_from_pcm", "write_whole"]

# Loaded on first use: a chat call reads no media value, and a dialect reads only what it makes
__getattr__, __dir__ = lazy(__name__, {
    "EXTENSIONS": "_formats", "pcm_rate": "_formats", "wav_from_pcm": "_formats", "write_whole": "_formats",
    "AudioStream": "_streams", "TranscriptionStream": "_streams", "Image": "_values", "Images": "_values",
    "Segment": "_values", "Speech": "_values", "Transcription": "_values", "Video": "_values"})
