"""Least privilege on AWS: each function's own policy lets it read exactly the secrets it uses and touch
exactly the S3 prefixes it works on. Read from template.yaml through the project's CloudFormation
loader (emulator.cfn_yaml, via emulator.template) with the parameters of an AWS stage."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from emulator.template import FUNCTION_TYPE, Template, parse_template
from tests.support.repo import TEMPLATE
from tests.unit.deploy.test_template import AWS_ACCOUNT, AWS_PARAMETERS, AWS_REGION

DATABASE, REDIS, SMTP, TOKEN = "DatabaseSecretArn", "RedisSecretArn", "SmtpSecretArn", "AuthTokenSecretArn"
WEBHOOK_KEY = "WebhookSecretKeyArn"  # opens webhook endpoints' signing secrets (kafkagram.webhooks)
# The secrets each function may read. Only the API and the WebSocket $connect function verify access
# tokens, so only they read the signing key; the upload processor parses untrusted images and gets the
# database secret alone.
SECRETS: dict[str, set[str]] = {
    "RecorderFunction": {DATABASE},
    "ApiFunction": {DATABASE, REDIS, TOKEN, WEBHOOK_KEY},
    "ProcessUploadFunction": {DATABASE},
    "PublishPostFunction": {DATABASE},
    "MediaCleanupFunction": {DATABASE},
    "FanOutFunction": {DATABASE, REDIS},
    "FollowGraphFunction": {DATABASE, REDIS},
    "ExploreFunction": {DATABASE, REDIS},
    "NotifyFunction": {DATABASE},
    "NotifyEmailFunction": {DATABASE, SMTP},
    # It reaches the internet: the database and the key of the endpoints' secrets, nothing else.
    "WebhooksFunction": {DATABASE, WEBHOOK_KEY},
    "OutboxRelayFunction": {DATABASE},
    "EventLogRetentionFunction": {DATABASE},
    "PushFunction": {REDIS},
    "WebSocketConnectFunction": {REDIS, TOKEN},
    "WebSocketDisconnectFunction": {REDIS},
    "WebSocketPingFunction": {REDIS},
    "WebSocketWatchFunction": {DATABASE, REDIS},
    "PostStatsFunction": {DATABASE, REDIS},
}
# The S3 actions each function may perform, per object prefix ("" = the bucket itself).
S3: dict[str, dict[str, set[str]]] = {
    # Presigned POSTs are signed with the API's role, so it may put under uploads/; it checks the stored
    # object (HEAD is s3:GetObject) when an upload completes. ListBucket makes a missing object 404.
    "ApiFunction": {"uploads/*": {"s3:PutObject", "s3:GetObject"}, "": {"s3:ListBucket"}},
    "ProcessUploadFunction": {"uploads/*": {"s3:GetObject"}, "media/*": {"s3:PutObject"}, "": {"s3:ListBucket"}},
    # Deleted posts' and never attached media: deletes originals and variants, reads nothing.
    "MediaCleanupFunction": {"uploads/*": {"s3:DeleteObject"}, "media/*": {"s3:DeleteObject"}},
}
SECRET_VARIABLES = {"DATABASE_SECRET_ARN": DATABASE, "REDIS_SECRET_ARN": REDIS, "SMTP_SECRET_ARN": SMTP,
                    "AUTH_TOKEN_SECRET_ARN": TOKEN, "WEBHOOK_KEY_SECRET_ARN": WEBHOOK_KEY}


@pytest.fixture(scope="module")
def aws_template() -> Template:
    return parse_template(TEMPLATE, AWS_PARAMETERS, region=AWS_REGION, account_id=AWS_ACCOUNT)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: Template, logical_id: str) -> list[dict[str, Any]]:
    """Every Allow statement of a function's role: its inline policy and the managed policies it attaches."""
    found: list[dict[str, Any]] = []
    for policy in template.resources[logical_id].properties.get("Policies") or []:
        if isinstance(policy, str):  # a managed policy of this template (`!Ref` resolves to its name)
            policy = template.resources[policy].properties["PolicyDocument"]
        assert isinstance(policy, dict) and "Statement" in policy, f"{logical_id}: unexpected policy {policy!r}"
        found.extend(policy["Statement"])
    assert all(statement["Effect"] == "Allow" for statement in found)
    return found


