"""Load CloudFormation YAML: short-form intrinsic tags (`!Ref`, `!Sub`, `!GetAtt`...) become the
long form (`{"Ref": ...}`, `{"Fn::Sub": ...}`), exactly as CloudFormation reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_SCALAR_OR_SEQUENCE_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "If": "Fn::If",
    "Equals": "Fn::Equals",
    "Not": "Fn::Not",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "FindInMap": "Fn::FindInMap",
    "ImportValue": "Fn::ImportValue",
    "Base64": "Fn::Base64",
    "Cidr": "Fn::Cidr",
    "GetAZs": "Fn::GetAZs",
    "Transform": "Fn::Transform",
    "ToJsonString": "Fn::ToJsonString",
    "Length": "Fn::Length",
}


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that also knows CloudFormation's tags."""


def _construct_intrinsic(long_name: str) -> Any:
    def construct(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {long_name: value}

    return construct


def _construct_get_att(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        resource, _, attribute = str(loader.construct_scalar(node)).partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": loader.construct_sequence(node, deep=True)}  # type: ignore[arg-type]


for _short, _long in _SCALAR_OR_SEQUENCE_TAGS.items():
    _CfnLoader.add_constructor(f"!{_short}", _construct_intrinsic(_long))
_CfnLoader.add_constructor("!GetAtt", _construct_get_att)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML (or JSON) template into plain Python data."""
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=_CfnLoader)
    if not isinstance(document, dict):
        raise ValueError(f"{path}: a template must be a mapping at the top level")
    return document
