"""Monitoring: watch a deployed model's inputs, answers, labels and serving health; alert; close the loop.

The map:

- ``service`` (:class:`~keel.monitoring.service.MonitorService`, ``client.monitors``):
  ``create`` a monitor over a reference table version (its statistics are
  computed once and stored), ``check`` a batch, ``check_version`` a table
  version, ``run`` a window of the deployment's prediction log, ``report``
  and ``report_html`` a stored evaluation, ``infra`` the serving figures.
- ``evaluate``: covariate shift (per feature, tests from :mod:`keel.stats.drift`,
  plugins of ``keel.drift_tests``), prior shift (predictions always, labels
  once they arrive), live KPIs from labelled rows, the flat figures.
- ``infra``: latency percentiles, throughput and versions from the log.
- ``alerting`` / ``alerts`` / ``rules``: rules over any figure
  (``drift.share > 0.3``), events with deduplication and cooldown, sinks
  (log, signed webhook, retraining trigger).
- ``html``: the self-contained HTML report; ``window``: durations and windows.
"""
