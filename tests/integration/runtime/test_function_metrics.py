"""A function's embedded-format metrics (Powertools Metrics, what CloudWatch Logs turns into metrics
on AWS) reach the runtime's status and ops view; everything else the function prints is printed."""

from __future__ import annotations

from tests.support.kafka import Probe, create_topic, kafka_event, produce, running, write_template
from tests.support.waiting import wait_for


def test_emf_lines_become_the_mappings_metrics_and_other_output_is_printed(
        tmp_path, kafka_bootstrap, kafka_session_timeout_ms, redis_client, unique, capfd):
    topic = f"t-{unique}"
    create_topic(kafka_bootstrap, topic)
    template = write_template(tmp_path, {"Probe": {"Events": {"Stream": kafka_event(topic)}}}, prefix=unique)
    produce(kafka_bootstrap, topic, [{"metric": "Widgets", "value": 2}, {"metric": "Widgets", "value": 3},
                                     {"print": f"hello from {unique}"}])
    with running(template, kafka_bootstrap, kafka_session_timeout_ms) as runtime:
        wait_for(lambda: len(Probe(redis_client, unique).done()) == 3, timeout=60, message="the records handled")
        metrics = wait_for(lambda: runtime.status()["Probe.Stream"]["metrics"], timeout=30, message="the metrics")
    assert metrics == {"Widgets": 5.0}
    printed = capfd.readouterr().out
    assert f"hello from {unique}" in printed
    assert '"_aws"' not in printed  # metric lines are taken, not printed
