"""What a Kubernetes API path asks for, in RBAC terms (verb, group, resource, namespace).

The client uses it to name the missing permission when the apiserver answers 403; the simulator's
stand-in uses the same parser to authorise requests, so both read a path the way kube-apiserver's
RequestInfoFactory does: ``/api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUB]]`` for the core group,
``/apis/GROUP/VERSION/...`` for the others, and everything else as a non-resource URL.
"""

from __future__ import annotations

from dataclasses import dataclass

_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True, slots=True)
class RequestAttributes:
    """One request as RBAC sees it."""

    verb: str  # get | list | watch | create | ... ; for non-resource URLs the lower-case HTTP method
    path: str
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    resource_request: bool = True

    @property
    def qualified_resource(self) -> str:
        """``pods``, ``validatingwebhookconfigurations.admissionregistration.k8s.io``, ``pods/log``."""
        base = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{base}/{self.subresource}" if self.subresource else base

    def describe(self) -> str:
        """The permission in words: ``list pods at cluster scope``, ``get nonResourceURL /metrics``."""
        if not self.resource_request:
            return f"{self.verb} nonResourceURL {self.path}"
        what = f"{self.verb} {self.qualified_resource}"
        if self.name:
            what += f' "{self.name}"'
        scope = f"in namespace {self.namespace}" if self.namespace else "at cluster scope"
        return f"{what} {scope}"


def request_attributes(path: str, method: str = "GET", watch: bool = False) -> RequestAttributes:
    """Parse an API path (without the endpoint's own path prefix and without the query)."""
    clean = "/" + path.split("?", 1)[0].strip("/")
    parts = [p for p in clean.split("/") if p]
    http_verb = method.upper()
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return RequestAttributes(verb=http_verb.lower(), path=clean, resource_request=False)
    if not rest:  # /api/v1, /apis/apps/v1: discovery documents
        return RequestAttributes(verb=http_verb.lower(), path=clean, resource_request=False)
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = "/".join(rest[2:])
    if resource == "namespaces":
        namespace = ""  # a Namespace object is cluster-scoped
    if http_verb in _WRITE_VERBS:
        verb = _WRITE_VERBS[http_verb] if name or http_verb != "DELETE" else "deletecollection"
    elif watch:
        verb = "watch"
    else:
        verb = "get" if name else "list"
    return RequestAttributes(
        verb=verb,
        path=clean,
        group=group,
        version=version,
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=name,
    )
