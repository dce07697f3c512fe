"""The shared dependency layer, from the directory layers/build.py fills (no Docker bundling)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constants import LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, LAYER_ASSET_EXCLUDES


class DependencyLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, directory: Path) -> None:
        super().__init__(scope, construct_id)
        if not (directory / "python").is_dir():
            raise FileNotFoundError(f"{directory}/python does not exist: run `make layer` first")
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(str(directory), exclude=list(LAYER_ASSET_EXCLUDES)),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            description="eksmon dependencies, pinned in layers/requirements.txt",
        )
