"""A Lambda's environment variables as a model: validated once, every bad variable named."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from eksmon.errors import ConfigError

# The variables the CDK app sets on the functions and the handlers read (infra/constants.py imports them).
ENV_CONFIG = "EKSMON_CONFIG"  # the settings, as JSON
ENV_TOPIC_ARN = "TOPIC_ARN"
ENV_FINDINGS_TABLE = "FINDINGS_TABLE"
ENV_SLACK_WEBHOOK_SECRET_ARN = "SLACK_WEBHOOK_SECRET_ARN"  # noqa: S105 - a variable name, not a secret


class LambdaEnvironment(BaseModel):
    """Base of each function's environment model (fields carry the variable names as aliases)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        try:
            return cls.model_validate(dict(os.environ if environ is None else environ))
        except ValidationError as exc:
            bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"Lambda environment: {bad}") from None
