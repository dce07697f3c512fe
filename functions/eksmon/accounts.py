"""Which accounts to scan, with which credentials.

The current credentials' account by default; configured account ids (or every ACTIVE account of
the Organization) through a read-only role assumed in each. An account whose role cannot be
assumed is reported, and the others are scanned. An Organization that cannot be listed (denied,
throttled past its budget, more than ``aws.max_pages`` pages) is one collection error in the home
account, and the configured accounts are still scanned.
"""

from __future__ import annotations

from collections.abc import Callable

import boto3
import botocore.exceptions
from botocore.config import Config

from eksmon.aws import ApiCallCounter, DeadlineExceeded, error_code, is_throttling, limit_pages, pages
from eksmon.aws_io import AwsAccount, ScanIO
from eksmon.errors import ScanAborted
from eksmon.settings import Settings


def resolve_accounts(
    base: boto3.Session,
    settings: Settings,
    config: Config,
    counter: ApiCallCounter,
    region: str,
    session_factory: Callable[..., boto3.Session] = boto3.Session,
    io: ScanIO | None = None,
) -> tuple[list[AwsAccount], list[tuple[str, str, BaseException]]]:
    """The accounts to scan, and what could not be reached: (account id, source, error).

    ``io``: the scan's I/O layer, so that the scan's first calls (the caller identity, AssumeRole,
    ListAccounts) wait out throttling under the same budgets and deadline as every other call."""
    sts = base.client("sts", region_name=region, config=config)
    counter.attach(sts)
    if io is not None:
        sts = io.instrument(sts, "", region)  # the account is what this call tells
    try:
        identity = sts.get_caller_identity()
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError) as exc:
        raise ScanAborted(
            "no AWS credentials: set AWS_PROFILE or the AWS_* variables, or run inside AWS"
        ) from exc
    except botocore.exceptions.ClientError as exc:
        if is_throttling(exc) or isinstance(exc, DeadlineExceeded):
            raise ScanAborted(
                f"AWS STS in {region} was still refusing GetCallerIdentity ({error_code(exc)}) when the "
                "throttle budget (aws.throttle_budget_seconds) or the scan's deadline ran out; try again later"
            ) from exc
        raise ScanAborted(f"the AWS credentials do not work: {exc}") from exc
    except botocore.exceptions.BotoCoreError as exc:  # refused, unreachable, timed out: nothing can run
        raise ScanAborted(f"cannot reach AWS STS in {region}: {exc}") from exc
    current = str(identity["Account"])
    partition = str(identity["Arn"]).split(":")[1]
    home = AwsAccount(current, base, config, counter)

    ids = list(settings.accounts.ids)
    failures: list[tuple[str, str, BaseException]] = []
    if settings.accounts.organization:
        try:
            ids.extend(
                organization_accounts(base, config, counter, region, settings.aws.max_pages, io, current)
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            failures.append((current, ORGANIZATION_SOURCE, exc))
    ids = [i for i in dict.fromkeys(ids) if i not in set(settings.accounts.exclude)]
    if not ids:
        return [home], failures

    accounts: list[AwsAccount] = []
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
            failures.append((account_id, "sts:AssumeRole", exc))
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
    base: boto3.Session,
    config: Config,
    counter: ApiCallCounter,
    region: str,
    max_pages: int,
    io: ScanIO | None = None,
    account: str = "",
) -> list[str]:
    """Every ACTIVE account of the Organization (organizations:ListAccounts, management or delegated admin).

    ListAccounts returns at most 20 accounts a page, so ``max_pages`` (aws.max_pages, 200) admits 4,000
    accounts; a repeated token or more pages raises :class:`eksmon.aws.EndlessPages` naming the setting.
    """
    org = base.client("organizations", region_name=region, config=config)
    counter.attach(org)
    if io is not None:
        org = io.instrument(org, account, region)
    limit_pages(org, max_pages)
    return [
        str(a["Id"]) for a in pages(org, "list_accounts", "Accounts") if a.get("Status", "ACTIVE") == "ACTIVE"
    ]


ORGANIZATION_SOURCE = "organizations:ListAccounts"
