"""Catalog drift for admins: models KIE refused as invalid although the catalog accepted the inputs (seen the
day it happens), and the catalog against the stored snapshots of KIE's documentation."""

from __future__ import annotations

from functools import cache

from aiogram.utils.i18n import gettext as _

from bot import views
from bot.admin.screens import back_rows
from bot.keyboards import button, markup
from bot.services import Services
from catalog import Catalog
from catalog.sync import drift, load_snapshots
from contracts.buttons import AdminAction, AdminOp
from db import ModelRejections

SHOWN = 15  # lines of drift shown; the command prints them all


@cache
def _snapshot_drift(catalog: Catalog) -> tuple[str, ...]:
    """What ``python -m catalog.sync --check`` prints, computed once per process (both are packaged data)."""
    return tuple(drift(catalog, load_snapshots()).lines())


async def screen(services: Services) -> views.Screen:
    lines = [_("🧭 Catalog drift")]
    rejections = await ModelRejections(services.pool).recent(days=7)
    if rejections:
        lines += ["", _("KIE refused as invalid (last 7 days):")]
        for item in rejections:
            lines.append(
                _("• {model}: {count}×, last {when}: {message}").format(
                    model=item.model_id,
                    count=item.count,
                    when=f"{item.last_at:%d.%m %H:%M}",
                    message=(item.last_message or "—")[:120],
                )
            )
    else:
        lines += ["", _("KIE refused no model as invalid in the last 7 days.")]
    differences = _snapshot_drift(services.catalog)
    if differences:
        lines += ["", _("The catalog differs from the stored documentation:")]
        lines += [f"• {line}" for line in differences[:SHOWN]]
        if len(differences) > SHOWN:
            more = len(differences) - SHOWN
            lines.append(_("…and {count} more: python -m catalog.sync --check").format(count=more))
    else:
        lines += [
            "",
            _(
                "The catalog matches the stored documentation. Against the live documentation: "
                "python -m catalog.sync --check --live"
            ),
        ]
    rows = [[button(_("🔄 Refresh"), AdminAction(op=AdminOp.DRIFT))], *back_rows()]
    return "\n".join(lines), markup(rows)
