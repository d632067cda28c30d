"""A report page as a list of blocks (headings, text, tables, figures, code), rendered to HTML or Markdown.

To HTML with every image embedded as base64 (one file, no external assets: it can be mailed or archived as it
is), and to Markdown whose images link to the PNGs in the run folders.
"""

from __future__ import annotations

import base64
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Heading:
    text: str
    level: int = 2
    anchor: str | None = None


@dataclass
class Text:
    text: str  # may use **bold** and `code`


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str | None = None
    numeric: list[bool] | None = None  # right-align these columns; guessed from the cells when None
    classes: list[str] = field(default_factory=list)  # per-row CSS class ("paper" rows are set apart)


@dataclass
class Figure:
    path: Path
    caption: str
    small: bool = False  # half the page width (confusion matrices), so that two sit side by side


@dataclass
class FigureRow:
    figures: list[Figure]


@dataclass
class Code:
    text: str


Block = Heading | Text | Bullets | Table | Figure | FigureRow | Code


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
color:#1d2127;line-height:1.45}
h1{border-bottom:3px solid #3b75af;padding-bottom:.2em}h2{border-bottom:1px solid #ccd;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em}th,td{border:1px solid #ccd;padding:.25em .55em}
th{background:#e9eef5}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.paper td{background:#f7f3e8;color:#5a4a1a}tr.ours td{background:#fff}
caption{caption-side:bottom;text-align:left;color:#555;font-size:.9em;padding-top:.3em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #dde}figcaption{color:#555;font-size:.9em}
.row{display:flex;gap:1em;flex-wrap:wrap}figure.small{flex:1 1 45%;max-width:520px}
code,pre{background:#f2f4f7;border-radius:3px}code{padding:0 .2em}pre{padding:.6em;overflow-x:auto;white-space:pre-wrap}
nav{background:#f5f7fa;padding:.5em 1em;border-radius:4px}nav a{margin-right:1em}
"""


def _inline_html(text: str) -> str:
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"(?<![*\w])\*([^*]+)\*(?![*\w])", r"<em>\1</em>", out)


def _is_numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[*\s]*[-+–]?[\d.,]+\s*(%|M|s|min|h)?(\s*[±/]\s*[\d.,]+)*[*\s]*(/ \d+)*", cell))


def _slug(text: str, used: set[str]) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "section"
    base, n = s, 2
    while s in used:
        s, n = f"{base}-{n}", n + 1
    used.add(s)
    return s


def render_html(blocks: list[Block], title: str) -> str:
    used: set[str] = set()
    anchors = {}
    for b in blocks:
        if isinstance(b, Heading) and b.level == 2:
            anchors[id(b)] = b.anchor if b.anchor and b.anchor not in used else _slug(b.text, used)
            used.add(anchors[id(b)])
    parts = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
    ]
    nav = [
        f'<a href="#{anchors[id(b)]}">{_inline_html(b.text)}</a>'
        for b in blocks
        if isinstance(b, Heading) and b.level == 2
    ]
    for b in blocks:
        if isinstance(b, Heading):
            anchor = f' id="{anchors[id(b)]}"' if id(b) in anchors else ""
            parts.append(f"<h{b.level}{anchor}>{_inline_html(b.text)}</h{b.level}>")
            if b.level == 1 and nav:
                parts.append("<nav>" + " ".join(nav) + "</nav>")
        elif isinstance(b, Text):
            parts.append(f"<p>{_inline_html(b.text)}</p>")
        elif isinstance(b, Bullets):
            parts.append("<ul>" + "".join(f"<li>{_inline_html(x)}</li>" for x in b.items) + "</ul>")
        elif isinstance(b, Code):
            parts.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
        elif isinstance(b, Table):
            parts.append(_table_html(b))
        elif isinstance(b, Figure):
            parts.append(_figure_html(b))
        elif isinstance(b, FigureRow):
            parts.append('<div class="row">' + "".join(_figure_html(f) for f in b.figures) + "</div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _figure_html(f: Figure) -> str:
    data = base64.b64encode(f.path.read_bytes()).decode("ascii")  # embedded: the page needs no other file
    alt = html.escape(f.caption, quote=True)
    cls = ' class="small"' if f.small else ""
    return (
        f'<figure{cls}><img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption>{_inline_html(f.caption)}</figcaption></figure>"
    )


def _table_html(t: Table) -> str:
    numeric = t.numeric or [
        all(_is_numeric(r[i]) for r in t.rows if i < len(r) and r[i] not in ("", "–"))
        and any(r[i] not in ("", "–") for r in t.rows if i < len(r))
        for i in range(len(t.header))
    ]
    rows = []
    for k, r in enumerate(t.rows):
        cls = f' class="{t.classes[k]}"' if k < len(t.classes) and t.classes[k] else ""
        cells = "".join(f"<td{' class=num' if numeric[i] else ''}>{_inline_html(c)}</td>" for i, c in enumerate(r))
        rows.append(f"<tr{cls}>{cells}</tr>")
    caption = f"<caption>{_inline_html(t.caption)}</caption>" if t.caption else ""
    head = "".join(f"<th>{_inline_html(h)}</th>" for h in t.header)
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_markdown(blocks: list[Block], base: Path) -> str:
    """Markdown; images are linked relative to `base`, the folder the .md is written to."""
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            lines += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Text):
            lines += [b.text, ""]
        elif isinstance(b, Bullets):
            lines += [f"- {x}" for x in b.items] + [""]
        elif isinstance(b, Code):
            lines += ["```", b.text, "```", ""]
        elif isinstance(b, Table):
            numeric = [
                all(_is_numeric(r[i]) for r in b.rows if i < len(r) and r[i] not in ("", "–"))
                for i in range(len(b.header))
            ]
            lines += [
                "| " + " | ".join(h.replace("|", "\\|") for h in b.header) + " |",
                "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
                *["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in b.rows],
                "",
            ]
            if b.caption:
                lines += [f"*{b.caption}*", ""]
        elif isinstance(b, (Figure, FigureRow)):
            for f in b.figures if isinstance(b, FigureRow) else [b]:
                rel = Path(os.path.relpath(f.path.resolve(), base.resolve())).as_posix()
                lines += [f"![{f.caption}]({rel})", "", f"*{f.caption}*", ""]
    return "\n".join(lines)
