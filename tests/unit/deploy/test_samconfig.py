"""samconfig.toml (read by `sam build` / `sam deploy` in `make deploy`) names only what the template
declares, deploys a non-local stage with the IAM capability, and holds no secret."""

from __future__ import annotations

import re
import shlex
import tomllib

from tests.support.repo import REPO

SAMCONFIG = tomllib.loads((REPO / "samconfig.toml").read_text())


def overrides(deploy: dict) -> dict[str, str]:
    """`parameter_overrides` in either SAM form: 'A="x" B="y"' or a list of 'A=x'."""
    value = deploy.get("parameter_overrides", [])
    items = shlex.split(value) if isinstance(value, str) else value
    return dict(item.split("=", 1) for item in items)


def environments() -> list[str]:
    return [name for name, section in SAMCONFIG.items() if isinstance(section, dict) and "deploy" in section]


def test_every_environment_deploys_a_named_aws_stage(template_document):
    assert SAMCONFIG["version"] == 0.1
    assert "default" in environments()
    stages = set()
    for env in environments():
        deploy = SAMCONFIG[env]["deploy"]["parameters"]
        assert SAMCONFIG[env]["global"]["parameters"]["stack_name"], env
        assert "CAPABILITY_IAM" in deploy["capabilities"].split(), env  # SAM creates the function roles
        given = overrides(deploy)
        assert set(given) <= set(template_document["Parameters"]), f"{env}: unknown {set(given)}"
        assert re.fullmatch(template_document["Parameters"]["Stage"]["AllowedPattern"], given["Stage"])
        assert given["Stage"] != "local", f"{env}: Stage local is the local runtime's"
        stages.add(given["Stage"])
        assert not {"DatabaseUrl", "RedisUrl"} & set(given), f"{env}: pass endpoints and secret ARNs on AWS"
    assert len(stages) == len(environments()), "two environments would deploy the same stage"
