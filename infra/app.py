"""The CDK app (cdk.json runs ``python -m infra.app``).

Settings: the cdk.json context key ``eksmon`` holds the same schema as the CLI's ``--config`` YAML
(override it with ``cdk deploy -c 'eksmon={"notifications": {"emails": ["ops@example.com"]}}'``).
A bad key stops the synth with the message naming it. The stack is environment-agnostic unless
``-c eksmon:account=123456789012 -c eksmon:region=eu-west-1`` pin it. Nothing here calls AWS.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from eksmon.errors import ConfigError
from eksmon.registry import load
from eksmon.settings import Settings, parse_settings
from infra.constants import (
    ACCOUNT_CONTEXT_KEY,
    CONTEXT_KEY,
    CONTEXT_SOURCE,
    LAYER_BUILD_SCRIPT,
    LAYER_DIR,
    READER_STACK_NAME,
    REGION_CONTEXT_KEY,
    STACK_DESCRIPTION,
    STACK_NAME,
)
from infra.constructs.reader_stackset import CALL_AS_CONTEXT_KEY, CallAs, ReaderStackSet
from infra.monitors import MonitorPlan, plan_monitors
from infra.reader_stack import ReaderStack
from infra.stack import EksmonStack


def settings_from_context(app: App) -> Settings:
    raw = app.node.try_get_context(CONTEXT_KEY)
    if isinstance(raw, str):  # `-c eksmon=...` on the command line arrives as a string
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{CONTEXT_SOURCE}: not valid JSON: {exc}") from None
    return parse_settings(raw or {}, source=CONTEXT_SOURCE)


def environment(app: App) -> Environment | None:
    account = app.node.try_get_context(ACCOUNT_CONTEXT_KEY)
    region = app.node.try_get_context(REGION_CONTEXT_KEY)
    if account is None and region is None:
        return None
    return Environment(account=None if account is None else str(account), region=region)


def build_app(
    app: App,
    settings: Settings,
    *,
    layer_dir: Path,
    monitors: Sequence[MonitorPlan] | None = None,
) -> EksmonStack:
    """The stacks, checked by cdk-nag's AwsSolutions pack (an unacknowledged finding fails the synth).

    EksMonitor always; with member accounts (``accounts.ids`` or ``accounts.organization``) also
    EksMonitorReader, the role to deploy into each member account, and with ``organizational_units``
    the monitor stack deploys that template itself as a service-managed StackSet.
    """
    plans = plan_monitors(load()) if monitors is None else monitors
    if not plans:
        print("eksmon: no monitor has both checks and a handler yet: no functions", file=sys.stderr)
    stack = EksmonStack(
        app,
        STACK_NAME,
        settings=settings,
        monitors=plans,
        layer_dir=layer_dir,
        env=environment(app),
        description=STACK_DESCRIPTION,
    )
    Tags.of(stack).add("project", "eksmon")
    accounts = settings.accounts
    if accounts.ids or accounts.organization:
        actions = sorted({a for plan in plans for a in plan.iam_actions})
        account = app.node.try_get_context(ACCOUNT_CONTEXT_KEY)
        reader = ReaderStack(
            app,
            READER_STACK_NAME,
            settings=settings,
            actions=actions,
            monitor_account=None if account is None else str(account),
        )
        Tags.of(reader).add("project", "eksmon")
        if accounts.organization and accounts.organizational_units:
            call_as = str(app.node.try_get_context(CALL_AS_CONTEXT_KEY) or "SELF")
            if call_as not in ("SELF", "DELEGATED_ADMIN"):
                raise ConfigError(
                    f"cdk context {CALL_AS_CONTEXT_KEY}: {call_as!r} is not SELF or DELEGATED_ADMIN"
                )
            ReaderStackSet(
                stack,
                "ReaderStackSet",
                template_body=reader_template(app, settings, actions),
                organizational_units=accounts.organizational_units,
                call_as=cast(CallAs, call_as),
            )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return stack


def reader_template(app: App, settings: Settings, actions: Sequence[str]) -> str:
    """EksMonitorReader's template, synthesised in an app of its own (same feature flags, no path
    metadata or version reporting), for a StackSet's TemplateBody. Its own directory: under `cdk synth`
    an App without ``outdir`` would write into cdk.out and replace the real app's manifest."""
    context: dict[str, Any] = {
        **app.node.get_all_context(),
        "aws:cdk:enable-path-metadata": False,
        "aws:cdk:version-reporting": False,
    }
    with tempfile.TemporaryDirectory(prefix="eksmon-reader-") as outdir:
        twin = App(outdir=outdir, context=context, analytics_reporting=False)
        ReaderStack(twin, READER_STACK_NAME, settings=settings, actions=actions)
        template = twin.synth().get_stack_by_name(READER_STACK_NAME).template
    return json.dumps(template, separators=(",", ":"), sort_keys=True)


def ensure_layer() -> Path:
    """Build the dependency layer if it is missing or stale (needs PyPI once; offline afterwards)."""
    subprocess.run([sys.executable, str(LAYER_BUILD_SCRIPT)], check=True, stdout=sys.stderr)  # noqa: S603
    return LAYER_DIR


def main() -> None:
    app = App()
    try:
        settings = settings_from_context(app)
    except ConfigError as exc:
        sys.exit(f"eksmon: {exc}")
    build_app(app, settings, layer_dir=ensure_layer())
    app.synth()


if __name__ == "__main__":
    main()
