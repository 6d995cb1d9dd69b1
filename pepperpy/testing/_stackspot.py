"""StackSpot AI agent chat and its OIDC token endpoint, as the fake server renders them.

PROTOCOLS.md marks StackSpot as the least certain dialect. The 429 body is the documented one;
other error bodies reuse its shape, and the mid-stream error event is a guess in that shape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pepperpy.testing._sample import schema_in_prompt
from pepperpy.testing._script import count_words
from pepperpy.testing._wire import Answer, BadRequestError, Chat, Dialect, Stream, reason, sse

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

_ERRORS: dict[int, tuple[str, str]] = {
    401: ("UNAUTHORIZED", "Invalid or expired access token."),
    403: ("FORBIDDEN", "You do not have access to this agent."),
    404: ("AGENT_NOT_FOUND", "Agent not found."),
    429: ("CODEBUDDY_1044_QUICK_COMMAND_RATE_LIMIT_EXCEEDED", "Rate limit exceeded. Please try again later."),
}


class StackSpotDialect(Dialect):
    """``POST /v1/agent/{agent_id}/chat``: one prompt in, SSE fragments without ``[DONE]`` out."""

    name = "stackspot"

    def parse_chat(self, body: Mapping[str, Any], model: str, stream: bool) -> Chat:
        prompt = body.get("user_prompt")
        if not isinstance(prompt, str):
            raise BadRequestError("user_prompt is required", 422)
        conversation = body.get("conversation_id")
        return Chat(
            model=model,
            prompt=prompt,
            input_words=count_words(prompt),
            stream=bool(body.get("streaming")),
            conversation_id=conversation if isinstance(conversation, str) and conversation else None,
            schema=schema_in_prompt(prompt),
        )

    def render_chat(self, chat: Chat, answer: Answer) -> dict[str, Any]:
        return {
            "message": answer.text,
            "stop_reason": answer.finish,
            "tokens": {"user": answer.input_tokens, "enrichment": 0, "output": answer.output_tokens},
            "conversation_id": chat.conversation_id or ulid(answer.created, f"conversation-{answer.serial}"),
            "message_id": ulid(answer.created, f"message-{answer.serial}"),
        }

    def render_stream(self, chat: Chat, answer: Answer) -> Stream:
        final = {
            "message": "",
            "stop_reason": answer.finish,
            "tokens": {"input": answer.input_tokens, "output": answer.output_tokens},
            "message_id": ulid(answer.created, f"message-{answer.serial}"),
        }
        content = tuple(sse({"message": piece}) for piece in answer.chunks)
        return Stream("text/event-stream", (), content, (sse(final),))

    def stream_error(self, message: str | None) -> bytes:
        return sse({"type": "InternalServerError", "code": "STREAM_ERROR", "details": message or "Stream interrupted."})

    def error_body(self, status: int, message: str | None, model: str, request_id: str) -> Any:
        code, details = _ERRORS.get(status, (reason(status).upper().replace(" ", "_"), reason(status)))
        return {
            "type": reason(status).title().replace(" ", "").replace("-", ""),
            "code": code,
            "details": message or details,
        }


def ulid(seconds: int, salt: str) -> str:
    """A ULID-looking id (26 Crockford base32 characters): time first, then hash of ``salt``.

    >>> len(ulid(0, "x"))
    26
    """
    number = (seconds * 1000) << 80 | int.from_bytes(hashlib.sha256(salt.encode()).digest()[:10], "big")
    chars = []
    for _ in range(26):
        number, digit = divmod(number, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def oidc_error(error: str, description: str) -> dict[str, str]:
    """The OIDC token endpoint's error body."""
    return {"error": error, "error_description": description}


STACKSPOT = StackSpotDialect()
