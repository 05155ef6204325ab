// Keel's charts (Apache-2.0): uPlot over the server's downsampled series. No inline script, no build step.
//
// Each <figure data-chart data-key=K data-runs=ID,ID data-names=N,N> gets one uPlot chart, one line per
// run, x = step. The server sends at most ~2,000 points per series (min/max per bucket) with null where
// the metric was NaN or infinite, which uPlot draws as a gap; runs with different steps are aligned with
// uPlot.join, whose alignment holes are spanned, not gaps. Selecting a range with the mouse zooms and
// asks the server for that range in finer detail; "Reset zoom" goes back to the whole run.
"use strict";

(function () {
  const COLORS = ["#0a58ca", "#d63384", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#dc3545", "#6c757d"];

  async function fetchSeries(runId, key, points, lo, hi) {
    const q = new URLSearchParams({ key: key, points: String(points) });
    if (lo !== null) q.set("lo", String(lo));
    if (hi !== null) q.set("hi", String(hi));
    const response = await fetch(`/ui/runs/${encodeURIComponent(runId)}/series?${q}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const type = response.headers.get("content-type") || "";
    if (response.status === 401) {
      window.location.assign("/ui/signin?next=" + encodeURIComponent(location.pathname + location.search));
      throw new Error("signed out");
    }
    if (!type.includes("application/json")) throw new Error(`unexpected answer (${response.status})`);
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : `error ${response.status}`);
    return body;
  }

  async function load(fig, lo, hi) {
    const key = fig.dataset.key;
    const runs = fig.dataset.runs.split(",");
    const plotEl = fig.querySelector(".plot");
    const points = Math.max(300, Math.min(2000, Math.round((plotEl.clientWidth || 600) * 2)));
    const bodies = await Promise.all(runs.map((id) => fetchSeries(id, key, points, lo, hi)));
    const tables = bodies.map((b) => [b.steps, b.values]);
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    const total = bodies.reduce((n, b) => n + b.total, 0);
    const drawn = bodies.reduce((n, b) => n + b.steps.length, 0);
    const gaps = bodies.reduce((n, b) => n + b.values.filter((v) => v === null).length, 0);
    let note = `${drawn.toLocaleString()} of ${total.toLocaleString()} points drawn`;
    if (gaps) note += `; ${gaps} gap${gaps === 1 ? "" : "s"} where the value was NaN or infinite`;
    fig.querySelector(".chart-note").textContent = note;
    fig.dataset.points = String(drawn);
    return data;
  }

  function options(fig, width, few) {
    const names = (fig.dataset.names || "").split(",");
    const runs = fig.dataset.runs.split(",");
    return {
      width: width,
      height: 240,
      scales: { x: { time: false } },
      axes: [{ label: "step" }, {}],
      cursor: { drag: { x: true, y: false, setScale: false } },
      series: [{ label: "step" }].concat(
        runs.map((id, i) => ({
          label: names[i] || id,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          spanGaps: false,
          points: { show: few }, // a handful of points (or one) would draw no visible line
        }))
      ),
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 2) return;
            const lo = Math.floor(u.posToVal(u.select.left, "x"));
            const hi = Math.ceil(u.posToVal(u.select.left + u.select.width, "x"));
            u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
            zoom(fig, u, lo, hi);
          },
        ],
      },
    };
  }

  async function zoom(fig, u, lo, hi) {
    try {
      const data = await load(fig, lo, hi);
      u.setData(data, true);
      fig.querySelector(".reset").hidden = false;
    } catch (err) {
      fig.querySelector(".chart-note").textContent = "could not load the series: " + err.message;
    }
  }

  async function draw(fig) {
    const plotEl = fig.querySelector(".plot");
    try {
      const data = await load(fig, null, null);
      const few = data[0].length <= 50;
      const u = new uPlot(options(fig, Math.max(plotEl.clientWidth, 300), few), data, plotEl);
      fig.dataset.drawn = "true";
      const reset = fig.querySelector(".reset");
      if (reset) {
        reset.addEventListener("click", async () => {
          u.setData(await load(fig, null, null), true);
          reset.hidden = true;
        });
      }
      new ResizeObserver(() => u.setSize({ width: Math.max(plotEl.clientWidth, 300), height: 240 })).observe(plotEl);
    } catch (err) {
      fig.querySelector(".chart-note").textContent = "could not draw this chart: " + err.message;
      fig.dataset.drawn = "error";
    }
  }

  function init(root) {
    root.querySelectorAll("figure[data-chart]:not([data-drawn])").forEach((fig) => {
      fig.dataset.drawn = "pending";
      draw(fig);
    });
  }

  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSettle", (e) => init(e.target));
})();
