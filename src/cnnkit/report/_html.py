"""Plain, self-contained HTML: embedded PNG figures, tables and sections, no scripts or CDNs."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

from matplotlib.figure import Figure

from cnnkit.plots import png_bytes

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 1120px; margin: 0 auto; padding: 1rem 1.5rem 3rem; color: #1d2430;
       line-height: 1.5; background: #fff; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 2px solid #d8dee8; padding-bottom: 0.2rem; margin-top: 2.5rem; }
h3 { margin-bottom: 0.3rem; }
nav ol { columns: 2; padding-left: 1.2rem; }
.meta, .note { color: #5a6475; font-size: 0.92rem; }
img { max-width: 100%; height: auto; border: 1px solid #e4e8ef; }
figure { margin: 0.8rem 0; }
figcaption { color: #5a6475; font-size: 0.9rem; }
.pair { display: flex; flex-wrap: wrap; gap: 1rem; }
.pair > figure { flex: 1 1 480px; min-width: 0; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.95rem; }
th, td { border: 1px solid #d8dee8; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f3f5f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f8fa; border: 1px solid #e4e8ef; padding: 0.8rem; overflow-x: auto;
      font-size: 0.85rem; line-height: 1.3; }
details summary { cursor: pointer; color: #2a5db0; }
"""


def escape(text: Any) -> str:
    """``text`` as HTML text (``<`` and ``&`` escaped)."""
    return html.escape(str(text), quote=True)


def image(figure: Figure, alt: str, caption: str | None = None) -> str:
    """A ``<figure>`` holding ``figure`` as an embedded PNG (a base64 data URI)."""
    data = base64.b64encode(png_bytes(figure)).decode("ascii")
    text = f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
    if caption:
        text += f"<figcaption>{escape(caption)}</figcaption>"
    return text + "</figure>"


def pair(*figures_html: str) -> str:
    """Figures side by side (wrapping on narrow screens)."""
    return '<div class="pair">' + "".join(figures_html) + "</div>"


def table(headers: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> str:
    """An HTML table (no header row when ``headers`` is None); numbers are right-aligned,
    floats shown with 4 decimals."""
    body = []
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, float):
                cells.append(f'<td class="num">{value:.4f}</td>')
            elif isinstance(value, int) and not isinstance(value, bool):
                cells.append(f'<td class="num">{value:,}</td>')
            else:
                cells.append(f"<td>{escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    head = ""
    if headers is not None:
        head = "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr></thead>"
    return f"<table>{head}<tbody>{''.join(body)}</tbody></table>"


def paragraph(text: str, css_class: str | None = None) -> str:
    """A paragraph of escaped text."""
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{escape(text)}</p>"


def section(section_id: str, title: str, body: str) -> str:
    """A ``<section id=...>`` with a heading, linked from the table of contents."""
    return f'<section id="{escape(section_id)}">\n<h2>{escape(title)}</h2>\n{body}\n</section>'


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """The whole document: title, table of contents, then each (id, title, body) section."""
    contents = "".join(
        f'<li><a href="#{escape(sid)}">{escape(heading)}</a></li>' for sid, heading, _ in sections
    )
    body = "\n".join(section(*parts) for parts in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(title)}</h1>{paragraph(subtitle, 'meta')}</header>\n"
        f'<nav aria-label="Contents"><ol>{contents}</ol></nav>\n'
        f"{body}\n</body>\n</html>\n"
    )
