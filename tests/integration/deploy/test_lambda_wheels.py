"""`sam build` can build every function and layer of template.yaml: each requirements file SAM installs
resolves to wheels that load on the Lambda runtime and architecture the template names.

SAM's Python builder (PythonPipBuilder) takes binary wheels only, for the runtime's Python and for the
glibc of its Amazon Linux: python3.11 runs on Amazon Linux 2 (glibc 2.26), python3.12 and later on Amazon
Linux 2023 (glibc 2.34). A pin that ships only manylinux_2_28 wheels (confluent-kafka 2.16.1, pillow 13.0.0)
therefore builds for python3.12 and fails for python3.11 ("PythonPipBuilder:ResolveDependencies"). This
test asks PyPI the same question with `pip download` (PyPI is reachable here and in CI); `make deploy`
runs the real `sam build`."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator.cfn_yaml import load_template
from tests.support.repo import TEMPLATE

# The glibc of each Lambda Python runtime's operating system (Lambda runtimes page, "Supported runtimes").
AMAZON_LINUX_2_GLIBC = (2, 26)
AMAZON_LINUX_2023_GLIBC = (2, 34)
RUNTIME_GLIBC = {"python3.9": AMAZON_LINUX_2_GLIBC, "python3.10": AMAZON_LINUX_2_GLIBC,
                 "python3.11": AMAZON_LINUX_2_GLIBC, "python3.12": AMAZON_LINUX_2023_GLIBC,
                 "python3.13": AMAZON_LINUX_2023_GLIBC, "python3.14": AMAZON_LINUX_2023_GLIBC}
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
DOCUMENT: dict[str, Any] = load_template(TEMPLATE)
RESOURCES: dict[str, Any] = DOCUMENT["Resources"]
FUNCTION_GLOBALS: dict[str, Any] = DOCUMENT.get("Globals", {}).get("Function", {})


@dataclass(frozen=True)
class Build:
    """One requirements file as SAM installs it: for which runtime and architecture."""

    requirements: Path
    runtime: str
    architecture: str

    @property
    def platforms(self) -> list[str]:
        """Every manylinux tag the runtime's glibc loads, as pip spells them."""
        machine = MACHINES[self.architecture]
        _, highest = RUNTIME_GLIBC[self.runtime]
        return [f"manylinux2014_{machine}", *(f"manylinux_2_{minor}_{machine}" for minor in range(17, highest + 1))]

    @property
    def python_version(self) -> str:
        return self.runtime.removeprefix("python")


def builds() -> list[Build]:
    """The requirements files SAM would install: in each function's CodeUri and each layer's ContentUri."""
    found: dict[tuple[Path, str, str], Build] = {}
    for logical_id, resource in RESOURCES.items():
        properties = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function":
            runtime = properties.get("Runtime", FUNCTION_GLOBALS.get("Runtime"))
            [architecture] = properties.get("Architectures", FUNCTION_GLOBALS.get("Architectures", ["x86_64"]))
            directories = [properties["CodeUri"]]
            layers = [layer["Ref"] for layer in properties.get("Layers", FUNCTION_GLOBALS.get("Layers", []))]
            for layer in layers:  # a layer is built for the runtime of the functions that use it
                layer_resource = RESOURCES[layer]
                assert layer_resource["Metadata"]["BuildMethod"] == runtime, f"{layer}: BuildMethod is not {runtime}"
                assert runtime in layer_resource["Properties"]["CompatibleRuntimes"], f"{layer} vs {logical_id}"
                directories.append(layer_resource["Properties"]["ContentUri"])
            for directory in directories:
                requirements = (TEMPLATE.parent / directory / "requirements.txt").resolve()
                if requirements.is_file():
                    found[(requirements, runtime, architecture)] = Build(requirements, runtime, architecture)
    return sorted(found.values(), key=lambda build: (str(build.requirements), build.runtime, build.architecture))


BUILDS = builds()


def test_the_layer_has_requirements_and_every_runtime_is_known():
    assert [b for b in BUILDS if b.requirements.parent.name == "kafkagram"], "the layer's requirements.txt"
    assert all(b.runtime in RUNTIME_GLIBC and b.architecture in MACHINES for b in BUILDS)


def test_native_pins_need_amazon_linux_2023():
    """The pins whose only wheels are manylinux_2_28: the template's runtime must be python3.12 or later."""
    assert {b.runtime for b in BUILDS} <= {r for r, glibc in RUNTIME_GLIBC.items() if glibc >= (2, 28)}


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: f"{b.requirements.parent.name}-{b.runtime}-{b.architecture}")
def test_every_requirement_has_a_wheel_for_the_lambda_runtime(build: Build, tmp_path: Path):
    platforms = [argument for platform in build.platforms for argument in ("--platform", platform)]
    abi = "cp" + build.python_version.replace(".", "")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-cache-dir",
         "--only-binary=:all:", *platforms, "--python-version", build.python_version, "--implementation", "cp",
         "--abi", abi, "-r", str(build.requirements), "-d", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, (
        f"{build.requirements} has no wheel for {build.runtime} on {build.architecture} "
        f"(glibc {RUNTIME_GLIBC[build.runtime]}):\n{result.stderr[-3000:]}")
    pins = [line.split("#")[0].strip() for line in build.requirements.read_text().splitlines()]
    names = {re.split(r"[\[=<>~!]", pin)[0].lower().replace("-", "_") for pin in pins if pin}
    downloaded = {path.name.split("-")[0].lower() for path in tmp_path.glob("*.whl")}
    assert names <= downloaded, f"not downloaded as wheels: {sorted(names - downloaded)}"
