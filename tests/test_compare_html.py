"""The Markdown-to-HTML copy the report shows: structure kept, cell text escaped."""

from __future__ import annotations

import pandas as pd

from bridge.compare import markdown as md
from bridge.compare.html import markdown_to_html


def test_tables_lists_and_inline_markup() -> None:
    frame = pd.DataFrame(
        {"condition": ["a|b", "<script>x</script>"], "value": [0.123456, None], "n": [3, 0]}
    )
    text = "\n".join(
        ["# Title `code`", "", "Some **bold** text.", "", "- item one", "- item _two_", "",
         md.table(frame), "", md.provenance_line({"git_commit": "abc", "config_hash": "f00"})]
    )  # fmt: skip
    page = markdown_to_html(text, "T")
    assert "<h1>Title <code>code</code></h1>" in page
    assert "<strong>bold</strong>" in page and "<em>two</em>" in page
    assert page.count("<li>") == 2 and page.count("<table>") == 1
    # Header + two rows, three cells each: the escaped pipe stays inside its cell.
    assert page.count("<tr>") == 3 and page.count("<td") == 6
    assert "<td>a|b</td>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<td class="num">0.1235</td>' in page and "<td>— (n=0)</td>" not in page
    assert "<td>—</td>" in page
    assert "<em>Provenance: git commit <code>abc</code>" in page


def test_mean_sd_cells() -> None:
    assert md.mean_sd(0.5, 0.01, 3) == "0.5 ± 0.01 (n=3)"
    assert md.mean_sd(0.5, None, 1) == "0.5 (n=1)"
    assert md.mean_sd(None, None, 0) == "— (n=0)"
