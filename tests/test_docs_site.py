"""The documentation site builds in strict mode, and its examples run as written.

Why a small runner and not pytest-examples, mktestdocs or pytest-markdown-docs: those run
Python blocks (mktestdocs also runs ``bash`` blocks) but none checks what a shell session
prints, none substitutes the port of a server started for the test, and the pages are
mostly curl sessions. The runner is about a hundred lines: a block is run only when the line
before its fence says so (``<!-- doctest: console -->`` or ``<!-- doctest: pytest -->``, an
HTML comment: invisible on the site and on GitHub), so every runnable example is marked on
purpose.

- ``console``: ``$ command`` lines (a line ending in ``\\`` goes on to the next), each followed
  by what it prints. The blocks of one page run in order in one bash process (variables carry
  over), against a real ``campaign-mock serve`` on an ephemeral loopback port, written in the
  page as ``127.0.0.1:8080``. Output is compared as doctest does with ELLIPSIS (``...`` stands
  for anything: ids, times, headers); a command that exits non-zero fails the test.
- ``pytest``: the block is a test module; it is run by pytest in an empty folder, as a user's
  project would, and all of its tests must pass.
"""

from __future__ import annotations

import argparse
import doctest
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest

from campaign_mock.server.cli import build_parser
from tests.cli_process import serving

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
BIN = Path(sys.executable).parent
DOC_PORT = "8080"  # the port the pages write; the runner serves on a free one instead
MARKED_BLOCK = re.compile(r"^<!-- doctest: (console|pytest) -->\n```[a-z]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
CHECKER = doctest.OutputChecker()


@dataclass(frozen=True)
class Command:
    """One ``$`` command of a console block, what the page says it prints, and where."""

    text: str
    expected: str
    where: str


def marked_blocks(page: Path) -> Iterator[tuple[str, str, int]]:
    """(kind, body, line) of every block the page marks as runnable."""
    text = page.read_text(encoding="utf-8")
    for match in MARKED_BLOCK.finditer(text):
        yield match.group(1), match.group(2), text.count("\n", 0, match.start()) + 3


def commands_of(body: str, page: Path, first_line: int) -> list[Command]:
    commands: list[Command] = []
    lines = body.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("$ "):
            raise AssertionError(f"{page_id(page)}:{first_line + index}: output before any $ command: {line!r}")
        where = f"{page_id(page)}:{first_line + index}"
        command = [line[2:]]
        while command[-1].endswith("\\") and index + 1 < len(lines):
            index += 1
            command.append(lines[index])
        expected: list[str] = []
        while index + 1 < len(lines) and not lines[index + 1].startswith("$ "):
            index += 1
            expected.append(lines[index])
        commands.append(Command("\n".join(command), "\n".join(expected), where))
        index += 1
    return commands


def as_run_here(text: str, port: int) -> str:
    """The page's command as the test runs it: its server's port, this environment's tools."""
    for host in ("127.0.0.1", "localhost"):
        text = text.replace(f"{host}:{DOC_PORT}", f"{host}:{port}")
    return text.replace(".venv/bin/", f"{BIN}/")


def run_session(commands: list[Command], port: int) -> list[tuple[Command, int, str]]:
    """Every command in one bash process; (command, exit status, what it printed) of each."""
    script = []
    for number, command in enumerate(commands):
        script.append(as_run_here(command.text, port))
        script.append(f"printf '\\n@@doctest-end {number} %s\\n' \"$?\"")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["/bin/bash", "-c", "exec 2>&1\n" + "\n".join(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
        check=False,
    )
    output = done.stdout.replace("\r\n", "\n")
    results = []
    for number, command in enumerate(commands):
        before, marker, output = output.partition(f"\n@@doctest-end {number} ")
        assert marker, f"{command.where}: the session stopped before this command ran:\n{before}"
        status, _, output = output.partition("\n")
        results.append((command, int(status), before))
    return results


def runnable_pages() -> list[Path]:
    """The README and every page of the site that marks a runnable block."""
    pages = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
    return [page for page in pages if any(marked_blocks(page))]


def page_id(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


def test_getting_started_and_a_guide_have_runnable_examples() -> None:
    """The examples a newcomer meets first are the ones the tests run: losing their markers fails."""
    pages = {page_id(page) for page in runnable_pages()}
    assert "docs/getting-started.md" in pages
    assert {"console", "pytest"} <= {kind for kind, _, _ in marked_blocks(DOCS / "getting-started.md")}
    assert any(page.startswith("docs/guides/") for page in pages), pages


@pytest.mark.parametrize("page", runnable_pages(), ids=page_id)
def test_the_pages_shell_sessions_print_what_they_say(page: Path) -> None:
    commands = [
        command
        for kind, body, line in marked_blocks(page)
        if kind == "console"
        for command in commands_of(body, page, line)
    ]
    if not commands:
        pytest.skip("no shell session on this page")
    if not any(DOC_PORT in command.text for command in commands):
        check_session(run_session(commands, port=0))  # nothing here talks to a server
        return
    with serving() as server:
        port = urlsplit(server.url).port
        assert port is not None
        check_session(run_session(commands, port))


def check_session(results: list[tuple[Command, int, str]]) -> None:
    """Each command exited 0 and printed what the page says (``...`` matching anything)."""
    for command, status, printed in results:
        assert status == 0, f"{command.where}: `{command.text}` exited {status}:\n{printed}"
        want = command.expected + "\n" if command.expected else ""
        got = printed.rstrip("\n") + "\n" if printed.strip() else ""
        assert CHECKER.check_output(want, got, doctest.ELLIPSIS), (
            f"{command.where}: `{command.text}` printed\n{got}\nwhere the page says\n{want}"
        )


def test_the_python_examples_pass_in_a_project_of_their_own(tmp_path: Path) -> None:
    """Every marked pytest example, each a module named after its page, in one pytest run (one
    start-up, not one per page) in an empty folder, as a user's project would run them."""
    for page in runnable_pages():
        modules = [body for kind, body, _ in marked_blocks(page) if kind == "pytest"]
        for number, body in enumerate(modules):
            name = re.sub(r"\W", "_", page_id(page).removesuffix(".md"))
            (tmp_path / f"test_{name}_{number}.py").write_text(body, encoding="utf-8")
    assert list(tmp_path.glob("test_*.py")), "no page marks a pytest example"
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "CAMPAIGN_MOCK_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout, done.stdout
    assert "failed" not in done.stdout, done.stdout


def build_site(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    built = build_site(REPO / "mkdocs.yml", tmp_path / "site")
    assert built.returncode == 0, built.stderr
    cli = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "--max-query-bytes" in cli  # the generated reference is in the page
    assert "--junit-xml" in cli
    assert (tmp_path / "site" / "lifecycle.svg").exists()


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(DOCS, tmp_path / "docs")
    page = tmp_path / "docs" / "getting-started.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\n[gone](reference/no-such-page.md#nowhere)\n", encoding="utf-8"
    )
    built = build_site(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert "no-such-page.md" in built.stderr


def generated_parts() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generated", DOCS / "_hooks" / "generated.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_reference_names_every_command_and_flag_the_parser_has() -> None:
    reference = generated_parts().cli_reference()
    parser = build_parser()
    subcommands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    for name, sub in subcommands.choices.items():
        assert f"## `campaign-mock {name}`" in reference
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue  # -h, --help: every command has it, the reference does not repeat it
            for option in action.option_strings:
                assert option in reference, f"{name} {option}"


SERVE_COMMAND = "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/campaign-mock serve"
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest"
README_LINK = re.compile(r"\]\((docs/[^)#\s]+)(?:#[^)\s]*)?\)")


def test_the_readme_is_short_and_opens_with_the_two_commands_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 220
    head = readme[: readme.index("## A five-minute tour")]
    assert f"```sh\n{SERVE_COMMAND}\n```" in head
    assert f"```sh\n{TEST_COMMAND}\n```" in head
    assert (REPO / ".ci" / "run").read_text(encoding="utf-8").rstrip().endswith(TEST_COMMAND)  # CI runs it verbatim


def test_every_readme_link_into_the_docs_names_a_page_that_exists() -> None:
    """The README's links are relative, so they work on GitHub; the site's own links mkdocs checks."""
    links = README_LINK.findall((REPO / "README.md").read_text(encoding="utf-8"))
    assert links
    missing = [link for link in links if not (REPO / link).is_file()]
    assert not missing, missing
