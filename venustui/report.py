"""A report for a bug tracker, from a replayed session: environment, timeline, findings, A/B runs.

The report is built once as blocks (headings, paragraphs, lists, a table, code blocks) whose
inline parts are prose or code, then written as Markdown (GitLab, GitHub) or HTML. Log text
is literal in both: in Markdown, code spans and fences are longer than any backtick run inside,
control characters are shown as escapes, and prose that may quote a log (a finding's claim)
has every character Markdown, HTML or an autolinker could act on escaped; in HTML everything
is escaped and nothing is a link.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass

from venustui.diagnose import Finding
from venustui.model import Model
from venustui.parse.text import visible
from venustui.present.fences import fence_rows
from venustui.present.ring import ring_rows
from venustui.present.runs import run_rows

# An inline part: ("text", prose) or ("code", literal text).
Inline = list[tuple[str, str]]


@dataclass
class Block:
    kind: str  # h1 h2 h3 p quote list table code
    parts: Inline | None = None
    items: list[Inline] | None = None  # list items, or table rows (cells joined by the renderer)
    cells: list[list[Inline]] | None = None
    lines: list[str] | None = None


def text(value: str) -> tuple[str, str]:
    return ("text", value)


def code(value: str) -> tuple[str, str]:
    return ("code", value)


def build(model: Model, findings: list[Finding], header: dict[str, str], *, unreadable: int = 0,
          stopped: str = "") -> list[Block]:
    out = [Block("h1", [text("venustui report")])]
    out.append(Block("p", [text(f"Recorded {header.get('start_time', '?')} on "), code(header.get("host", "?")),
                           text(f" with venustui {header.get('venustui_version', '?')}.")]))
    if unreadable:
        out.append(Block("quote", [text(f"{unreadable} recorded item(s) could not be read and were skipped.")]))
    if stopped:
        out.append(Block("quote", [text(f"Recording stopped early: {stopped}.")]))

    out.append(Block("h2", [text("Findings")]))
    if not findings:
        out.append(Block("p", [text("No finding: nothing in these logs matched a known failure.")]))
    for finding in findings:
        out.append(Block("h3", [text(f"{finding.severity.upper()}: {finding.claim}")]))
        if finding.evidence:
            out.append(Block("p", [text("Evidence:")]))
            out.append(Block("list", items=[[text(f"#{e.seq} "), code(e.source), text(": "), code(e.text[:300])]
                                            for e in finding.evidence]))
        if finding.next_step:
            out.append(Block("p", [text(f"Next: {finding.next_step}")]))

    out.append(Block("h2", [text("Environment")]))
    try:
        sources = json.loads(header.get("sources", "[]") or "[]")
    except ValueError:
        sources = []
    environment: list[Inline] = [[text("sources: ")] + _joined([code(str(s)) for s in sources])]
    for run in model.runs:
        flags = []
        if run.debug_mask is not None:
            flags.append(f"VN_DEBUG mask 0x{run.debug_mask:x} ({', '.join(run.debug_names) or 'none'})")
        if run.perf_mask is not None:
            flags.append(f"VN_PERF mask 0x{run.perf_mask:x} ({', '.join(run.perf_names) or 'none'})")
        for key in ("renderer_instance_version", "vk_xml_version", "wire_format", "protocol_version"):
            if key in run.facts:
                flags.append(f"{key.replace('_', ' ')} {run.facts[key]}")
        environment.append([text(f"run {run.id} ("), code(run.source), text("): " + ("; ".join(flags)
                                                                                       or "no vn_env logged"))])
    for target in model.targets.values():
        env = target.env
        changes = ", ".join(f"{k}={v}" for k, v in env.get("set", {}).items())
        removed = ", ".join(env.get("removed", []))
        item = [text(f"target run #{target.id} "), code(target.target), text(f" {target.phase} phase: ")]
        item += [code(changes)] if changes else [text("no changes")]
        item += [text(", removed "), code(removed)] if removed else []
        environment.append(item)
    out.append(Block("list", items=environment))

    if model.targets:
        out.append(Block("h2", [text("Runs side by side")]))
        rows = [[[text("run")], [text("target")], [text("phase")], [text("flags")], [text("outcome")]]]
        for t in model.targets.values():
            rows.append([[text(f"#{t.id}")], [code(t.target)], [text(t.phase)], [code(t.flags or "defaults")],
                         [text(t.outcome.get("text", "running"))]])
        out.append(Block("table", cells=rows))
    out.append(Block("h2", [text("Runs in the logs")]))
    out.append(Block("code", lines=[row.text for row in run_rows(model)] or ["(none)"]))
    out.append(Block("h2", [text("Fences")]))
    out.append(Block("code", lines=[row.text for row in fence_rows(model)] or ["(none)"]))
    out.append(Block("h2", [text("Ring")]))
    out.append(Block("code", lines=[row.text for row in ring_rows(model)]))
    out.append(Block("p", [text(f"Generated by venustui on {time.strftime('%Y-%m-%d %H:%M:%S')}.")]))
    return out


def _joined(parts: list[tuple[str, str]]) -> Inline:
    out: Inline = []
    for i, part in enumerate(parts):
        out += [text(", ")] if i else []
        out.append(part)
    return out or [text("-")]


# Markdown ------------------------------------------------------------------------------------
# Characters that Markdown (CommonMark, GFM: tables, strikethrough, math on GitHub), inline HTML,
# entities or an autolinker (':' of a URL, '.' of www., '@' of an address) could act on.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&~:@$])")
_BACKTICKS = re.compile(r"`+")


def _prose(value: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", visible(value.replace("\n", " ")))


def _code_span(value: str, in_table: bool) -> str:
    """A code span fenced by more backticks than any run inside, so nothing inside can close it."""
    value = visible(value.replace("\n", " "))
    if not value:
        return ""
    longest = max((len(run) for run in _BACKTICKS.findall(value)), default=0)
    fence = "`" * (longest + 1)
    if value[0] in "` " or value[-1] in "` ":
        value = f" {value} "
    if in_table:  # GFM splits cells at every unescaped pipe, code spans included
        value = value.replace("|", "\\|")
    return f"{fence}{value}{fence}"


def _inline_md(parts: Inline, in_table: bool = False) -> str:
    return "".join(_prose(v) if kind == "text" else _code_span(v, in_table) for kind, v in parts)


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if block.kind in ("h1", "h2", "h3"):
            out += ["#" * int(block.kind[1]) + " " + _inline_md(block.parts), ""]
        elif block.kind == "p":
            out += [_inline_md(block.parts), ""]
        elif block.kind == "quote":
            out += ["> " + _inline_md(block.parts), ""]
        elif block.kind == "list":
            out += ["- " + _inline_md(item) for item in block.items] + [""]
        elif block.kind == "table":
            head, *rows = block.cells
            out.append("| " + " | ".join(_inline_md(c, True) for c in head) + " |")
            out.append("|" + "---|" * len(head))
            out += ["| " + " | ".join(_inline_md(c, True) for c in row) + " |" for row in rows]
            out.append("")
        elif block.kind == "code":
            lines = [visible(line) for line in block.lines]
            longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
            fence = "`" * max(3, longest + 1)
            out += [fence, *lines, fence, ""]
    return "\n".join(out)


# HTML ----------------------------------------------------------------------------------------
def _inline_html(parts: Inline) -> str:
    return "".join(html.escape(visible(v)) if kind == "text" else f"<code>{html.escape(visible(v))}</code>"
                   for kind, v in parts)


def to_html(blocks: list[Block]) -> str:
    """A self-contained HTML page: headings, lists, a table and code, everything escaped, no links."""
    body = []
    for block in blocks:
        if block.kind in ("h1", "h2", "h3"):
            body.append(f"<{block.kind}>{_inline_html(block.parts)}</{block.kind}>")
        elif block.kind == "p":
            body.append(f"<p>{_inline_html(block.parts)}</p>")
        elif block.kind == "quote":
            body.append(f"<blockquote>{_inline_html(block.parts)}</blockquote>")
        elif block.kind == "list":
            body.append("<ul>" + "".join(f"<li>{_inline_html(item)}</li>" for item in block.items) + "</ul>")
        elif block.kind == "table":
            body.append("<table>" + "".join("<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in row) + "</tr>"
                                            for row in block.cells) + "</table>")
        elif block.kind == "code":
            body.append("<pre>" + "\n".join(html.escape(visible(line)) for line in block.lines) + "</pre>")
    style = ("body{font-family:sans-serif;max-width:70em;margin:2em auto}pre,code{background:#f4f4f4}"
             "pre{padding:.5em;overflow:auto}td{border:1px solid #ccc;padding:.2em .5em}table{border-collapse:collapse}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>venustui report</title><style>{style}</style>"
            f"</head><body>{''.join(body)}</body></html>\n")
