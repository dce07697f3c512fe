"""The deployment a platform team runs: one account or a whole organization.

Given an organization of 3 accounts x 4 regions with a partition size of 4 account+region pairs and
the organization root as StackSet target (synthesised once for this module), when the templates are
read, then the monitor stack carries the member-role StackSet and scans through a Step Functions
fan-out, the member-role stack trusts only the monitor roles with exactly the registry's actions, and
across every template (both stacks, the StackSet's, and the session's single-account stack) no policy
grants a wildcard action, nor '*' as resource beyond the actions IAM gives no resource type.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from infra.asset import asset_modules, missing_imports
from infra.constants import FUNCTIONS_DIR, HANDLER, LAMBDA_SIZES, MONITOR_ROLE_PATH, READER_STACK_NAME
from tests.infra.support import STACK, Synthesized, cdk_json_context

pytestmark = pytest.mark.infra

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "eu-central-1"]
ORGANIZATION: dict[str, Any] = {
    "regions": REGIONS,
    "accounts": {"ids": ACCOUNTS, "organization": True, "organizational_units": ["r-ab12"]},
    "fanout": {"max_targets_per_invocation": 4, "max_concurrency": 3},
    "notifications": {"emails": ["platform@example.com"]},  # subscribed: no synth warning
}

# The only actions a policy may grant on Resource "*": IAM defines no resource type for them (Service
# Authorization Reference), so any narrower Resource would deny the call. Each line says who needs it.
NO_RESOURCE_TYPE = {
    # the checks' read actions (registry), in the monitor roles and the member-account role
    "cloudwatch:GetMetricData": "control-plane metrics, AWS/Usage quota usage",
    "ec2:DescribeAddresses": "Elastic IP quota usage",
    "ec2:DescribeNetworkInterfaces": "ENI quota usage",
    "ec2:DescribeSecurityGroups": "security group quota usage",
    "ec2:DescribeSubnets": "free addresses in the clusters' subnets",
    "ec2:DescribeVpcs": "VPC quota usage",
    "eks:DescribeAddonVersions": "add-on compatibility with the next version",
    "eks:DescribeClusterVersions": "the support calendar",
    "eks:ListClusters": "the fleet",
    "elasticloadbalancing:DescribeLoadBalancers": "load balancer quota usage",
    "elasticloadbalancing:DescribeTargetGroups": "target group quota usage",
    "iam:GetAccountSummary": "IAM quota usage",
    "iam:ListOpenIDConnectProviders": "OIDC provider quota usage",
    "servicequotas:ListAWSDefaultServiceQuotas": "quota limits",
    "servicequotas:ListServiceQuotas": "quota limits",
    "organizations:ListAccounts": "organization mode: the member accounts (monitor roles only)",
    # active tracing (Lambda and Step Functions)
    "xray:PutTraceSegments": "X-Ray",
    "xray:PutTelemetryRecords": "X-Ray",
    "xray:GetSamplingRules": "X-Ray (Step Functions)",
    "xray:GetSamplingTargets": "X-Ray (Step Functions)",
    # Step Functions logging to CloudWatch Logs (vended log delivery)
    "logs:CreateLogDelivery": "state machine logging",
    "logs:GetLogDelivery": "state machine logging",
    "logs:UpdateLogDelivery": "state machine logging",
    "logs:DeleteLogDelivery": "state machine logging",
    "logs:ListLogDeliveries": "state machine logging",
    "logs:PutResourcePolicy": "state machine logging",
    "logs:DescribeResourcePolicies": "state machine logging",
    "logs:DescribeLogGroups": "state machine logging",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="module")
def organization(
    tmp_path_factory: pytest.TempPathFactory, plans: list[Any], stub_layer: Path
) -> dict[str, Any]:
    import time

    from aws_cdk import App

    from eksmon.settings import parse_settings
    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("organization") / "cdk.out"
    context = cdk_json_context()
    context["eksmon"] = ORGANIZATION
    app = App(outdir=str(outdir), context=context)
    build_app(app, parse_settings(ORGANIZATION), layer_dir=stub_layer, monitors=plans)
    started = time.monotonic()
    error = None
    try:
        app.synth()
    except RuntimeError as exc:
        error = str(exc)
    return {
        "error": error,
        "seconds": time.monotonic() - started,
        "outdir": outdir,
        "monitor": json.loads((outdir / f"{STACK}.template.json").read_text()),
        "reader": json.loads((outdir / f"{READER_STACK_NAME}.template.json").read_text()),
        "report": json.loads((outdir / "validation-report.json").read_text()),
    }


def _stackset(organization: dict[str, Any]) -> dict[str, Any]:
    (stackset,) = _resources(organization["monitor"], "AWS::CloudFormation::StackSet").values()
    return dict(stackset["Properties"])


def _function_id(template: dict[str, Any], monitor: str) -> str:
    (found,) = [
        k
        for k, v in _resources(template, "AWS::Lambda::Function").items()
        if v["Properties"]["Handler"] == HANDLER.format(monitor=monitor)
    ]
    return found


# -- the synth ---------------------------------------------------------------------------------------------
def test_organization_synth_passes_cdk_nag_for_both_stacks(organization: dict[str, Any]) -> None:
    assert organization["error"] is None, organization["error"]
    for report in organization["report"]["pluginReports"]:
        assert report["violations"] == [], report["pluginName"]
    paths = {
        v["violatingConstructs"][0]["constructPath"].split("/")[0]
        for r in organization["report"]["pluginReports"]
        for v in r.get("suppressedViolations", [])
    }
    assert {STACK, READER_STACK_NAME} <= paths  # both stacks were checked (and acknowledged with reasons)


def test_every_template_lints_clean(organization: dict[str, Any], synthesized: Synthesized) -> None:
    from cfnlint.api import lint

    templates = {
        "monitor": organization["monitor"],
        "reader": organization["reader"],
        "stackset body": json.loads(_stackset(organization)["TemplateBody"]),
    }
    for name, template in templates.items():
        problems = [
            m for m in lint(json.dumps(template), regions=["us-east-1", "eu-west-1"]) if m.rule.id != "W3005"
        ]
        assert problems == [], f"{name}: " + "\n".join(str(m) for m in problems)


# -- the member-account role ---------------------------------------------------------------------------------
def test_the_stackset_deploys_the_reader_template_to_the_organization(organization: dict[str, Any]) -> None:
    stackset = _stackset(organization)
    assert stackset["PermissionModel"] == "SERVICE_MANAGED"
    assert stackset["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert stackset["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    (group,) = stackset["StackInstancesGroup"]
    assert group["DeploymentTargets"] == {"OrganizationalUnitIds": ["r-ab12"]}
    assert group["Regions"] == [{"Ref": "AWS::Region"}]  # IAM is global: one instance per account
    assert stackset["Parameters"] == [
        {"ParameterKey": "MonitorAccountId", "ParameterValue": {"Ref": "AWS::AccountId"}}
    ]
    body = json.loads(stackset["TemplateBody"])
    reader = organization["reader"]
    assert len(stackset["TemplateBody"]) < 51_200  # CloudFormation's TemplateBody limit

    def documents(template: dict[str, Any]) -> list[Any]:
        roles = [
            r["Properties"]["AssumeRolePolicyDocument"]
            for r in _resources(template, "AWS::IAM::Role").values()
        ]
        policies = [
            p["Properties"]["PolicyDocument"] for p in _resources(template, "AWS::IAM::Policy").values()
        ]
        return roles + policies

    assert documents(body) == documents(reader)
    assert "BootstrapVersion" not in body.get("Parameters", {})  # member accounts need no cdk bootstrap
    assert "CDKMetadata" not in body["Resources"]


def test_reader_role_trusts_only_the_monitor_accounts_monitor_roles(organization: dict[str, Any]) -> None:
    (role,) = _resources(organization["reader"], "AWS::IAM::Role").values()
    props = role["Properties"]
    assert props["RoleName"] == "eksmon-reader"
    (statement,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"]["AWS"]["Fn::Join"][1][-2:] == [{"Ref": "MonitorAccountId"}, ":root"]
    assert statement["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Join"][1][-2:] == [
        {"Ref": "MonitorAccountId"},
        f":role{MONITOR_ROLE_PATH}*",
    ]
    for monitor_role in _resources(organization["monitor"], "AWS::IAM::Role").values():
        if monitor_role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }:
            assert monitor_role["Properties"]["Path"] == MONITOR_ROLE_PATH


def test_reader_policy_is_the_union_of_every_monitors_registry_actions(
    organization: dict[str, Any], plans: list[Any]
) -> None:
    granted = {
        a
        for policy in _resources(organization["reader"], "AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for a in _as_list(s["Action"])
    }
    assert granted == {a for plan in plans for a in plan.iam_actions}


def test_monitor_roles_reach_the_organization_only_in_organization_mode(
    organization: dict[str, Any], synthesized: Synthesized
) -> None:
    def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            s
            for p in _resources(template, "AWS::IAM::Policy").values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]

    by_sid = {s.get("Sid"): s for s in statements(organization["monitor"])}
    assert ":iam::*:role/eksmon-reader" in json.dumps(by_sid["AssumeOrganizationReadRoles"]["Resource"])
    assert by_sid["AssumeOrganizationReadRoles"]["Condition"] == {
        "StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}
    }
    assert by_sid["ListOrganizationAccounts"]["Action"] == "organizations:ListAccounts"
    single = [a for s in statements(synthesized.template) for a in _as_list(s["Action"])]
    assert "organizations:ListAccounts" not in single


# -- the fan-out ------------------------------------------------------------------------------------------
def test_each_schedule_starts_its_monitors_state_machine(
    organization: dict[str, Any], plans: list[Any]
) -> None:
    template = organization["monitor"]
    machines = _resources(template, "AWS::StepFunctions::StateMachine")
    assert len(machines) == len(plans)
    for plan in plans:
        function = _function_id(template, plan.monitor)
        (machine_id,) = [
            k for k, m in machines.items() if function in json.dumps(m["Properties"]["DefinitionString"])
        ]
        (schedule,) = [
            s
            for s in _resources(template, "AWS::Scheduler::Schedule").values()
            if s["Properties"]["Target"]["Arn"] == {"Ref": machine_id}
        ]
        assert json.loads(schedule["Properties"]["Target"]["Input"])["monitor"] == plan.monitor
        role = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
        granted = [
            s
            for p in _resources(template, "AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Action"] == "states:StartExecution"
        ]
        assert [s["Resource"] for s in granted] == [{"Ref": machine_id}]


def test_state_machine_plans_then_maps_partitions_with_bounded_concurrency(
    organization: dict[str, Any],
) -> None:
    for machine in _resources(organization["monitor"], "AWS::StepFunctions::StateMachine").values():
        props = machine["Properties"]
        text = "".join(p if isinstance(p, str) else "<ref>" for p in props["DefinitionString"]["Fn::Join"][1])
        definition = json.loads(text)
        assert definition["StartAt"] == "Plan"
        plan = definition["States"]["Plan"]
        assert plan["Parameters"]["Payload"]["plan"] is True
        assert plan["Next"] == "Partitions"
        mapped = definition["States"]["Partitions"]
        assert mapped["Type"] == "Map"
        assert mapped["MaxConcurrency"] == ORGANIZATION["fanout"]["max_concurrency"]
        assert mapped["ItemsPath"] == "$.plan.partitions"
        assert mapped["ItemSelector"]["partition.$"] == "$$.Map.Item.Value"
        scan = mapped["ItemProcessor"]["States"]["ScanPartition"]
        assert "Parameters" not in scan  # the item itself is the monitor's event
        assert scan["Catch"][0]["ErrorEquals"] == [
            "States.ALL"
        ]  # one failed partition does not stop the rest
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["Level"] == "ALL"


def test_an_unfinished_execution_alarms_to_the_topic(organization: dict[str, Any], plans: list[Any]) -> None:
    """The alarm counts failed executions, and a failed partition is one: each machine can end in a Fail
    state, and the alarm says that a partition failed while the others were reported."""
    from aws_cdk.assertions import Match, Template

    template = organization["monitor"]
    (topic,) = _resources(template, "AWS::SNS::Topic")
    machines = _resources(template, "AWS::StepFunctions::StateMachine")
    watched = []
    for alarm in _resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        names = {
            q["MetricStat"]["Metric"]["MetricName"]: q["MetricStat"]["Metric"]["Dimensions"][0]["Value"][
                "Ref"
            ]
            for q in props.get("Metrics", [])
            if "MetricStat" in q and q["MetricStat"]["Metric"]["Namespace"] == "AWS/States"
        }
        if names:
            assert set(names) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
            assert props["AlarmActions"] == [{"Ref": topic}]
            assert props["Threshold"] == 1 and props["TreatMissingData"] == "notBreaching"
            watched.extend(set(names.values()))
    assert sorted(watched) == sorted(machines)
    Template.from_json(template).resource_properties_count_is(
        "AWS::CloudWatch::Alarm",
        {"AlarmDescription": Match.string_like_regexp("a partition failed while the others were scanned")},
        len(plans),
    )
    for machine in machines.values():
        parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
        states = json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))["States"]
        after_map = states[states["Partitions"]["Next"]]
        assert {states[c["Next"]]["Type"] for c in after_map["Choices"]} == {"Fail"}


def test_a_small_fleet_invokes_the_function_directly(synthesized: Synthesized, plans: list[Any]) -> None:
    template = synthesized.template
    assert not _resources(template, "AWS::StepFunctions::StateMachine")
    targets = {
        json.dumps(s["Properties"]["Target"]["Arn"])
        for s in _resources(template, "AWS::Scheduler::Schedule").values()
    }
    assert targets == {json.dumps({"Fn::GetAtt": [_function_id(template, p.monitor), "Arn"]}) for p in plans}


def test_fanout_decision() -> None:
    from eksmon.settings import parse_settings
    from infra.constructs.fanout import needs_fanout

    assert not needs_fanout(parse_settings({}))  # this account, this region
    assert not needs_fanout(parse_settings({"regions": REGIONS, "accounts": {"ids": ACCOUNTS}}))  # 12 <= 50
    assert needs_fanout(
        parse_settings(
            {"regions": REGIONS, "accounts": {"ids": ACCOUNTS}, "fanout": {"max_targets_per_invocation": 11}}
        )
    )
    assert needs_fanout(
        parse_settings({"accounts": {"organization": True}})
    )  # accounts known only at run time
    excluded = {
        "regions": REGIONS,
        "accounts": {"ids": ACCOUNTS, "exclude": ACCOUNTS[:1]},
        "fanout": {"max_targets_per_invocation": 8},
    }
    assert not needs_fanout(parse_settings(excluded))


def test_an_empty_configuration_is_one_monitor_stack_for_the_current_region(
    plans: list[Any], stub_layer: Path
) -> None:
    """`cdk deploy` with no configuration: one stack, no member role, the functions scan their own region."""
    from aws_cdk import App

    from eksmon.settings import parse_settings
    from infra.app import build_app
    from infra.constructs.fanout import FanOut

    settings = parse_settings({})
    app = App(context={**cdk_json_context(), "eksmon": {}})
    stack = build_app(app, settings, layer_dir=stub_layer, monitors=plans)
    assert [c.node.id for c in app.node.children if hasattr(c, "template_options")] == [STACK]
    assert not [c for c in stack.node.find_all() if isinstance(c, FanOut)]
    assert settings.to_json() == "{}"  # EKSMON_CONFIG: the defaults, regions [] = the Lambda's AWS_REGION


# -- IAM across every template -----------------------------------------------------------------------------
def _statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found += [(logical_id, s) for s in props["PolicyDocument"]["Statement"]]
        if resource["Type"] == "AWS::IAM::Role":
            for inline in props.get("Policies", []):
                found += [(logical_id, s) for s in inline["PolicyDocument"]["Statement"]]
    return found


def test_no_wildcard_action_and_star_resource_only_without_resource_types(
    organization: dict[str, Any], synthesized: Synthesized
) -> None:
    templates = {
        "organization monitor": organization["monitor"],
        "member role": organization["reader"],
        "stackset body": json.loads(_stackset(organization)["TemplateBody"]),
        "single account": synthesized.template,
    }
    checked = 0
    for name, template in templates.items():
        for logical_id, statement in _statements(template):
            checked += 1
            if statement["Effect"] != "Allow":
                continue
            actions = _as_list(statement["Action"])
            assert not [a for a in actions if "*" in a], f"{name} {logical_id}: {actions}"
            if "*" in _as_list(statement["Resource"]):
                loose = sorted(set(actions) - set(NO_RESOURCE_TYPE))
                assert loose == [], f"{name} {logical_id}: '*' for actions that have resource types: {loose}"
    assert checked > 50


# -- the function asset --------------------------------------------------------------------------------------
def test_the_asset_holds_what_the_lambdas_import_and_nothing_else(synthesized: Synthesized) -> None:
    """The one asset of every function holds exactly the handlers' import closure (infra/asset.py): no
    module of the command line or the simulator, nothing a shipped module imports (even inside a
    function) is missing; each shipped module imports, and the registry loads the same checks, from the
    asset alone (no site customisation, so the editable install of functions/ cannot help)."""
    template = synthesized.template
    key = _resources(template, "AWS::Lambda::Function")
    (asset_hash,) = {
        f["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        for f in key.values()
        if "S3Key" in f["Properties"]["Code"]
    }
    asset = synthesized.outdir / f"asset.{asset_hash}"
    shipped = {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()}
    closure = asset_modules(FUNCTIONS_DIR)
    assert shipped == {p.relative_to(FUNCTIONS_DIR).as_posix() for p in closure.values()}
    cli_or_simulator = (
        "eksmon/sim/",
        "eksmon/commands/",
        "eksmon/cli.py",
        "eksmon/__main__.py",
        "eksmon/demo.py",
    )
    assert not [p for p in shipped if p.startswith(cli_or_simulator)]
    assert missing_imports(asset, FUNCTIONS_DIR) == {}
    from eksmon.registry import load

    code = (
        "import sys, importlib\n"
        f"sys.path[:0] = [{str(asset)!r}, {sysconfig.get_paths()['purelib']!r}, {sysconfig.get_paths()['platlib']!r}]\n"
        "import eksmon\n"
        f"assert eksmon.__file__.startswith({str(asset)!r}), eksmon.__file__\n"
        f"for m in {sorted(closure)!r}:\n"
        "    importlib.import_module(m)\n"
        "from eksmon.registry import load\n"
        "print(sorted(load().checks), sorted(s.name for s in load().collectors.values()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    registry = load()
    assert (
        done.stdout.strip()
        == f"{sorted(registry.checks)} {sorted(s.name for s in registry.collectors.values())}"
    )


def test_function_sizes_come_from_the_measured_table(synthesized: Synthesized, plans: list[Any]) -> None:
    template = synthesized.template
    for plan in plans:
        props = template["Resources"][_function_id(template, plan.monitor)]["Properties"]
        size = LAMBDA_SIZES[plan.monitor]
        assert (props["MemorySize"], props["Timeout"]) == (size.memory_mb, size.timeout.to_seconds())


def test_the_topic_arn_is_a_stack_output(synthesized: Synthesized) -> None:
    topic = next(iter(_resources(synthesized.template, "AWS::SNS::Topic")))
    outputs = synthesized.template["Outputs"]
    assert [o for o in outputs.values() if o["Value"] == {"Ref": topic}]


def test_stackset_call_as_and_organizational_units_are_checked(stub_layer: Path) -> None:
    from aws_cdk import App

    from eksmon.errors import ConfigError
    from eksmon.settings import parse_settings
    from infra.app import build_app

    with pytest.raises(ConfigError, match=r"accounts: organizational_units: only with organization: true"):
        parse_settings({"accounts": {"organizational_units": ["r-ab12"]}})
    with pytest.raises(ConfigError, match=r"accounts\.organizational_units\.0"):
        parse_settings({"accounts": {"organization": True, "organizational_units": ["root"]}})
    app = App(context={**cdk_json_context(), "eksmon:stackset-call-as": "ADMIN"})
    with pytest.raises(ConfigError, match="eksmon:stackset-call-as"):
        build_app(app, parse_settings(ORGANIZATION), layer_dir=stub_layer, monitors=[])


def _jsonata(expression: str, state_input: Any) -> Any:
    """A JSONata state's field ("{% ... %}") as Step Functions evaluates it ($states.input bound)."""
    import jsonata  # jsonata-python, a port of the reference implementation

    assert expression.startswith("{%") and expression.endswith("%}"), expression
    compiled = jsonata.Jsonata(expression[2:-2].strip())
    compiled.assign("states", {"input": state_input})
    return compiled.evaluate(None)


