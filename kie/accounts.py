"""Several KIE accounts: one client per API key, each known by a fingerprint that is safe to show."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from pydantic import SecretStr

from kie.client import KieClient


def key_id(secret: str) -> str:
    """A key's public name: a sha256 prefix, for logs, the database, workflow state and admins."""
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


class KieAccounts:
    """The configured keys in order; ``client(key_id)`` talks to KIE as that account."""

    def __init__(self, client: KieClient, keys: Iterable[SecretStr | str]) -> None:
        self._clients: dict[str, KieClient] = {}
        for key in keys:
            secret = key.get_secret_value() if isinstance(key, SecretStr) else key
            self._clients.setdefault(key_id(secret), client.with_key(secret))
        if not self._clients:
            raise ValueError("at least one KIE key is needed")

    @property
    def ids(self) -> list[str]:
        return list(self._clients)

    def client(self, key_id: str) -> KieClient:
        return self._clients[key_id]

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._clients

    def __repr__(self) -> str:
        return f"KieAccounts({self.ids})"
