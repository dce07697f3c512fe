"""Build the Lambda dependency layer without Docker.

    python layers/build.py          # build layers/build/python/ unless it is up to date
    python layers/build.py --force  # rebuild
    python layers/build.py --lock   # re-pin layers/requirements.txt from pyproject.toml's dependencies

pip downloads the manylinux aarch64 wheels for the Lambda runtime's Python (``--platform``,
``--only-binary=:all:``), so the layer is right for an ARM64 function whatever machine builds it.
A stamp holding the hash of the requirements and of the target platform skips the build when
nothing changed, so ``cdk synth`` stays offline once the layer exists.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REQUIREMENTS = HERE / "requirements.txt"
BUILD = HERE / "build"
TARGET = BUILD / "python"  # Lambda puts <layer>/python on sys.path
STAMP = BUILD / ".stamp"
LOCK = BUILD / ".lock"

# The Lambda runtime the layer is for; infra/constants.py LAMBDA_RUNTIME must agree (a test checks).
PYTHON_VERSION = "3.14"
PLATFORM = "manylinux2014_aarch64"
_PIP_TARGET_ARGS = (
    "--platform",
    PLATFORM,
    "--only-binary=:all:",
    "--python-version",
    PYTHON_VERSION,
    "--implementation",
    "cp",
)
# Dependencies of pyproject.toml that only the command line imports (the terminal table and progress
# bar): left out of the Lambda layer, which the handlers alone use.
CLI_ONLY = frozenset({"rich"})
# Nothing the functions import at run time: pip --target still writes console scripts, and the
# kubernetes package ships an asyncio client (half its 70 MiB) that eksmon never imports, with
# the aiohttp stack it alone needs (about 12 MiB more). Globs under the layer's python/ folder.
_PRUNE = (
    "bin",
    "kubernetes/aio",
    *(
        f"{name}{suffix}"
        for name in (
            "aiohttp",
            "aiohttp_retry",
            "aiohappyeyeballs",
            "aiosignal",
            "attr",
            "attrs",
            "frozenlist",
            "multidict",
            "propcache",
            "yarl",
        )
        for suffix in ("", "-*.dist-info")
    ),
)


def wanted_stamp() -> str:
    digest = hashlib.sha256()
    digest.update(REQUIREMENTS.read_bytes())
    digest.update(" ".join(_PIP_TARGET_ARGS).encode())
    return digest.hexdigest()


def is_current() -> bool:
    return TARGET.is_dir() and STAMP.is_file() and STAMP.read_text(encoding="utf-8").strip() == wanted_stamp()


@contextmanager
def _locked() -> Iterator[None]:
    """One build at a time (make synth and a test run may start together)."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", *args]
    subprocess.run(command, check=True)  # noqa: S603 - fixed argv, no shell


def build(force: bool = False) -> Path:
    """Install the pinned requirements into layers/build/python; return layers/build."""
    with _locked():
        if not force and is_current():
            print(f"layer up to date: {_describe_size(TARGET, zipped=False)}")
            return BUILD
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=BUILD))
        try:
            fresh = staging / "python"
            _pip(
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",  # .pyc files of the build machine's Python are useless on Lambda
                "--require-hashes",
                *_PIP_TARGET_ARGS,
                "--target",
                str(fresh),
                "--requirement",
                str(REQUIREMENTS),
            )
            for pattern in _PRUNE:
                for found in fresh.glob(pattern):
                    shutil.rmtree(found, ignore_errors=True)
            STAMP.unlink(missing_ok=True)
            if TARGET.exists():
                shutil.rmtree(TARGET)
            fresh.rename(TARGET)
            STAMP.write_text(wanted_stamp() + "\n", encoding="utf-8")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    print(f"layer built for python{PYTHON_VERSION} {PLATFORM}: {_describe_size(TARGET)}")
    return BUILD


def _describe_size(directory: Path, zipped: bool = True) -> str:
    """File count and size; the zipped size (what is uploaded) only after a build, as it takes a second."""
    mib = 1024 * 1024
    files = [p for p in directory.rglob("*") if p.is_file()]
    text = f"{len(files)} files, {sum(p.stat().st_size for p in files) / mib:.1f} MiB unzipped"
    if zipped:
        with tempfile.TemporaryFile() as scratch:
            with zipfile.ZipFile(scratch, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path in files:
                    archive.write(path, path.relative_to(directory.parent))
            text += f", {scratch.tell() / mib:.1f} MiB zipped"
    return text + " (Lambda limit: 250 MiB unzipped, function and layers together)"


def lock() -> None:
    """Pin the whole closure of pyproject.toml's dependencies for the Lambda platform, with hashes."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = [
        d for d in project["dependencies"] if _canonical(re.split(r"[<>=!~;\[ ]", d)[0]) not in CLI_ONLY
    ]
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        _pip(
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--dry-run",
            "--ignore-installed",
            *_PIP_TARGET_ARGS,
            "--target",
            str(Path(scratch) / "target"),
            "--report",
            str(report),
            *dependencies,
        )
        installs = json.loads(report.read_text(encoding="utf-8"))["install"]
    lines = [
        "# The Lambda dependency layer: every package the functions import, pinned with hashes for",
        f"# python{PYTHON_VERSION} on {PLATFORM}. Generated by `python layers/build.py --lock` from the",
        "# dependencies of pyproject.toml (tests/infra/test_layer.py checks that the two agree).",
        "# boto3/botocore ship in the layer because the runtime's bundled copy lags the EKS API",
        "# (DescribeClusterVersions, insights).",
    ]
    for item in sorted(installs, key=lambda i: _canonical(i["metadata"]["name"])):
        name, version = _canonical(item["metadata"]["name"]), item["metadata"]["version"]
        sha256 = item["download_info"]["archive_info"]["hashes"]["sha256"]
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{sha256}")
    REQUIREMENTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"pinned {len(installs)} packages in {REQUIREMENTS.relative_to(ROOT)}")


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the stamp is current")
    parser.add_argument("--lock", action="store_true", help="re-pin requirements.txt from pyproject.toml")
    args = parser.parse_args(argv)
    if args.lock:
        lock()
        return 0
    build(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
