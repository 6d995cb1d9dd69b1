"""``pepperpy keys``: API keys in the system keyring (the optional ``keyring`` package).

    pepperpy keys set openai                                  # asks for the key; nothing is shown as you type
    echo "$KEY" | pepperpy keys set openai                    # or reads it from stdin
    pepperpy keys set stackspot -p client_id ID -p realm REALM
    pepperpy keys list                                        # where each key is found, never a value
    pepperpy keys delete openai

Keys are stored under the service ``pepperpy``: user = the provider's name for its key, ``<provider>:<field>``
for its other credentials. A Client reads them after the environment and ``.env`` (docs/security.md), so a key
in the keyring is used only while no variable gives one.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from .. import errors
from .._stores import KEYRING_EXTRA, KEYRING_SERVICE, import_keyring, keyring_user
from ..config import _clean_key, credential_fields
from ..types import ProviderSpec
from .catalog import make_client, print_table

__all__ = ["add_keys_commands", "delete_key", "list_keys", "set_key"]

EXIT_OK = 0


def add_keys_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register ``keys set|list|delete`` on the ``pepperpy`` parser."""
    keys = commands.add_parser("keys", parents=[common], help="API keys in the system keyring",
                               description="Store, list and delete API keys in the system keyring (needs "
                                           f"{KEYRING_EXTRA}). Keys in the environment or .env are used first.")
    sub = keys.add_subparsers(title="commands", metavar="COMMAND", required=True)
    store = sub.add_parser("set", parents=[common], help="store a provider's key (asked for, never shown)",
                           description="Store PROVIDER's API key in the keyring. The key is asked for without "
                                       "being shown, or read from stdin when it is piped in.")
    store.add_argument("provider", metavar="PROVIDER", help="a catalog provider, e.g. openai (pepperpy providers)")
    store.add_argument("-p", "--param", dest="params", nargs=2, action="append", metavar=("KEY", "VALUE"),
                       help="another credential of the provider to store (repeatable): StackSpot's "
                            "-p client_id ID -p realm REALM")
    store.set_defaults(handler=set_key)
    listing = sub.add_parser("list", parents=[common], help="where each provider's key is found (never a value)",
                             description="For every provider that needs a key: where a Client finds it (a "
                                         "variable, .env, the keyring, the configuration file) or missing.")
    listing.set_defaults(handler=list_keys)
    delete = sub.add_parser("delete", parents=[common], help="delete a provider's key from the keyring",
                            description="Delete PROVIDER's key, and its other stored credentials, from the keyring.")
    delete.add_argument("provider", metavar="PROVIDER", help="a catalog provider, e.g. openai")
    delete.set_defaults(handler=delete_key)


def set_key(args: argparse.Namespace) -> int:
    provider = _provider(args)
    fields = dict(_params(provider, args.params or ()))
    keyring = import_keyring()  # before asking for the key: no extra, nothing to type
    key = _clean_key(_read_key(provider.name), f"the key given for {provider.name!r}")
    if not key:
        raise errors.ValidationError(f"no key given for {provider.name!r}: type or pipe the key "
                                     f"(`pepperpy keys set {provider.name}`)", param="key")
    entries = [(keyring_user(provider.name), key), *((keyring_user(provider.name, f), v) for f, v in fields.items())]
    for user, value in entries:
        try:
            keyring.set_password(KEYRING_SERVICE, user, value)
        except Exception as exc:  # the backend's words, which never hold the value
            raise errors.ConfigurationError(f"the keyring refused to store {user!r} ({type(exc).__name__}); check "
                                            f"that a keyring backend is available (`keyring --list-backends`)") \
                from exc
    stored = ", ".join(user for user, _ in entries)
    print(f"stored in the keyring (service {KEYRING_SERVICE!r}): {stored}", file=sys.stderr)
    with make_client(args) as client:
        where = client.settings.credential_source(provider)
    if where is not None and not where.startswith("the keyring"):
        print(f"note: {where} also holds a key for {provider.name!r} and is used first; unset it to use the "
              f"keyring's", file=sys.stderr)
    return EXIT_OK


def list_keys(args: argparse.Namespace) -> int:
    rows = [("provider", "key", "other credentials")]
    with make_client(args) as client:
        for provider in sorted(client.catalog.providers.values(), key=lambda p: p.name):
            if not provider.requires_api_key:
                continue
            fields = [f"{field}: {_where(client.settings, provider, field)}" for field in credential_fields(provider)]
            rows.append((provider.name, _where(client.settings, provider, "api_key"), "; ".join(fields) or "-"))
    print_table(rows)
    try:
        import_keyring()
    except errors.ConfigurationError:
        print(f"note: the keyring is not read: {KEYRING_EXTRA} to use `pepperpy keys set`", file=sys.stderr)
    return EXIT_OK


def delete_key(args: argparse.Namespace) -> int:
    provider = _provider(args)
    keyring = import_keyring()
    users = [keyring_user(provider.name), *(keyring_user(provider.name, f) for f in credential_fields(provider))]
    deleted = []
    for user in users:
        try:
            if keyring.get_password(KEYRING_SERVICE, user) is None:
                continue
            keyring.delete_password(KEYRING_SERVICE, user)
        except Exception as exc:
            raise errors.ConfigurationError(f"the keyring refused to delete {user!r} ({type(exc).__name__})") from exc
        deleted.append(user)
    if not deleted:
        raise errors.ConfigurationError(f"the keyring holds no key for {provider.name!r} (`pepperpy keys list` shows "
                                        f"where its key comes from)")
    print(f"deleted from the keyring: {', '.join(deleted)}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- helpers

def _provider(args: argparse.Namespace) -> ProviderSpec:
    with make_client(args) as client:
        provider = client.catalog.provider(args.provider)  # an unknown name: its suggestions
    if not provider.requires_api_key and not credential_fields(provider):
        raise errors.ConfigurationError(f"{provider.name!r} needs no API key")
    return provider


def _params(provider: ProviderSpec, params: Any) -> list[tuple[str, str]]:
    allowed = credential_fields(provider)
    for name, value in params:
        if name not in allowed:
            takes = (" and ".join(f"-p {field} VALUE" for field in allowed) if allowed
                     else "no -p: the key is its only credential")
            raise errors.ValidationError(f"-p {name}: `pepperpy keys set {provider.name}` takes {takes}", param=name)
        if not value.strip():
            raise errors.ValidationError(f"-p {name} needs a value", param=name)
    return [(name, value.strip()) for name, value in params]


def _read_key(provider: str) -> str:
    """The key from the terminal without echo, or the first line of a pipe."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"API key for {provider} (not shown): ")
    return (sys.stdin.readline() if sys.stdin is not None else "").strip()


def _where(settings: Any, provider: ProviderSpec, field: str) -> str:
    try:
        return settings.credential_source(provider, field) or "missing"
    except errors.ConfigurationError as exc:  # a configuration file others can read: say so, never the value
        return f"refused: {exc}"
