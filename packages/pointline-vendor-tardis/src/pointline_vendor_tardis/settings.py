"""Tardis endpoints and credentials, from the environment.

* ``TARDIS_API_KEY`` — the API key, sent as ``Authorization: Bearer <key>``. It is never printed, logged
  or put in an error message (:class:`Settings` hides it from ``repr``).
* ``TARDIS_API_URL`` — base of the instruments API (default ``https://api.tardis.dev``).
* ``TARDIS_DATASETS_URL`` — base of the CSV datasets (default ``https://datasets.tardis.dev``).

The two URLs exist so tests (and mirrors) can point at a local server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

API_URL = "https://api.tardis.dev"
DATASETS_URL = "https://datasets.tardis.dev"


@dataclass(frozen=True)
class Settings:
    api_url: str = API_URL
    datasets_url: str = DATASETS_URL
    api_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> Settings:
        key = os.environ.get("TARDIS_API_KEY", "").strip() or None
        return cls(
            api_url=os.environ.get("TARDIS_API_URL", API_URL).rstrip("/"),
            datasets_url=os.environ.get("TARDIS_DATASETS_URL", DATASETS_URL).rstrip("/"),
            api_key=key,
        )

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
