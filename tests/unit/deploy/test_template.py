"""template.yaml is ready for `sam deploy` and still runs locally: handlers import, topics are the app's,
conditions give a local run without VPC or secrets and an AWS run with both, and cfn-lint is clean."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from typing import Any

import pytest
from cfnlint.api import lint_file

from emulator.kafka.esm import kafka_mappings
from emulator.template import FunctionSpec, parse_template
from handlers import outbox_relay
from kafkagram.config import LOCAL_SMTP_SINK_URL, TOPICS, Settings, failure_topic
from kafkagram.storage import VARIANTS_PREFIX
from tests.support.repo import TEMPLATE, parameter_default

FUNCTIONS = parse_template(TEMPLATE).functions
KAFKA_POLICY = "KafkaEventSourcePolicy"  # what Lambda's pollers need; each function's other rights are its own

# What `sam deploy --guided` would be given for a stage on AWS (made-up but well-formed values).
AWS_ACCOUNT, AWS_REGION = "123456789012", "eu-west-1"
AWS_PARAMETERS = {
    "Stage": "dev",
    "MskClusterArn": f"arn:aws:kafka:{AWS_REGION}:{AWS_ACCOUNT}:cluster/kafkagram/"
                     "4f1c2d3e-0123-4567-89ab-cdef01234567-2",
    "MskBootstrapServers": "b-1.kafkagram.x1y2z3.c2.kafka.eu-west-1.amazonaws.com:9098",
    "VpcSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "VpcSecurityGroupIds": "sg-0cccccccccccccccc",
    "DatabaseEndpoint": "kafkagram.cluster-abc.eu-west-1.rds.amazonaws.com:5432",
    "DatabaseSecretArn": f"arn:aws:secretsmanager:{AWS_REGION}:{AWS_ACCOUNT}:secret:kafkagram-db-AbCdEf",
    "RedisEndpoint": "master.kafkagram.abc.euw1.cache.amazonaws.com:6379",
    "RedisSecretArn": f"arn:aws:secretsmanager:{AWS_REGION}:{AWS_ACCOUNT}:secret:kafkagram-redis-AbCdEf",
    "AuthTokenSecretArn": f"arn:aws:secretsmanager:{AWS_REGION}:{AWS_ACCOUNT}:secret:kafkagram-token-AbCdEf",
    "SmtpUrl": "smtps://email-smtp.eu-west-1.amazonaws.com:465",
    "SmtpSecretArn": f"arn:aws:secretsmanager:{AWS_REGION}:{AWS_ACCOUNT}:secret:kafkagram-smtp-AbCdEf",
    "WebhookSecretKeyArn": f"arn:aws:secretsmanager:{AWS_REGION}:{AWS_ACCOUNT}:secret:kafkagram-webhooks-AbCdEf",
}
# The variables that name a secret, and the parameter each comes from (kafkagram.config.Settings reads them).
SECRET_VARIABLES = {"DATABASE_SECRET_ARN": "DatabaseSecretArn", "REDIS_SECRET_ARN": "RedisSecretArn",
                    "AUTH_TOKEN_SECRET_ARN": "AuthTokenSecretArn", "SMTP_SECRET_ARN": "SmtpSecretArn",
                    "WEBHOOK_KEY_SECRET_ARN": "WebhookSecretKeyArn"}
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]+:[^/@\s]+@")


def import_handler(spec: FunctionSpec) -> Callable[..., Any]:
    """Import the handler as Lambda would: CodeUri first on the path, then the layers (/opt/python)."""
    module_name, _, attribute = spec.handler.rpartition(".")
    top = module_name.split(".")[0]
    roots = [str(spec.code_dir), *(str(d) for d in spec.layer_dirs)]
    # Two functions may both have an `app` module: import each one fresh, then put sys.modules back.
    saved = {name: mod for name, mod in sys.modules.items() if name == top or name.startswith(top + ".")}
    for name in saved:
        del sys.modules[name]
    sys.path[:0] = roots
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attribute)
    finally:
        del sys.path[:len(roots)]
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_handler_exists_and_imports(logical_id):
    spec = FUNCTIONS[logical_id]
    module = spec.handler.rpartition(".")[0].replace(".", "/")
    assert (spec.code_dir / f"{module}.py").is_file() or (spec.code_dir / module / "__init__.py").is_file(), (
        f"{logical_id}: Handler {spec.handler} has no module in CodeUri {spec.code_dir}")
    assert callable(import_handler(spec)), f"{logical_id}: {spec.handler} is not callable"


def test_every_function_uses_the_layer_and_kafka_functions_the_event_source_policy(template_document):
    for logical_id, spec in FUNCTIONS.items():
        assert spec.layer_dirs, f"{logical_id} has no layer"
        if spec.events_of_type("MSK", "SelfManagedKafka"):
            policies = template_document["Resources"][logical_id]["Properties"].get("Policies") or []
            assert {"Ref": KAFKA_POLICY} in policies, (
                f"{logical_id}: add `!Ref {KAFKA_POLICY}` to its Policies (MSK topics and groups through IAM)")


def test_topics_are_the_apps_and_failures_go_to_their_failed_topic(local_template):
    mappings = kafka_mappings(local_template)
    assert mappings, "template.yaml declares no Kafka event"
    for mapping in mappings:
        assert mapping.topic in TOPICS, f"{mapping.name}: {mapping.topic} is not in kafkagram.config.TOPICS"
        assert mapping.on_failure_topic == failure_topic(mapping.topic), (
            f"{mapping.name}: OnFailure must be kafka://{failure_topic(mapping.topic)}, "
            f"got {mapping.on_failure_topic and 'kafka://' + mapping.on_failure_topic}")
        # The topics `make up` creates are the ones the template names.
        assert {mapping.topic, mapping.on_failure_topic} <= set(Settings().all_topics)


def test_template_runs_locally_with_defaults_only(local_template):
    """The same parse as `make up`: no VPC, no secret ARNs, local URLs and the bucket `make up` creates."""
    kafka_mappings(local_template)
    settings_defaults = Settings.model_fields
    for logical_id, spec in local_template.functions.items():
        assert "VpcConfig" not in local_template.resources[logical_id].properties
        env = spec.environment
        assert not set(SECRET_VARIABLES) & set(env)
        # Unset, so functions see the runtime's own broker (the local runtime passes its environment on).
        assert "KAFKA_BOOTSTRAP_SERVERS" not in env
        assert env["MEDIA_BUCKET"] == settings_defaults["media_bucket"].default
        assert env["WEB_ORIGIN"] == settings_defaults["web_origin"].default
        assert env["DATABASE_URL"] == settings_defaults["database_url"].default
        assert env["REDIS_URL"] == settings_defaults["redis_url"].default
    # Mail goes to the sink `make up` starts (it overrides SmtpUrl with the sink's actual URL).
    mailer = local_template.functions["NotifyEmailFunction"].environment
    assert mailer["SMTP_URL"] == LOCAL_SMTP_SINK_URL == settings_defaults["smtp_url"].default
    assert mailer["MAIL_FROM"] == settings_defaults["mail_from"].default
    # Locally the token key is the plain local default (the API refuses it on AWS).
    assert local_template.functions["ApiFunction"].environment["AUTH_TOKEN_SECRET"] == (
        settings_defaults["auth_token_secret"].default)
    bucket = local_template.resources["MediaBucket"].properties
    assert bucket["BucketName"] == settings_defaults["media_bucket"].default
    for logical_id in local_template.functions:
        policies = local_template.resources[logical_id].properties.get("Policies") or []
        sids = {s.get("Sid") for p in policies if isinstance(p, dict) for s in p["Statement"]}
        assert not {sid for sid in sids if sid.endswith("Secret")}, f"{logical_id}: a secret statement locally"
    # Locally the database is plain TCP, without the RDS CA bundle.
    assert all("DATABASE_CA_BUNDLE" not in spec.environment for spec in local_template.functions.values())


def test_template_on_aws_uses_the_vpc_and_secret_arns():
    template = parse_template(TEMPLATE, AWS_PARAMETERS, region=AWS_REGION, account_id=AWS_ACCOUNT)
    for logical_id, spec in template.functions.items():
        vpc = template.resources[logical_id].properties["VpcConfig"]
        assert vpc == {"SubnetIds": AWS_PARAMETERS["VpcSubnetIds"].split(","),
                       "SecurityGroupIds": [AWS_PARAMETERS["VpcSecurityGroupIds"]]}
        env = spec.environment
        # TLS with the server verified against the RDS CA bundle that `make deploy` puts in the layer.
        assert env["DATABASE_URL"] == (
            f"postgresql://{AWS_PARAMETERS['DatabaseEndpoint']}/kafkagram?sslmode=verify-full")
        assert env["DATABASE_CA_BUNDLE"] == "/opt/python/kafkagram/certs/rds-global-bundle.pem"
        assert env.get("DATABASE_SECRET_ARN") in (None, AWS_PARAMETERS["DatabaseSecretArn"])
        assert env["REDIS_URL"] == f"rediss://{AWS_PARAMETERS['RedisEndpoint']}/0"
        assert env.get("REDIS_SECRET_ARN") in (None, AWS_PARAMETERS["RedisSecretArn"])
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == AWS_PARAMETERS["MskBootstrapServers"]
        assert not [v for v in env.values() if CREDENTIALS_IN_URL.search(v)], "a credential in plain text"
    # CloudFormation names the bucket on AWS (bucket names are global).
    assert "BucketName" not in template.resources["MediaBucket"].properties
    statements = {s["Sid"]: s for s in template.resources[KAFKA_POLICY].properties["PolicyDocument"]["Statement"]}
    cluster = AWS_PARAMETERS["MskClusterArn"]
    assert statements["KafkaTopics"]["Resource"] == cluster.replace(":cluster/", ":topic/") + "/*"
    assert statements["KafkaGroups"]["Resource"] == cluster.replace(":cluster/", ":group/") + "/kafkagram-dev-*"


def test_the_database_url_parameter_is_hidden(template_document):
    assert template_document["Parameters"]["DatabaseUrl"].get("NoEcho") is True
    for name, declaration in template_document["Parameters"].items():
        if name.endswith("SecretArn"):
            assert declaration["Default"] == "", f"{name}: secrets are ARNs given at deploy time"


def test_bucket_lifecycle_expires_abandoned_uploads(template_document):
    rules = {r["Id"]: r for r in template_document["Resources"]["MediaBucket"]["Properties"]
             ["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1
    assert rules["expire-abandoned-uploads"]["Prefix"] == "uploads/"
    assert rules["expire-abandoned-uploads"]["ExpirationInDays"] == {"Ref": "AbandonedUploadDays"}
    assert parameter_default(template_document, "AbandonedUploadDays") >= 1


def test_outputs_give_the_bucket(template_document):
    # Outputs of resources that do not exist fail cfn-lint (below); the API URLs come with the APIs.
    assert template_document["Outputs"]["MediaBucketName"]["Value"] == {"Ref": "MediaBucket"}


def test_cfn_lint_is_clean():
    matches = lint_file(TEMPLATE)
    assert not matches, "\n".join(str(match) for match in matches)


def test_defaults_and_aws_values_pass_the_parameter_patterns(template_document):
    # CloudFormation checks both against AllowedPattern; the local runtime does not.
    for name, declaration in template_document["Parameters"].items():
        pattern = declaration.get("AllowedPattern")
        if pattern:
            for value in (declaration["Default"], AWS_PARAMETERS.get(name, declaration["Default"])):
                assert re.fullmatch(pattern, str(value)), f"{name}={value!r} fails {pattern}"


def test_on_aws_each_secret_arn_a_function_gets_is_readable_and_no_secret_is_plain():
    """Every *_SECRET_ARN a function gets is a Settings field (the code resolves it) and an ARN its own
    policy may read (tests/unit/deploy/test_least_privilege.py checks which); the token key itself is no
    longer in any environment."""
    template = parse_template(TEMPLATE, AWS_PARAMETERS, region=AWS_REGION, account_id=AWS_ACCOUNT)
    for logical_id, spec in template.functions.items():
        policies = template.resources[logical_id].properties.get("Policies") or []
        allowed = {s["Resource"] for p in policies if isinstance(p, dict) for s in p["Statement"]
                   if s["Action"] == "secretsmanager:GetSecretValue"}
        given = set()
        for variable, value in spec.environment.items():
            if variable.endswith("_SECRET_ARN"):
                assert variable in SECRET_VARIABLES and variable.lower() in Settings.model_fields, variable
                assert value == AWS_PARAMETERS[SECRET_VARIABLES[variable]], (logical_id, variable)
                given.add(value)
        assert given == allowed, f"{logical_id}: GetSecretValue must be allowed on exactly the ARNs it reads"
        assert "AUTH_TOKEN_SECRET" not in spec.environment, f"{logical_id}: the token key in plain text"
    for logical_id in ("ApiFunction", "WebSocketConnectFunction"):
        assert template.functions[logical_id].environment["AUTH_TOKEN_SECRET_ARN"] == AWS_PARAMETERS[
            "AuthTokenSecretArn"]
    mailer = template.functions["NotifyEmailFunction"].environment
    assert mailer["SMTP_URL"] == AWS_PARAMETERS["SmtpUrl"]


def test_aws_stages_require_the_token_key_from_secrets_manager(template_document):
    assertions = template_document["Rules"]["AwsStagesUseManagedServices"]["Assertions"]
    assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "AuthTokenSecretArn"}, ""]}]} in [a["Assert"] for a in assertions]


def test_notification_email_reads_notification_created_and_user_registered(local_template):
    """Notification emails, and the verification link a new account gets (its own consumer group)."""
    mappings = {m.topic: m for m in kafka_mappings(local_template) if m.function.logical_id == "NotifyEmailFunction"}
    assert set(mappings) == {"notification-events", "user-events"}
    assert mappings["notification-events"].consumer_group_id == "kafkagram-local-notify-email"
    assert mappings["user-events"].consumer_group_id == "kafkagram-local-notify-email-verify"
    events = {e.properties["Topics"][0]: e.properties for e in local_template.functions["NotifyEmailFunction"].events}
    for topic, kind in (("notification-events", "notification-created"), ("user-events", "user-registered")):
        assert events[topic]["FilterCriteria"] == {"Filters": [{"Pattern": f'{{"value": {{"type": ["{kind}"]}}}}'}]}
        assert events[topic]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]  # an SMTP outage retries


def test_the_outbox_relay_runs_on_a_schedule_one_at_a_time(template_document, local_template):
    """On AWS a scheduled function is the relay; locally `make up` runs it as a thread (schedules are
    not emulated), so the runtime must not poll anything for it."""
    spec = local_template.functions["OutboxRelayFunction"]
    [event] = spec.events
    assert (event.type, event.properties["Schedule"]) == ("Schedule", "rate(1 minute)")
    assert spec.reserved_concurrency == 1
    # The drain, plus a last batch's delivery reports, fit in the timeout; the next run starts after it.
    assert outbox_relay.DRAIN_S + outbox_relay.LAST_BATCH_S < spec.timeout <= 90
    assert spec.handler == "outbox_relay.handler"
    assert not [m for m in kafka_mappings(local_template) if m.function.logical_id == "OutboxRelayFunction"]


def test_images_are_served_by_cloudfront_on_aws_and_by_the_bucket_locally(local_template):
    assert all("MEDIA_BASE_URL" not in spec.environment for spec in local_template.functions.values())
    assert {"MediaDistribution", "MediaBucketPolicy"}.isdisjoint(local_template.resources)

    template = parse_template(TEMPLATE, AWS_PARAMETERS, region=AWS_REGION, account_id=AWS_ACCOUNT)
    urls = {spec.environment["MEDIA_BASE_URL"] for spec in template.functions.values()}
    assert len(urls) == 1 and urls.pop().startswith("https://")
    [statement] = template.resources["MediaBucketPolicy"].properties["PolicyDocument"]["Statement"]
    # Only the distribution, only GET, only the processed variants (never the originals under uploads/).
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"} and statement["Action"] == "s3:GetObject"
    assert statement["Resource"].endswith(f"/{VARIANTS_PREFIX}/*")
    assert ":distribution/" in statement["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert template.resources["MediaBucket"].properties["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"]
