"""Metrics in CloudWatch's embedded metric format (Powertools Metrics). Every handler flushes them
(`@metrics.log_metrics`): on AWS, CloudWatch Logs turns the printed lines into metrics; locally the
runtime reads the same lines from the sandbox's stdout and the ops view shows them per function."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "kafkagram"

metrics = Metrics(namespace=NAMESPACE)
# A batch that adds no metric (nothing new to count) is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def count(name: str, value: float = 1) -> None:
    """Add `value` to the metric `name` (a count) of this invocation."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
