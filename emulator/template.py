"""Read a SAM template into what the local runtime needs: functions, their events, layers and APIs.

Intrinsic functions are resolved with local values: parameters from their defaults or overrides,
pseudo parameters from the local account/region, and resource references to local placeholder
names and ARNs. Globals are merged into functions as SAM does (maps merge, scalars override,
lists are appended).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.cfn_yaml import load_template

FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"
DEFAULT_TIMEOUT_SECONDS = 3.0
DEFAULT_MEMORY_MB = 128
LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_REGION = "us-east-1"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(ValueError):
    """A template problem, reported at start-up, naming the resource it concerns."""

    def __init__(self, resource: str, message: str) -> None:
        super().__init__(f"{resource}: {message}")
        self.resource = resource


@dataclass(frozen=True)
class EventSpec:
    name: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    function_name: str
    handler: str
    runtime: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    timeout: float
    memory_mb: int
    environment: dict[str, str]
    events: tuple[EventSpec, ...]
    reserved_concurrency: int | None
    arn: str

    def events_of_type(self, *types: str) -> list[EventSpec]:
        return [event for event in self.events if event.type in types]


@dataclass
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Template:
    path: Path
    region: str
    account_id: str
    stack_name: str
    parameters: dict[str, Any]
    resources: dict[str, Resource]
    functions: dict[str, FunctionSpec]

    @property
    def root(self) -> Path:
        return self.path.parent

    def function_by_arn(self, arn: str) -> FunctionSpec | None:
        for spec in self.functions.values():
            if arn == spec.arn or arn.startswith(spec.arn + ":"):
                return spec
        return None

    def resources_of_type(self, resource_type: str) -> list[Resource]:
        return [res for res in self.resources.values() if res.type == resource_type]


class _Resolver:
    """Evaluates intrinsic functions against local values."""

    def __init__(self, document: dict[str, Any], parameters: dict[str, Any], region: str,
                 account_id: str, stack_name: str) -> None:
        self.resources: dict[str, Any] = document.get("Resources") or {}
        self.conditions_source: dict[str, Any] = document.get("Conditions") or {}
        self.mappings: dict[str, Any] = document.get("Mappings") or {}
        self.parameters = parameters
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
            "AWS::NotificationARNs": [],
        }
        self.region = region
        self.account_id = account_id
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self.conditions_source:
                raise TemplateError(name, "unknown condition")
            self._conditions[name] = bool(self.resolve(self.conditions_source[name], name))
        return self._conditions[name]

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources.get(logical_id) or {}
        props = resource.get("Properties") or {}
        for key in ("FunctionName", "BucketName", "Name", "TopicName", "LayerName"):
            value = props.get(key)
            if isinstance(value, str | dict):
                resolved = self.resolve(value, logical_id)
                if isinstance(resolved, str):
                    return resolved
        return logical_id

    def ref(self, name: str, where: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            if self.resources[name].get("Type") == FUNCTION_TYPE:
                return self.physical_name(name)
            return self.physical_name(name)
        raise TemplateError(where, f"!Ref to unknown parameter or resource '{name}'")

    def get_att(self, logical_id: str, attribute: str, where: str) -> Any:
        if logical_id not in self.resources:
            raise TemplateError(where, f"!GetAtt to unknown resource '{logical_id}'")
        rtype = self.resources[logical_id].get("Type", "")
        name = self.physical_name(logical_id)
        if attribute == "Arn":
            service = {
                FUNCTION_TYPE: f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}",
                "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            }.get(rtype)
            return service or f"arn:aws:local:{self.region}:{self.account_id}:{logical_id}/{name}"
        if attribute == "ApiEndpoint":
            return f"local-{logical_id}"
        return f"{name}.{attribute}"

    def sub(self, value: Any, where: str) -> str:
        if isinstance(value, list):
            text, variables = value[0], self.resolve(value[1], where)
        else:
            text, variables = value, {}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1).strip()
            if expression in variables:
                return str(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                resource, _, attribute = expression.partition(".")
                return str(self.get_att(resource, attribute, where))
            return str(self.ref(expression, where))

        return _SUB_VARIABLE.sub(replace, str(text)).replace("${!", "${")

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v, where) for v in value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                resolved = self.ref(str(arg), where)
                return _NO_VALUE if arg == "AWS::NoValue" else resolved
            if key == "Fn::Sub":
                return self.sub(arg, where)
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(str(parts[0]), str(parts[1]), where)
            if key == "Fn::Join":
                separator, items = arg
                return str(separator).join(str(i) for i in self.resolve(items, where))
            if key == "Fn::Select":
                index, items = self.resolve(arg, where)
                return items[int(index)]
            if key == "Fn::Split":
                separator, text = self.resolve(arg, where)
                return str(text).split(separator)
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self.resolve(if_true if self.condition(name) else if_false, where)
            if key == "Fn::Equals":
                left, right = self.resolve(arg, where)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg, where)[0]
            if key == "Fn::And":
                return all(self.resolve(arg, where))
            if key == "Fn::Or":
                return any(self.resolve(arg, where))
            if key == "Condition":
                return self.condition(str(arg))
            if key == "Fn::FindInMap":
                mapping, top, second = self.resolve(arg, where)
                return self.mappings[mapping][top][second]
            if key in ("Fn::ImportValue", "Fn::Transform", "Fn::Cidr", "Fn::GetAZs"):
                raise TemplateError(where, f"{key} cannot be resolved locally")
        return {k: v for k, v in ((k, self.resolve(v, where)) for k, v in value.items()) if v is not _NO_VALUE}


class _NoValue:
    pass


_NO_VALUE: Any = _NoValue()


def merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (function wins), lists append, scalars override."""
    merged: dict[str, Any] = dict(global_props)
    for key, value in props.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


