"""The pre-commit hook and the GitHub Action run the real command on the example policy
repository (examples/policy-repo): the hook's entry with the example's args, and the
action's shell steps as a runner would execute them (inputs substituted, $GITHUB_OUTPUT
set), producing SARIF that validates against the SARIF 2.1.0 schema."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
REPO = ROOT / "examples" / "policy-repo"
SCHEMA = json.loads((ROOT / "tests" / "support" / "data" / "sarif-schema-2.1.0.json").read_text())
KMSPROVE = shutil.which("kmsprove")


def _hook(name: str = "kmsprove-check") -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = [h for h in hooks if h["id"] == name]
    return hook


def _hook_command(repo: Path, name: str = "kmsprove-check") -> list[str]:
    config = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    [entry] = [h for r in config["repos"] for h in r["hooks"] if h["id"] == name]
    return [*shlex.split(_hook(name)["entry"]), *entry["args"]]


def _open_to_everyone(repo: Path) -> Path:
    """A commit that adds `Principal: "*"` Decrypt to the app key's policy."""
    policy = repo / "kms" / "app-key" / "key-policy.json"
    doc = json.loads(policy.read_text())
    doc["Statement"].append(
        {
            "Sid": "Oops",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    policy.write_text(json.dumps(doc, indent=2))
    return policy


def _run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    assert KMSPROVE, "the kmsprove command is installed with the package"
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}, timeout=600
    )


def test_the_hook_is_a_python_hook_that_checks_the_whole_repository() -> None:
    hook = _hook()
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert hook["entry"].split()[:2] == ["kmsprove", "check"]


def test_the_hook_passes_on_the_example_repository() -> None:
    result = _run(_hook_command(REPO), REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "holds" in result.stdout


def test_the_hook_fails_a_commit_that_opens_a_key_to_everyone(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo)
    policy = _open_to_everyone(repo)
    result = _run(_hook_command(repo), repo)
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(n for n, text in enumerate(policy.read_text().split("\n"), 1) if '"Oops"' in text)
    assert f"kms/app-key/key-policy.json:{line - 1}" in result.stdout or (
        f"kms/app-key/key-policy.json:{line}" in result.stdout
    ), result.stdout


def _action_steps() -> list[dict]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return action["runs"]["steps"]


def _substitute(script: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr == "github.action_path":
            return str(ROOT)
        if expr.startswith("steps.check.outputs."):
            return outputs[expr.removeprefix("steps.check.outputs.")]
        raise AssertionError(f"unexpected expression {expr}")

    return re.sub(r"\$\{\{(.*?)\}\}", value, script)


def _run_action(
    repo: Path, tmp: Path, env: dict[str, str] | None = None, **given: str
) -> tuple[int, Path]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    inputs.update({"world": "kms", "spec": "kmsprove.spec", "sarif": str(tmp / "out.sarif")})
    inputs.update(given)
    outputs: dict[str, str] = {}
    github_output = tmp / "github_output"
    code = 0
    for step in _action_steps():
        if "run" not in step or "pip install" in step["run"]:
            continue  # `uses:` steps are GitHub's; the package is installed already here
        script = _substitute(step["run"], inputs, outputs)
        github_output.write_text("")
        result = _run(
            ["bash", "-e", "-c", script], repo, GITHUB_OUTPUT=str(github_output), **(env or {})
        )
        for line in github_output.read_text().splitlines():
            name, _, val = line.partition("=")
            outputs[name] = val
        code = result.returncode
        if code != 0:
            break
    return code, tmp / "out.sarif"


def test_the_action_installs_the_package_and_uploads_sarif() -> None:
    steps = _action_steps()
    assert any("pip install" in s.get("run", "") for s in steps)
    upload = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif")]
    assert upload and upload[0]["with"]["sarif_file"] == "${{ inputs.sarif }}"


def test_the_action_steps_pass_on_the_example_and_write_valid_sarif(tmp_path: Path) -> None:
    code, sarif = _run_action(REPO, tmp_path)
    assert code == 0
    doc = json.loads(sarif.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["runs"][0]["results"] == []


def test_the_action_fails_the_job_after_writing_the_alerts(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo)
    policy = repo / "kms" / "shared-key" / "key-policy.json"
    doc = json.loads(policy.read_text())
    # a new partner outside the organization
    doc["Statement"][1]["Principal"] = {"AWS": "arn:aws:iam::999988887777:root"}
    del doc["Statement"][1]["Condition"]
    policy.write_text(json.dumps(doc, indent=2))
    code, sarif = _run_action(repo, tmp_path)
    assert code == 1
    out = json.loads(sarif.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(out)
    [result] = out["runs"][0]["results"]
    where = result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "kms/shared-key/key-policy.json"
    assert where["region"]["startLine"] > 1


def test_the_action_writes_the_graph_to_the_job_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    code, _ = _run_action(REPO, tmp_path, env, graph="kms/app-key/world.json")
    assert code == 0
    text = summary.read_text()
    assert text.startswith("### Who reaches the keys of `kms/app-key/world.json`\n\n```mermaid\n")
    assert "\nflowchart LR\n" in text and text.endswith("\n```\n")
    assert "kms/app-key/key-policy.json:" in text
    # without the input, the summary is left alone
    summary.write_text("")
    code, _ = _run_action(REPO, tmp_path, env)
    assert code == 0 and summary.read_text() == ""


def test_the_audit_hook_passes_on_the_example_and_fails_a_key_opened_to_everyone(
    tmp_path: Path,
) -> None:
    hook = _hook("kmsprove-audit")
    assert hook["entry"].split()[:2] == ["kmsprove", "audit"] and hook["pass_filenames"] is False
    result = _run(_hook_command(REPO, "kmsprove-audit"), REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 findings" in result.stdout
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo)
    _open_to_everyone(repo)
    result = _run(_hook_command(repo, "kmsprove-audit"), repo)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CRITICAL public" in result.stdout and "kms/app-key/key-policy.json:" in result.stdout


def test_the_action_in_audit_mode_writes_sarif_and_the_findings_to_the_summary(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo)
    summary = tmp_path / "summary.md"
    summary.write_text("")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    code, sarif = _run_action(
        repo, tmp_path, env, mode="audit", spec="", zone="org", **{"fail-on": "high"}
    )
    assert code == 0, summary.read_text()
    assert summary.read_text().startswith("### kmsprove audit of `kms`\n\n```\n")
    _open_to_everyone(repo)
    summary.write_text("")
    code, sarif = _run_action(
        repo, tmp_path, env, mode="audit", spec="", zone="org", **{"fail-on": "high"}
    )
    assert code == 1
    doc = json.loads(sarif.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    rules = {r["ruleId"] for r in doc["runs"][0]["results"]}
    assert "kmsprove/audit/public" in rules, rules
    assert "CRITICAL public" in summary.read_text()
