"""A report as one self-contained HTML file: every check, failing rows, anomalies, and histograms.

No scripts, no fonts, no links: styles are inline and each histogram is an
inline SVG of reference-vs-new shares over the same bins, so the file can be
mailed or attached to a CI run and opens anywhere. Every value is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from keel.validation.schemas import CheckResult, Histogram, ValidationReport

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:bold}.skip{color:#777}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
figure{display:inline-block;margin:0 1rem 1rem 0}figcaption{font-size:90%}
"""
_WIDTH, _HEIGHT = 360, 140
_REF_COLOUR, _NEW_COLOUR = "#8ca0b3", "#e3872d"


def render_html(report: ValidationReport) -> str:
    """The report as a complete HTML document."""
    verdict = "PASSED" if report.passed else "FAILED"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Validation of {escape(report.address)}: {verdict}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(report.address)}: <span class='{'pass' if report.passed else 'fail'}'>{verdict}</span></h1>",
        f"<p>Suite <b>{escape(report.suite)}</b> ({escape(report.suite_digest[:12])}), {report.rows} rows, "
        f"{report.checks} checks, {report.failed} failed; report {escape(report.id)} by {escape(report.author)} "
        f"at {escape(report.created_at.isoformat())}.</p>",
        "<h2>Checks</h2><table><tr><th>column</th><th>check</th><th>verdict</th><th>observed</th>"
        "<th>threshold</th><th>message</th></tr>",
    ]
    for r in report.results:
        parts.append(
            f"<tr><td>{_text(r.column or '(table)')}</td><td>{_text(r.check)}</td>"
            f"<td class='{r.verdict}'>{r.verdict}</td><td>{_text(r.observed)}</td>"
            f"<td>{_text(r.threshold)}</td><td>{_text(r.message)}</td></tr>"
        )
    parts.append("</table>")
    failures = [r for r in report.results if r.failing_rows]
    if failures:
        parts.append("<h2>Failing rows (a sample)</h2>")
        for r in failures:
            rows = "".join(f"<tr><td>{f.index}</td><td>{_text(f.value)}</td></tr>" for f in r.failing_rows)
            parts.append(
                f"<h3>{_text(r.column)} / {_text(r.check)}: {r.failing_count} row(s)</h3>"
                f"<table><tr><th>row</th><th>value</th></tr>{rows}</table>"
            )
    if report.anomalies:
        parts.append(
            "<h2>Anomalies</h2><table><tr><th>kind</th><th>column</th><th>rows</th><th>sample</th></tr>"
        )
        for a in report.anomalies:
            sample = ", ".join(f"{f.index}: {_text(f.value)}" for f in a.rows)
            parts.append(
                f"<tr><td>{a.kind}</td><td>{_text(a.column or '')}</td><td>{a.count}</td><td>{sample}</td></tr>"
            )
        parts.append("</table>")
    charts = [r for r in report.results if r.histogram is not None]
    if charts:
        parts.append(
            "<h2>Reference vs new</h2><p class='legend'>"
            f"<span style='background:{_REF_COLOUR}'></span>reference"
            f"<span style='background:{_NEW_COLOUR}'></span>new</p>"
        )
        parts.extend(_figure(r) for r in charts)
    parts.append("</body></html>")
    return "\n".join(parts)


def _text(value: Any) -> str:
    return escape("" if value is None else str(value))


def _figure(result: CheckResult) -> str:
    assert result.histogram is not None
    caption = f"{_text(result.column)} ({result.verdict}; effect {result.effect or 0:.3f})"
    return f"<figure>{_svg(result.histogram)}<figcaption>{caption}</figcaption></figure>"


def _svg(hist: Histogram) -> str:
    """Side-by-side bars of each bin's share in the reference and in the new data."""
    ref_total = sum(hist.reference) or 1
    new_total = sum(hist.new) or 1
    shares = [(r / ref_total, n / new_total) for r, n in zip(hist.reference, hist.new, strict=True)]
    top = max([max(p) for p in shares] + [1e-9])
    bins = len(shares) or 1
    slot = _WIDTH / bins
    bars = []
    for i, (ref, new) in enumerate(shares):
        for j, (share, colour) in enumerate(((ref, _REF_COLOUR), (new, _NEW_COLOUR))):
            height = share / top * (_HEIGHT - 20)
            x = i * slot + j * slot / 2
            bars.append(
                f"<rect x='{x:.1f}' y='{_HEIGHT - 20 - height:.1f}' width='{max(slot / 2 - 1, 1):.1f}' "
                f"height='{height:.1f}' fill='{colour}'><title>{share:.3f}</title></rect>"
            )
    if hist.labels:
        axis = " · ".join(escape(label) for label in hist.labels[:8])
    else:
        axis = f"{hist.edges[0]:.4g} … {hist.edges[-1]:.4g}" if hist.edges else ""
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{_WIDTH}' height='{_HEIGHT}' role='img'>"
        + "".join(bars)
        + f"<text x='0' y='{_HEIGHT - 4}' font-size='11'>{axis}</text></svg>"
    )
