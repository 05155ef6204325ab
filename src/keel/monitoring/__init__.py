"""Monitoring: watch a deployed model's inputs, answers, labels and serving health; alert; close the loop.

The map:

- ``service`` (:class:`~keel.monitoring.service.MonitorService`, ``client.monitors``,
  ``keel monitor``): ``create`` a monitor over a reference table version (its
  statistics are computed once and stored), ``check`` a Parquet batch,
  ``check_version`` a table version, ``run`` a window of the deployment's
  prediction log (any window, again later), ``report`` / ``report_html`` a
  stored evaluation, ``infra`` the serving figures, ``rebase`` onto a new
  reference after retraining.
- ``evaluate``: covariate shift per feature (tests from :mod:`keel.stats.drift`,
  plugins of the ``keel.drift_tests`` entry-point group), prior shift
  (predictions always, labels once they arrive), live KPIs from labelled
  rows, the flat figures rules read; ``record`` stores an evaluation, with
  the multivariate domain classifier (:mod:`keel.stats.drift_domain`) when
  the monitor asked for it.
- ``infra``: latency percentiles, throughput, versions and a replica
  recommendation, from the prediction log.
- ``alerting`` / ``alerts`` / ``rules``: rules over any figure
  (``drift.share > 0.3``), events with deduplication and cooldown, sinks
  (log, signed webhook, ``retrain``: the pipelines' triggers on
  ``drift:<deployment>``).
- ``html``: the self-contained HTML report; ``window``: durations and windows;
  (the monitoring stage of ``keel quickstart`` lives in ``keel.quickstart.monitoring``).
"""
