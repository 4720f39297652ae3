"""Driving the local chat in a browser: what a person clicks, found by the buttons' callback data."""

from __future__ import annotations

from playwright.async_api import Page

from contracts.buttons import FormAction, FormatModels, FormOp, ModelCard, StartForm

USER = 1001


async def press(page: Page, selector: str) -> None:
    """The newest message's button: older messages keep theirs, as in Telegram."""
    await page.locator(selector).last.click()


def data(value: str) -> str:
    return f".kbd-button[data-data='{value}']"


async def open_model(page: Page, format_title: str, format_id: str, code: str) -> None:
    """Format → its models (paging through "More" until the model shows) → card → Start."""
    await press(page, f".kbd-button:has-text('{format_title}')")
    card = data(ModelCard(code=code).pack())
    latest = page.locator(".row.bot").last
    await latest.locator(f"{card}, {data(FormatModels(format=format_id, page=1).pack())}").first.wait_for()
    for number in range(1, 40):
        if await latest.locator(card).count():
            break
        await press(page, data(FormatModels(format=format_id, page=number).pack()))
        # The screen is edited in place: wait for page n's own "n/N" before looking again.
        shown = data(FormatModels(format=format_id, page=number).pack()) + f":has-text('{number}/')"
        await latest.locator(shown).wait_for()
    await press(page, card)
    await press(page, data(StartForm(code=code).pack()))


async def generate(page: Page) -> None:
    """The overview's Generate, then the confirmation card's."""
    await page.locator(".kbd-button[data-data$=':go::']").last.wait_for()
    await press(page, ".kbd-button[data-data$=':go::']")
    await page.locator(".kbd-button[data-data^='g:']").last.wait_for()
    await press(page, ".kbd-button[data-data^='g:']")


__all__ = ["USER", "FormAction", "FormOp", "data", "generate", "open_model", "press"]
