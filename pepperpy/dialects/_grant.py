"""The OAuth2 client-credentials grant a dialect asks for (``Dialect.token_grant``: StackSpot's), which
``pepperpy.http._oauth`` fetches tokens with. Loaded only by providers that sign in that way."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TokenGrant"]


@dataclass(frozen=True, slots=True, eq=False)
class TokenGrant:
    """An OAuth2 client-credentials grant: where to fetch tokens and with what (``pepperpy._oauth`` fetches)."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    hint: str = ""  # where the credentials come from, for the message when they are refused
    timeout: tuple[float, float] = (10.0, 60.0)
