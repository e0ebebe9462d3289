"""Opaque, signed nextTokens and keyset pagination for every list and search operation.

A token carries the sort key of the last item served, signed with a secret kept in the store.
The signature also covers the operation, the caller (account and region) and the request's
filters, so a token that is malformed, altered, or minted for another operation, filter or
caller fails verification and is a ValidationException. Tokens survive a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from ahi.emulator.context import RequestContext
from ahi.emulator.errors import ValidationException
from ahi.emulator.store.db import Store

T = TypeVar("T")
Position = list[Any]

SECRET_NAME = "pagination-token-key"
TOKEN_VERSION = 1
_secrets: WeakKeyDictionary[Store, bytes] = WeakKeyDictionary()


def _secret(store: Store) -> bytes:
    secret = _secrets.get(store)
    if secret is None:
        secret = _secrets[store] = store.secret(SECRET_NAME)
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _binding(ctx: RequestContext, filters: Mapping[str, Any]) -> bytes:
    """What a token is bound to: operation, caller and the filters of the request."""
    return json.dumps(
        [ctx.operation, ctx.account_id, ctx.region, dict(filters)],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()


def _mac(secret: bytes, binding: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, binding + b"\x00" + payload, hashlib.sha256).digest()[:16]


def encode_token(ctx: RequestContext, filters: Mapping[str, Any], position: Position) -> str:
    """A nextToken resuming after `position` for this operation, caller and filters."""
    payload = json.dumps([TOKEN_VERSION, position], separators=(",", ":")).encode()
    mac = _mac(_secret(ctx.runtime.store), _binding(ctx, filters), payload)
    return f"{_b64(payload)}.{_b64(mac)}"


def decode_token(ctx: RequestContext, filters: Mapping[str, Any], token: str) -> Position:
    """The position a nextToken resumes after; ValidationException if it is not ours for this request."""
    invalid = ValidationException(
        "nextToken is invalid: it is malformed, was altered, or belongs to another operation, "
        "filter or caller; start again without nextToken"
    )
    try:
        payload_text, mac_text = token.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, binascii.Error):
        raise invalid from None
    expected = _mac(_secret(ctx.runtime.store), _binding(ctx, filters), payload)
    if not hmac.compare_digest(mac, expected):
        raise invalid
    try:
        version, position = json.loads(payload)
    except (ValueError, TypeError):
        raise invalid from None
    if version != TOKEN_VERSION or not isinstance(position, list):
        raise invalid
    return position


def paginate(
    ctx: RequestContext,
    params: Mapping[str, Any],
    *,
    filters: Mapping[str, Any],
    fetch: Callable[[Position | None, int], Sequence[T]],
    key: Callable[[T], Position],
    default_size: int,
    token_member: str = "nextToken",
    size_member: str = "maxResults",
) -> tuple[list[T], str | None]:
    """One page of a keyset-ordered listing and the token for the next page (None on the last).

    `fetch(after, limit)` returns up to `limit` items in ascending `key` order, strictly after the
    position `after` (None: from the start). `filters` are every request member that shapes the
    result set besides the paging members; the token is only valid with the same filters.
    """
    token = params.get(token_member)
    after = decode_token(ctx, filters, token) if token else None
    size = params.get(size_member) or default_size
    items = list(fetch(after, size + 1))
    if len(items) <= size:
        return items, None
    page = items[:size]
    return page, encode_token(ctx, filters, key(page[-1]))