def _verdict(states: dict[str, Any], name: str, state: Any) -> tuple[str, Any]:
    """Walk the Choice after the Map to the end: ("Succeed", None) or ("Fail", (error, cause))."""
    choice = states[name]
    assert choice["Type"] == "Choice" and choice["QueryLanguage"] == "JSONata"
    chosen = next(
        (c["Next"] for c in choice["Choices"] if _jsonata(c["Condition"], state) is True), choice["Default"]
    )
    end = states[chosen]
    if end["Type"] == "Fail":
        return "Fail", (_jsonata(end["Error"], state), _jsonata(end["Cause"], state))
    return end["Type"], None


def _organization_definition(organization: dict[str, Any]) -> dict[str, Any]:
    (machine, *_) = _resources(organization["monitor"], "AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    definition: dict[str, Any] = json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))
    return definition


def test_a_failed_partition_lets_the_others_finish_then_fails_the_execution_with_its_error(
    organization: dict[str, Any],
) -> None:
    """Given three partitions of which the second timed out, when the Map's catch records it and the
    definition is walked on, then the other two are scanned (the Map does not stop), and the execution
    ends Failed with the partition's error and a cause naming its accounts and regions."""
    states = _organization_definition(organization)["States"]
    mapped = states["Partitions"]
    processor = mapped["ItemProcessor"]["States"]
    scan = processor["ScanPartition"]
    (catch,) = scan["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"]
    recorder = processor[catch["Next"]]
    assert recorder.get("End") is True  # a failed partition ends its own iteration, not the Map
    assert mapped["ResultPath"] not in (None, "$")  # the results are kept beside the execution's input

    partitions = [
        {"accounts": ["111111111111"], "regions": ["us-east-1", "eu-west-1"]},
        {"accounts": ["222222222222"], "regions": ["us-west-2"]},
        {"accounts": ["333333333333"], "regions": ["eu-central-1"]},
    ]
    lambda_error = {"Error": "Sandbox.Timedout", "Cause": "Task timed out after 300.00 seconds" + "x" * 5000}
    results = []
    for i, partition in enumerate(partitions):
        item = {"partition": partition, "source": "eksmon.schedule", "monitor": "lifecycle"}
        if i == 1:  # Catch with ResultPath $.error, then the recording state
            caught = {**item, catch["ResultPath"][2:]: lambda_error}
            assert recorder["QueryLanguage"] == "JSONata"
            results.append(_jsonata(recorder["Output"], caught))
        else:
            results.append(_render(scan["ResultSelector"], {"clusters": 3}))
    execution = {"monitor": "lifecycle", mapped["ResultPath"][2:]: results}

    outcome, detail = _verdict(states, mapped["Next"], execution)
    assert outcome == "Fail"
    error, cause = detail
    assert error == "Sandbox.Timedout"
    assert cause.startswith("1 of 3 partitions failed (the others finished)")
    assert "222222222222 in us-west-2: Task timed out after 300.00 seconds" in cause
    assert len(cause) < 2_500  # a stack trace does not fill the execution's state


def test_an_error_without_a_name_still_fails_the_execution(organization: dict[str, Any]) -> None:
    states = _organization_definition(organization)["States"]
    mapped = states["Partitions"]
    results = [{"failed": False}, {"failed": True, "partition": {"accounts": ["1"], "regions": ["r"]}}]
    outcome, detail = _verdict(states, mapped["Next"], {mapped["ResultPath"][2:]: results})
    assert outcome == "Fail" and detail[0] == "eksmon.PartitionFailed"
    outcome, _ = _verdict(states, mapped["Next"], {mapped["ResultPath"][2:]: []})
    assert outcome == "Succeed"  # an organization with no active account: nothing failed


# -- the state machine drives the real handler ---------------------------------------------------------------
def _jsonpath(path: str, data: Any, context: Any) -> Any:
    """The JSONPath subset the definition uses: $, $.a.b and $$.a.b."""
    root, rest = (context, path[3:]) if path.startswith("$$.") else (data, path[2:])
    for part in [p for p in rest.split(".") if p]:
        root = root[part]
    return root


def _render(template: Any, data: Any, context: Any = None) -> Any:
    """Parameters / ItemSelector / ResultSelector as Step Functions evaluates them ("key.$": path)."""
    if not isinstance(template, dict):
        return template
    return {
        (k[:-2] if k.endswith(".$") else k): (
            _jsonpath(v, data, context) if k.endswith(".$") else _render(v, data, context)
        )
        for k, v in template.items()
    }


def test_the_state_machine_plans_and_scans_every_partition_through_the_real_handler(
    organization: dict[str, Any], demo_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the lifecycle state machine and function as synthesised (definition, configuration), when the
    definition is walked with the schedule's input against the simulator, then Plan answers partitions and
    each Map iteration is a monitor run of exactly its partition, together covering the whole fleet."""
    import importlib

    from eksmon.demo import FINDINGS_TABLE, LambdaContextStandIn, _inbox
    from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_FLEET, DEMO_NOW
    from eksmon.state import create_table

    template = organization["monitor"]
    function_id = _function_id(template, "lifecycle")
    function = template["Resources"][function_id]["Properties"]
    (machine,) = [
        m
        for m in _resources(template, "AWS::StepFunctions::StateMachine").values()
        if {"Fn::GetAtt": [function_id, "Arn"]} in m["Properties"]["DefinitionString"]["Fn::Join"][1]
    ]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    definition = json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))
    states = definition["States"]
    (schedule,) = [
        s
        for s in _resources(template, "AWS::Scheduler::Schedule").values()
        if json.loads(s["Properties"]["Target"]["Input"])["monitor"] == "lifecycle"
    ]
    execution_input = json.loads(schedule["Properties"]["Target"]["Input"])

    session = demo_sim.session("us-east-1")
    topic_arn, _queue = _inbox(session)
    create_table(session.client("dynamodb"), FINDINGS_TABLE)
    session.client("organizations").create_organization(
        FeatureSet="ALL"
    )  # the management account: DEMO_ACCOUNT
    for k, v in demo_sim.environ("us-east-1").items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("EKSMON_CONFIG", function["Environment"]["Variables"]["EKSMON_CONFIG"])
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    monkeypatch.setenv("FINDINGS_TABLE", FINDINGS_TABLE)
    module_name, handler_name = function["Handler"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), handler_name)

    def invoke(event: dict[str, Any]) -> Any:
        return handler({**event, "now": DEMO_NOW.isoformat()}, LambdaContextStandIn("eksmon-lifecycle"))

    plan = states[definition["StartAt"]]
    payload = _render(plan["Parameters"]["Payload"], execution_input)
    assert payload["plan"] is True and payload["monitor"] == "lifecycle"
    state = {**execution_input, "plan": _render(plan["ResultSelector"], {"Payload": invoke(payload)})}
    mapped = states[plan["Next"]]
    items = _jsonpath(mapped["ItemsPath"], state, None)
    runs = []
    scan = mapped["ItemProcessor"]["States"]["ScanPartition"]
    for item in items:
        event = _render(mapped["ItemSelector"], state, {"Map": {"Item": {"Value": item}}})
        assert "Parameters" not in scan
        runs.append((item, invoke(event)))
    state[mapped["ResultPath"][2:]] = [_render(scan["ResultSelector"], summary) for _, summary in runs]
    assert _verdict(states, mapped["Next"], state) == ("Succeed", None)  # every partition scanned

    fleet = {(a, r) for a in [*ACCOUNTS, DEMO_ACCOUNT] for r in REGIONS}
    covered = [(a, r) for item, _ in runs for a in item["accounts"] for r in item["regions"]]
    assert sorted(covered) == sorted(fleet)  # every account+region pair exactly once
    assert all(len(item["accounts"]) * len(item["regions"]) <= 4 for item, _ in runs)
    scanned = {tuple(item["accounts"]): summary["clusters"] for item, summary in runs}
    assert scanned[(DEMO_ACCOUNT,)] == len(DEMO_FLEET)  # the demo fleet lives in the monitor's own account
    # the plan counted each partition's clusters before the runs scanned them
    assert all(item["clusters"] == summary["clusters"] for item, summary in runs)
