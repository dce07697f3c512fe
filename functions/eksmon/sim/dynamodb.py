"""DynamoDB as the findings state needs it: conditional writes that are atomic per item.

moto evaluates a condition and then writes, with nothing in between holding other requests back; under
the simulator's threaded server two conditional writes to one item could both succeed, which DynamoDB
never allows. This extension sends every DynamoDB request to moto one at a time.
"""

from __future__ import annotations

import threading
from urllib.parse import urlencode

from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Response

from eksmon.sim.server import Extension, SimRequest, Simulator


class DynamoDbExtension(Extension):
    service = "dynamodb"

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._lock = threading.Lock()

    def handle(self, req: SimRequest) -> Response | None:
        environ = EnvironBuilder(
            method=req.method,
            path=req.path,
            query_string=urlencode(req.query, doseq=True),
            headers=list(req.headers.items()),
            data=req.body,
        ).get_environ()
        with self._lock:
            app_iter, status, headers = run_wsgi_app(self.sim._moto, environ, buffered=True)
            body = b"".join(app_iter)
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        return Response(body, status=status, headers=kept)


def install(sim: Simulator) -> None:
    sim.extensions.append(DynamoDbExtension(sim))
