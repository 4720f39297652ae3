"""The bot fuzz's forged callback data does what its case says, read through the bot's own factories
(``contracts.buttons``): the cases it expects refused name nothing the pressing user has, the form's forged
operations are out of range or another form's, admin buttons are well-formed ones. Offline and fast."""

from __future__ import annotations

import random

import pytest
from aiogram.filters.callback_data import CallbackData

from billing import load_packages
from catalog import get_catalog
from contracts.buttons import (
    AdminAction,
    BuyPackage,
    FormAction,
    FormatModels,
    FormOp,
    Generate,
    GenerationAction,
    Menu,
    ModelCard,
    SetLanguage,
    StartForm,
)
from genflow.translations import LANGUAGES
from testkit.bot_fuzz.forged_buttons import (
    FORGED_ADMIN,
    REFUSAL_NOTICES,
    REFUSED_CALLBACKS,
    REFUSED_FORM_OPS,
    UNKNOWN_PREFIXES,
    forged_callbacks,
    forged_form_ops,
)
from testkit.keyboards import unpacked

CATALOG = get_catalog()
PACKAGES = {p.id for p in load_packages().package}
FACTORIES: list[type[CallbackData]] = [
    Menu,
    BuyPackage,
    SetLanguage,
    FormatModels,
    ModelCard,
    StartForm,
    FormAction,
    Generate,
    GenerationAction,
    AdminAction,
]
USER, OTHER = 5_000_000_001, 5_000_000_002
OTHER_KEYS = ["00000000000000aa", "00000000000000bb"]
USER_KEYS: set[str] = set()  # the pressing user has no generation here
FID, INPUTS, KEY = "a1b2c3", 4, "0123456789abcdef"
SEEDS = range(300)


def names_nothing(data: str) -> bool:
    """True when no factory reads ``data``, or the one that does names something the bot does not have."""
    for kind in FACTORIES:
        found = unpacked(data, kind)
        if found is None:
            continue
        if isinstance(found, BuyPackage):
            return found.package not in PACKAGES
        if isinstance(found, SetLanguage):
            return found.code not in LANGUAGES
        if isinstance(found, FormatModels):
            return not any(f.id == found.format for f in CATALOG.formats)
        if isinstance(found, ModelCard | StartForm):
            return not any(m.code == found.code for m in CATALOG.models.values())
        if isinstance(found, GenerationAction):
            return found.key not in USER_KEYS
        return False
    return True


def callbacks(seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    return forged_callbacks(rng, user=USER, other_buttons=["menu:home"], other_keys=OTHER_KEYS)


@pytest.mark.parametrize("data", UNKNOWN_PREFIXES)
def test_unknown_prefixes_name_nothing(data: str):
    assert names_nothing(data), data


def test_forged_callbacks_expected_refused_name_nothing():
    for seed in SEEDS:
        cases = callbacks(seed)
        assert REFUSED_CALLBACKS <= set(cases)
        for case in REFUSED_CALLBACKS:
            assert names_nothing(cases[case]), (case, cases[case])


def test_generation_buttons_carry_a_key_the_pressing_user_does_not_have():
    for seed in SEEDS:
        cases = callbacks(seed)
        other, own = (
            unpacked(cases["other_generation"], GenerationAction),
            unpacked(cases["own_generation"], GenerationAction),
        )
        assert other is not None and own is not None, cases
        assert other.key in OTHER_KEYS  # another user's generation: the handler looks for the presser's
        assert own.key not in OTHER_KEYS


def test_admin_buttons_are_well_formed_for_a_non_admin_to_press():
    for seed in SEEDS:
        assert unpacked(callbacks(seed)["admin_button"], AdminAction) is not None


def test_forged_form_operations_are_out_of_range_or_of_another_form():
    for seed in SEEDS:
        cases = forged_form_ops(random.Random(seed), fid=FID, inputs=INPUTS, key=KEY)
        assert REFUSED_FORM_OPS <= set(cases)
        out_of_range = unpacked(cases["index_out_of_range"], FormAction)
        assert out_of_range is not None and out_of_range.form == FID and out_of_range.index >= INPUTS
        yes_no = unpacked(cases["bool_out_of_range"], FormAction)
        assert yes_no is not None and yes_no.op == FormOp.YES_NO and yes_no.value not in (0, 1)
        old = unpacked(cases["old_form"], FormAction)
        assert old is not None and old.form != FID
        confirmation = unpacked(cases["confirmation_key"], Generate)
        assert confirmation is not None and confirmation.key != KEY
        for case in ("non_ascii_digit", "huge_number", "negative", "extra_args"):
            assert names_nothing(cases[case]), (case, cases[case])


def test_forged_admin_data_never_confirms_a_pending_action():
    for data in FORGED_ADMIN:
        found = unpacked(data, AdminAction)
        assert found is None or found.op != "ok" or found.ref in ("", "wrong"), data


def test_refusal_notices_are_known_in_every_language():
    assert len(REFUSAL_NOTICES) == 5 * len(LANGUAGES)
