"""HTML copies of the stage's Markdown documents, for the Snakemake report (which shows HTML
inline but offers Markdown and CSV only as downloads).

Handles exactly the Markdown subset :mod:`bridge.compare.markdown` and the stage write:
``#`` headings, paragraphs, ``- `` bullet lists, pipe tables (tabulate's ``pipe`` format),
and inline ``code``, ``**bold**`` and ``_italic_`` (the provenance line). Everything else
is escaped text, so nothing in a table cell can inject markup.
"""

from __future__ import annotations

import html
import re

STYLE = """
body { font-family: sans-serif; font-size: 14px; margin: 1.5em; max-width: 1400px; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em 0; font-size: 12px; }
th, td { border: 1px solid #bbb; padding: 2px 6px; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; white-space: nowrap; }
code { background: #f3f3f3; padding: 0 2px; }
"""
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_INLINE = (
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w])_([^_]+)_(?![\w])"), r"<em>\1</em>"),
)
_NUMBER = re.compile(r"^[-+]?[\d.]+(e[-+]?\d+)?$")


def inline(text: str) -> str:
    """Escape ``text`` and apply the inline markup."""
    out = html.escape(text, quote=False)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def _cells(line: str) -> list[str]:
    inner = line.strip()
    if inner.startswith("|"):
        inner = inner[1:]
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    return [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(inner)]


def _table(lines: list[str]) -> str:
    header, body = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    out = ["<table>", "<tr>" + "".join(f"<th>{inline(c)}</th>" for c in header) + "</tr>"]
    for row in body:
        tds = "".join(
            f'<td class="num">{inline(c)}</td>' if _NUMBER.match(c) else f"<td>{inline(c)}</td>"
            for c in row
        )
        out.append(f"<tr>{tds}</tr>")
    out.append("</table>")
    return "\n".join(out)


def markdown_to_html(text: str, title: str) -> str:
    """A standalone HTML page of ``text`` (the Markdown subset in the module docstring)."""
    blocks: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")), 6)
            blocks.append(f"<h{level}>{inline(line[level:].strip())}</h{level}>")
            i += 1
        elif line.lstrip().startswith("|"):
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            blocks.append(_table(lines[i:j]))
            i = j
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{inline(lines[i][2:])}</li>")
                i += 1
            blocks.append("<ul>\n" + "\n".join(items) + "\n</ul>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("#", "- ")):
                if lines[i].lstrip().startswith("|"):
                    break
                para.append(lines[i])
                i += 1
            blocks.append(f"<p>{inline(' '.join(para))}</p>")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(blocks)
        + "\n</body></html>\n"
    )
