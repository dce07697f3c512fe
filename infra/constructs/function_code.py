"""The code every eksmon function runs, staged from functions/ by what the handlers import (infra/asset.py)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Stage
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.asset import stage
from infra.constants import FUNCTION_STAGING_DIR, FUNCTIONS_DIR


def function_code(scope: Construct, functions_dir: Path = FUNCTIONS_DIR) -> lambda_.Code:
    """One asset for all the functions of ``scope``'s stack: exactly the modules the handlers import.

    The files are staged inside the cloud assembly (beside the ``asset.*`` directories CDK copies them
    to), so they outlive the synth for tools that read assets in place (SAM with asset staging off) and
    are replaced by the next synth. CDK hashes the staged contents: same sources, same asset.
    """
    stage_of = Stage.of(scope)
    if stage_of is None:
        raise ValueError(
            f"{scope.node.path} is not inside a CDK App or Stage: no cloud assembly to stage into"
        )
    staged = Path(stage_of.asset_outdir) / FUNCTION_STAGING_DIR
    stage(functions_dir, staged)
    return lambda_.Code.from_asset(str(staged))
