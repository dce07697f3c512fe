"""Which accounts to scan, with which credentials.

The current credentials' account by default; configured account ids (or every ACTIVE account of
the Organization) through a read-only role assumed in each. An account whose role cannot be
assumed is reported, and the others are scanned.
"""

from __future__ import annotations

from collections.abc import Callable

import boto3
import botocore.exceptions
from botocore.config import Config

from eksmon.aws import ApiCallCounter, AwsAccount
from eksmon.errors import ScanAborted
from eksmon.settings import Settings


def resolve_accounts(
    base: boto3.Session,
    settings: Settings,
    config: Config,
    counter: ApiCallCounter,
    region: str,
    session_factory: Callable[..., boto3.Session] = boto3.Session,
) -> tuple[list[AwsAccount], list[tuple[str, BaseException]]]:
    sts = base.client("sts", region_name=region, config=config)
    counter.attach(sts)
    try:
        identity = sts.get_caller_identity()
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError) as exc:
        raise ScanAborted(
            "no AWS credentials: set AWS_PROFILE or the AWS_* variables, or run inside AWS"
        ) from exc
    except botocore.exceptions.ClientError as exc:
        raise ScanAborted(f"the AWS credentials do not work: {exc}") from exc
    current = str(identity["Account"])
    partition = str(identity["Arn"]).split(":")[1]
    home = AwsAccount(current, base, config, counter)

    ids = list(settings.accounts.ids)
    if settings.accounts.organization:
        ids.extend(organization_accounts(base, config, counter, region))
    ids = [i for i in dict.fromkeys(ids) if i not in set(settings.accounts.exclude)]
    if not ids:
        return [home], []

    accounts: list[AwsAccount] = []
    failures: list[tuple[str, BaseException]] = []
    for account_id in ids:
        if account_id == current:
            accounts.append(home)
            continue
        role_arn = f"arn:{partition}:iam::{account_id}:role/{settings.accounts.role_name}"
        try:
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="eksmon", DurationSeconds=3600)[
                "Credentials"
            ]
        except botocore.exceptions.ClientError as exc:
            failures.append((account_id, exc))
            continue
        session = session_factory(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )
        accounts.append(AwsAccount(account_id, session, config, counter))
    return accounts, failures


def organization_accounts(
    base: boto3.Session, config: Config, counter: ApiCallCounter, region: str
) -> list[str]:
    """Every ACTIVE account of the Organization (organizations:ListAccounts, management or delegated admin)."""
    org = base.client("organizations", region_name=region, config=config)
    counter.attach(org)
    found: list[str] = []
    for page in org.get_paginator("list_accounts").paginate():
        found.extend(a["Id"] for a in page["Accounts"] if a.get("Status", "ACTIVE") == "ACTIVE")
    return found
