"""Stars → credits packages, loaded from billing/packages.toml."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

PACKAGES_FILE = Path(__file__).with_name("packages.toml")


class Package(BaseModel, frozen=True):
    id: str = Field(pattern=r"^[a-z0-9]{1,12}$")
    stars: int = Field(gt=0)
    credits: int = Field(gt=0)


class Packages(BaseModel, frozen=True):
    referral_bonus_percent: int = Field(ge=0, le=100)
    package: list[Package] = Field(min_length=1)

    @field_validator("package")
    @classmethod
    def _unique(cls, packages: list[Package]) -> list[Package]:
        ids = [p.id for p in packages]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate package ids: {ids}")
        return packages

    def get(self, package_id: str) -> Package | None:
        return next((p for p in self.package if p.id == package_id), None)

    def referral_bonus(self, credits: int) -> int:
        return credits * self.referral_bonus_percent // 100


@lru_cache
def load_packages(path: Path = PACKAGES_FILE) -> Packages:
    with path.open("rb") as file:
        return Packages.model_validate(tomllib.load(file))
