"""What the pods collector keeps of each pod, and the pods it rejects with the field named."""

from __future__ import annotations

import pytest

from eksmon.collectors.kubernetes_common import BadObject
from eksmon.collectors.kubernetes_pods import PodSysctls, pod_sysctls


def test_the_collector_keeps_only_pods_with_sysctls_or_refused() -> None:
    plain = {
        "metadata": {"name": "a", "namespace": "x"},
        "spec": {"containers": []},
        "status": {"phase": "Running"},
    }
    assert pod_sysctls(plain) is None
    assert pod_sysctls({**plain, "spec": {"securityContext": None}}) is None
    assert pod_sysctls({**plain, "spec": {"securityContext": {"sysctls": None}}}) is None
    kept = pod_sysctls(
        {
            "metadata": {
                "name": "a",
                "namespace": "x",
                "ownerReferences": [{"kind": "ReplicaSet", "name": "a-1", "controller": True}],
            },
            "spec": {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}},
            "status": None,
        }
    )
    assert kept == PodSysctls("x", "a", ("kernel.msgmax",), None, None, "ReplicaSet/a-1")
    refused = pod_sysctls(
        {**plain, "status": {"phase": "Failed", "reason": "SysctlForbidden", "message": "m"}}
    )
    assert refused is not None and refused.reason == "SysctlForbidden" and refused.message == "m"


@pytest.mark.parametrize(
    ("obj", "complaint"),
    [
        (
            {"metadata": {"name": "a"}, "spec": {"securityContext": {"sysctls": "kernel.msgmax=1"}}},
            "not a list",
        ),
        (
            {"metadata": {"name": "a"}, "spec": {"securityContext": {"sysctls": [{"value": "1"}]}}},
            "has no name",
        ),
        ({"metadata": {"name": "a"}, "spec": "nope"}, "spec is a str"),
        ({"metadata": {}}, "metadata.name is missing"),
    ],
)
def test_malformed_pods_are_rejected_with_the_field_named(obj, complaint) -> None:
    with pytest.raises(BadObject, match=complaint):
        pod_sysctls(obj)
