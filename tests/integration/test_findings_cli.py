"""`eksmon findings` against the simulator: the open findings of a deployed monitor, from its table.

Given a stack whose FindingsTableName output names a table where a lifecycle run recorded its findings
(one of them since resolved), when a user runs `eksmon findings --stack EksMonitor`, then every open
finding and only those are listed, in each of scan's formats, and a missing stack is said, not a traceback.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from eksmon.cli import main
from eksmon.engine import scan
from eksmon.models import Finding
from eksmon.settings import parse_settings
from eksmon.sim.fleet import DEMO_NOW
from eksmon.sim.server import Simulator
from eksmon.stack_outputs import FINDINGS_TABLE
from eksmon.state import OPEN_KEY, FindingsState, create_table

REGION = "us-east-1"
TABLE = "EksMonitor-FindingsTable-1A2B3C"


def deploy(sim: Simulator) -> list[Finding]:
    """The stack, its table, and one lifecycle run's findings recorded as a deployed monitor does;
    the first of them then resolved. Returns the findings that stay open."""
    session = sim.session(REGION)
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {FINDINGS_TABLE: {"Value": TABLE}},
    }
    session.client("cloudformation").create_stack(StackName="EksMonitor", TemplateBody=json.dumps(template))
    dynamodb = session.client("dynamodb")
    create_table(dynamodb, TABLE)
    settings = parse_settings({"regions": [REGION], "kubernetes": {"enabled": False}})
    result = scan(settings, DEMO_NOW, monitor="lifecycle", session_factory=sim.session_factory(REGION))
    assert len(result.findings) >= 3
    state = FindingsState(dynamodb, TABLE, "lifecycle", DEMO_NOW, timedelta(days=7))
    assert state.commit(state.claim(state.plan(result))) == len(result.findings)
    gone = result.findings[0]
    dynamodb.update_item(
        TableName=TABLE,
        Key={"fingerprint": {"S": gone.fingerprint}},
        UpdateExpression=f"SET #s = :r REMOVE {OPEN_KEY}",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":r": {"S": "resolved"}},
    )
    return result.findings[1:]


def cli(sim: Simulator, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    for k, v in sim.environ(REGION).items():
        monkeypatch.setenv(k, v)
    out, err = io.StringIO(), io.StringIO()
    code = main(["findings", *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_json_lists_every_open_finding_and_no_resolved_one(
    demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    still_open = deploy(demo_sim)
    code, out, err = cli(demo_sim, monkeypatch, "--stack", "EksMonitor", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "eksmon.scan/v1"
    listed = [Finding.model_validate(f) for f in doc["findings"]]
    assert sorted(f.fingerprint for f in listed) == sorted(f.fingerprint for f in still_open)
    assert {f.fingerprint: f for f in listed} == {f.fingerprint: f for f in still_open}  # the whole finding
    assert doc["summary"]["findings"] == len(still_open) and TABLE in doc["summary"]["source"]
    ranks = [f.severity.rank for f in listed]
    assert ranks == sorted(ranks, reverse=True)  # worst first, as scan orders them


def test_table_markdown_and_html_show_the_same_findings(
    demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    still_open = deploy(demo_sim)
    _, table, _ = cli(demo_sim, monkeypatch)
    lines = table.splitlines()
    assert lines[0].startswith("cluster ") and "FINDING / CHECK" in lines[1]  # grouped by cluster, as scan
    closing = " ".join(table.rsplit("\n\n", 1)[-1].split())  # the table's last paragraph, unwrapped
    assert closing.startswith(f"{len(still_open)} open findings") and TABLE in closing
    assert max(len(line) for line in lines) <= 100  # fits the width, the closing line included
    assert "AWS API calls" not in table  # a table read, not a scan: no scan summary
    _, markdown, _ = cli(demo_sim, monkeypatch, "--format", "markdown")
    assert markdown.startswith("# eksmon open findings") and f"{len(still_open)} open findings" in markdown
    _, html, _ = cli(demo_sim, monkeypatch, "--format", "html")
    assert html.lstrip().lower().startswith("<!doctype html")
    for f in still_open:
        assert f.title in table or f.title[:40] in table
        assert f"`{f.check}`" in markdown
        assert f.fingerprint in html or f.check in html


def test_check_filter_and_an_empty_result_are_said(
    demo_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(demo_sim)
    code, out, _ = cli(demo_sim, monkeypatch, "--table", TABLE, "--check", "nothing.*")
    assert code == 0
    assert out.splitlines()[0] == "No open findings." and "0 open findings" in out


def test_a_missing_stack_or_table_is_one_line(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = cli(sim, monkeypatch, "--stack", "Nope")
    assert code == 3 and "no stack 'Nope'" in err and "Traceback" not in err
    code, _, err = cli(sim, monkeypatch, "--table", "missing-table")
    assert code == 3 and "findings table missing-table" in err and "ResourceNotFoundException" in err
