"""HTML pieces shared by the notebook representations and the dashboard: notices, tables."""

from __future__ import annotations

import html

NOTICE_STYLE = ("border-left: 4px solid #E69F00; background: #fff8e6; padding: 4px 8px; "
                "margin: 4px 0")
"""A notice box: an amber bar on the left (Okabe-Ito orange)."""

TABLE_STYLE = ("<style>.numaexp-table-wrap {overflow-x: auto; max-width: 100%; display: block} "
               ".widget-html-content:has(> .numaexp-table-wrap), "
               ".widget-html-content:has(> style + .numaexp-table-wrap) "
               "{min-width: 0; max-width: 100%; overflow: hidden} "
               ".numaexp-table-wrap table {white-space: nowrap} "
               ".numaexp-table-wrap th, .numaexp-table-wrap td {padding: 2px 10px; "
               "text-align: right}</style>")
"""Keeps a wide table's cells on one line and lets it scroll sideways."""


def notices_html(notices) -> str:
    """Each notice in an amber box, prefixed with its run label when given as ``(label,
    notice)`` pairs; empty for no notices."""
    out = []
    for item in notices:
        label, notice = item if isinstance(item, tuple) else (None, item)
        prefix = f"<b>{html.escape(label)}</b>: " if label else ""
        out.append(f'<div class="numaexp-notice" style="{NOTICE_STYLE}">&#9888; {prefix}'
                   f"{html.escape(str(notice))}</div>")
    return "".join(out)


def scrolling_table(frame, float_format=lambda x: f"{x:,.3f}", css_class: str = "") -> str:
    """``frame`` as an HTML table in a box that scrolls sideways when it is wider than the page."""
    table = frame.to_html(index=False, border=0, float_format=float_format,
                          classes=css_class or None, na_rep="")
    return f'{TABLE_STYLE}<div class="numaexp-table-wrap">{table}</div>'