def readable_secrets(template: Template, logical_id: str) -> set[str]:
    by_arn = {AWS_PARAMETERS[name]: name for name in (DATABASE, REDIS, SMTP, TOKEN, WEBHOOK_KEY)}
    readable = set()
    for statement in statements(template, logical_id):
        actions = as_list(statement["Action"])
        if any(action.startswith("secretsmanager:") for action in actions):
            assert actions == ["secretsmanager:GetSecretValue"], (logical_id, actions)
            readable.update(by_arn[arn] for arn in as_list(statement["Resource"]))
        else:
            assert "*" not in as_list(statement["Resource"]), f"{logical_id}: a statement on every resource"
    return readable


def s3_access(template: Template, logical_id: str, bucket_arn: str) -> dict[str, set[str]]:
    access: dict[str, set[str]] = defaultdict(set)
    for statement in statements(template, logical_id):
        actions = [a for a in as_list(statement["Action"]) if a.startswith("s3:")]
        for resource in as_list(statement["Resource"]):
            if resource == bucket_arn or resource.startswith(bucket_arn + "/"):
                assert actions, f"{logical_id}: non-S3 actions on the bucket"
                access[resource.removeprefix(bucket_arn).removeprefix("/")].update(actions)
            else:
                assert not actions, f"{logical_id}: S3 actions on {resource}"
    return dict(access)


def test_the_table_covers_every_function(aws_template):
    assert set(SECRETS) == set(aws_template.functions)


@pytest.mark.parametrize("logical_id", sorted(SECRETS))
def test_each_function_reads_exactly_the_secrets_it_uses(aws_template, logical_id):
    assert readable_secrets(aws_template, logical_id) == SECRETS[logical_id]
    # Settings resolves every *_SECRET_ARN it is given at start: the environment names exactly those.
    given = {SECRET_VARIABLES[name] for name in aws_template.functions[logical_id].environment
             if name in SECRET_VARIABLES}
    assert given == SECRETS[logical_id]


def test_only_the_token_verifiers_read_the_signing_key(aws_template):
    assert {lid for lid in aws_template.functions if TOKEN in readable_secrets(aws_template, lid)} == {
        "ApiFunction", "WebSocketConnectFunction"}


@pytest.mark.parametrize("logical_id", sorted(SECRETS))
def test_each_function_touches_exactly_its_s3_prefixes(aws_template, logical_id):
    bucket_arn = "arn:aws:s3:::MediaBucket"  # the local resolver's placeholder for !GetAtt MediaBucket.Arn
    assert s3_access(aws_template, logical_id, bucket_arn) == S3.get(logical_id, {})


def test_the_upload_processor_reads_originals_and_writes_variants_only(aws_template):
    access = s3_access(aws_template, "ProcessUploadFunction", "arn:aws:s3:::MediaBucket")
    assert "s3:PutObject" not in access["uploads/*"] and "s3:GetObject" not in access["media/*"]
    assert not [a for actions in access.values() for a in actions if a.startswith("s3:Delete")]


def test_kafka_rights_follow_the_triggers(aws_template):
    """Kafka-triggered functions attach the event source policy (Lambda's pollers use their role); only
    the outbox relay produces to the event topics."""
    for logical_id, spec in aws_template.functions.items():
        consumes = any(event.type in ("MSK", "SelfManagedKafka") for event in spec.events)
        attached = "KafkaEventSourcePolicy" in (aws_template.resources[logical_id].properties.get("Policies") or [])
        assert attached == consumes, logical_id
        writes = {resource for statement in statements(aws_template, logical_id)
                  if "kafka-cluster:WriteData" in as_list(statement["Action"])
                  for resource in as_list(statement["Resource"])}
        if logical_id == "OutboxRelayFunction":
            assert writes and all(resource.endswith("/*") for resource in writes)
        else:  # the kafka://<topic>-failed destinations only
            assert all(resource.endswith("/*-failed") for resource in writes), (logical_id, writes)


def test_functions_have_their_own_policies(aws_template):
    """No policy with secrets or S3 is shared: each function's are inline in its own role."""
    managed = {lid for lid, res in aws_template.resources.items() if res.type == "AWS::IAM::ManagedPolicy"}
    assert managed == {"KafkaEventSourcePolicy"}
    statements_of_shared = aws_template.resources["KafkaEventSourcePolicy"].properties["PolicyDocument"]["Statement"]
    assert all(action.startswith("kafka-cluster:") for s in statements_of_shared for action in as_list(s["Action"]))
    assert all(res.type == FUNCTION_TYPE for lid, res in aws_template.resources.items() if lid in SECRETS)
