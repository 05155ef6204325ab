"""A monitor report as one self-contained HTML file: verdicts per feature and reference-vs-window histograms.

No scripts, fonts or links: styles are inline and each histogram is an
inline SVG of the reference's and the window's shares over the same bins,
so the file can be mailed or attached to an incident and opens anywhere.
Every value is escaped. The JSON report (``--json``) is its twin.
"""

from __future__ import annotations

from html import escape
from typing import Any

from keel.monitoring.schemas import MonitorReport
from keel.stats.drift import DriftHistogram, FeatureDrift

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.ok{color:#1a7f37}.drift{color:#cf222e;font-weight:bold}.skip{color:#777}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
figure{display:inline-block;margin:0 1rem 1rem 0}figcaption{font-size:90%}
"""
_WIDTH, _HEIGHT = 360, 140
_REF_COLOUR, _NEW_COLOUR = "#8ca0b3", "#e3872d"


def render_html(report: MonitorReport) -> str:
    """The report as a complete HTML document."""
    verdict = "DRIFT" if report.drifted else "NO DRIFT"
    window = ""
    if report.window_start and report.window_end:
        window = f" window {report.window_start.isoformat()} to {report.window_end.isoformat()},"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Monitor {escape(report.monitor)}: {verdict}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(report.monitor)}: <span class='{'drift' if report.drifted else 'ok'}'>{verdict}</span></h1>",
        f"<p>{_text(report.source)} against {_text(report.reference_address)}:{escape(window)} {report.rows} rows; "
        f"{len(report.drift.drifted)} of {len(report.drift.features)} features drifted "
        f"(share {report.drift_share:.2f}); alpha {report.drift.alpha} with {escape(report.drift.correction)} "
        f"correction across features. Evaluation {escape(report.id)} at {escape(report.created_at.isoformat())}.</p>",
        "<h2>Features</h2><table><tr><th>feature</th><th>kind</th><th>verdict</th><th>decided by</th>"
        "<th>p-value (corrected)</th><th>effects</th><th>missing (ref → now)</th><th>new categories</th></tr>",
    ]
    rows = list(report.drift.features)
    rows += [f for f in (report.prediction, report.label) if f is not None]
    parts.extend(_row(f) for f in rows)
    parts.append("</table>")
    if report.kpis is not None:
        parts.append(f"<h2>Live KPIs ({report.kpis.labeled} labelled rows)</h2><table>")
        parts.append("<tr><th>metric</th><th>value</th></tr>")
        parts.extend(f"<tr><td>{_text(k)}</td><td>{v:.4f}</td></tr>" for k, v in report.kpis.metrics.items())
        parts.append("</table>")
        for result in report.kpis.report.results:
            parts.append(f"<p>{_text(result.kpi)}: {_text(result.status)} ({_text(result.value)})</p>")
    if report.infra is not None:
        infra = report.infra
        parts.append(
            f"<h2>Serving</h2><p>{infra.requests} requests, {infra.throughput_rps:.2f} rows/s; latency p50 "
            f"{_ms(infra.latency_p50_ms)}, p95 {_ms(infra.latency_p95_ms)}, p99 {_ms(infra.latency_p99_ms)}.</p>"
        )
    if report.multivariate is not None:
        m = report.multivariate
        parts.append(
            f"<h2>Multivariate</h2><p>A domain classifier told window rows from reference rows with AUC "
            f"{m.auc:.3f} against a permutation baseline of {m.baseline_mean:.3f} (95% {m.baseline_p95:.3f}); "
            f"p {m.p_value:.3g}: <span class='{'drift' if m.drifted else 'ok'}'>"
            f"{'drift' if m.drifted else 'ok'}</span>. "
            + ", ".join(f"{_text(k)} {v:.3f}" for k, v in m.top_features.items())
            + "</p>"
        )
    for note in report.notes:
        parts.append(f"<p class='skip'>{_text(note)}</p>")
    charts = [f for f in rows if f.histogram is not None]
    if charts:
        parts.append(
            "<h2>Reference vs window</h2><p class='legend'>"
            f"<span style='background:{_REF_COLOUR}'></span>reference"
            f"<span style='background:{_NEW_COLOUR}'></span>window</p>"
        )
        parts.extend(_figure(f) for f in charts)
    parts.append("</body></html>")
    return "\n".join(parts)


def _text(value: Any) -> str:
    return escape("" if value is None else str(value))


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _row(feature: FeatureDrift) -> str:
    name = {"__prediction__": "(prediction)", "__label__": "(label)"}.get(feature.name, feature.name)
    if feature.skipped:
        verdict, css = f"skipped: {feature.skipped}", "skip"
    else:
        verdict, css = ("drift", "drift") if feature.drifted else ("ok", "ok")
    deciding = feature.tests[0] if feature.tests else None
    p = (
        ""
        if deciding is None or deciding.p_value is None
        else f"{deciding.p_value:.3g} ({deciding.adjusted_p or 0:.3g})"
    )
    effects = ", ".join(f"{t.test} {t.effect:.3f}{'*' if t.drifted else ''}" for t in feature.tests)
    missing = f"{feature.reference_missing_share:.1%} → {feature.current_missing_share:.1%}"
    new = ", ".join(f"{_text(k)} ({v})" for k, v in feature.new_categories.items())
    return (
        f"<tr><td>{_text(name)}</td><td>{feature.kind}</td><td class='{css}'>{_text(verdict)}</td>"
        f"<td>{_text(feature.decided_by)}</td><td>{p}</td><td>{_text(effects)}</td><td>{missing}</td>"
        f"<td>{new}</td></tr>"
    )


def _figure(feature: FeatureDrift) -> str:
    assert feature.histogram is not None
    name = {"__prediction__": "(prediction)", "__label__": "(label)"}.get(feature.name, feature.name)
    effect = feature.tests[0].effect if feature.tests else 0.0
    caption = f"{_text(name)} ({'drift' if feature.drifted else 'ok'}; effect {effect:.3f})"
    return f"<figure>{_svg(feature.histogram)}<figcaption>{caption}</figcaption></figure>"


def _svg(hist: DriftHistogram) -> str:
    """Side-by-side bars of each bin's share in the reference and in the window."""
    shares = list(zip(hist.reference, hist.current, strict=True))
    top = max([max(p) for p in shares] + [1e-9])
    slot = _WIDTH / (len(shares) or 1)
    bars = []
    for i, pair in enumerate(shares):
        for j, (share, colour) in enumerate(zip(pair, (_REF_COLOUR, _NEW_COLOUR), strict=True)):
            height = share / top * (_HEIGHT - 20)
            bars.append(
                f"<rect x='{i * slot + j * slot / 2:.1f}' y='{_HEIGHT - 20 - height:.1f}' "
                f"width='{max(slot / 2 - 1, 1):.1f}' height='{height:.1f}' fill='{colour}'>"
                f"<title>{share:.3f}</title></rect>"
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