def _parameter_values(document: dict[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    declared = document.get("Parameters") or {}
    for name, declaration in declared.items():
        if name in overrides:
            values[name] = overrides[name]
        elif "Default" in declaration:
            values[name] = declaration["Default"]
        else:
            raise TemplateError(name, "parameter has no Default; pass it with --parameter-overrides")
        if (str(declaration.get("Type", "")).startswith("List<") or declaration.get("Type") == (
            "CommaDelimitedList"
        )) and isinstance(values[name], str):
            values[name] = [item.strip() for item in values[name].split(",") if item.strip()]
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(", ".join(sorted(unknown)), "override for a parameter the template does not declare")
    return values


def _layer_dir(template_root: Path, layer: Resource) -> Path:
    content = layer.properties.get("ContentUri")
    if not isinstance(content, str) or content.startswith("s3://"):
        raise TemplateError(layer.logical_id, "ContentUri must be a local directory to run locally")
    base = (template_root / content).resolve()
    if not base.is_dir():
        raise TemplateError(layer.logical_id, f"ContentUri {content} is not a directory")
    # With a BuildMethod, `sam build` places the sources under python/; without, they are there already.
    return base if layer.metadata.get("BuildMethod") else base / "python"


def _function_spec(template_root: Path, logical_id: str, props: dict[str, Any], layers: dict[str, Resource],
                   region: str, account_id: str) -> FunctionSpec:
    handler = props.get("Handler")
    runtime = str(props.get("Runtime", ""))
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(logical_id, "Handler must be 'module.function'")
    if runtime and not runtime.startswith("python"):
        raise TemplateError(logical_id, f"runtime {runtime} is not supported locally (python only)")
    code_uri = props.get("CodeUri", ".")
    if not isinstance(code_uri, str):
        raise TemplateError(logical_id, "CodeUri must be a local directory to run locally")
    code_dir = (template_root / code_uri).resolve()
    if not code_dir.is_dir():
        raise TemplateError(logical_id, f"CodeUri {code_uri} is not a directory")
    layer_dirs: list[Path] = []
    for layer_ref in props.get("Layers") or []:
        layer = layers.get(str(layer_ref))
        if layer is None:
            raise TemplateError(logical_id, f"layer {layer_ref} is not a layer of this template")
        layer_dirs.append(_layer_dir(template_root, layer))
    variables = ((props.get("Environment") or {}).get("Variables")) or {}
    name = str(props.get("FunctionName") or logical_id)
    events = tuple(
        EventSpec(name=event_name, type=str(event.get("Type")), properties=dict(event.get("Properties") or {}))
        for event_name, event in (props.get("Events") or {}).items()
    )
    reserved = props.get("ReservedConcurrentExecutions")
    return FunctionSpec(
        logical_id=logical_id,
        function_name=name,
        handler=handler,
        runtime=runtime or "python3.11",
        code_dir=code_dir,
        layer_dirs=tuple(layer_dirs),
        timeout=float(props.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
        memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
        environment={key: "" if value is None else str(value) for key, value in variables.items()},
        events=events,
        reserved_concurrency=int(reserved) if reserved is not None else None,
        arn=f"arn:aws:lambda:{region}:{account_id}:function:{name}",
    )


def parse_template(path: Path, parameter_overrides: Mapping[str, str] | None = None,
                   region: str = LOCAL_REGION, account_id: str = LOCAL_ACCOUNT_ID,
                   stack_name: str = "local") -> Template:
    """Read and resolve a SAM template; raises TemplateError naming the faulty resource."""
    path = path.resolve()
    document = load_template(path)
    parameters = _parameter_values(document, parameter_overrides or {})
    resolver = _Resolver(document, parameters, region, account_id, stack_name)
    function_globals = ((document.get("Globals") or {}).get("Function")) or {}
    resources: dict[str, Resource] = {}
    for logical_id, raw in (document.get("Resources") or {}).items():
        if not isinstance(raw, dict) or "Type" not in raw:
            raise TemplateError(logical_id, "resource has no Type")
        if "Condition" in raw and not resolver.condition(str(raw["Condition"])):
            continue
        props = raw.get("Properties") or {}
        if raw["Type"] == FUNCTION_TYPE:
            props = merge_globals(function_globals, props)
        resources[logical_id] = Resource(
            logical_id=logical_id,
            type=str(raw["Type"]),
            properties=resolver.resolve(props, logical_id),
            metadata=dict(raw.get("Metadata") or {}),
        )
    layers = {lid: res for lid, res in resources.items() if res.type == LAYER_TYPE}
    # A layer is referenced by !Ref, which resolves to its physical name: index both.
    layers.update({resolver.physical_name(lid): res for lid, res in list(layers.items())})
    functions = {
        lid: _function_spec(path.parent, lid, res.properties, layers, region, account_id)
        for lid, res in resources.items()
        if res.type == FUNCTION_TYPE
    }
    return Template(path=path, region=region, account_id=account_id, stack_name=stack_name,
                    parameters=parameters, resources=resources, functions=functions)
