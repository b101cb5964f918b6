"""The README and docs/ stay true: their runnable examples run, their links resolve, the README stays short.

An example is runnable when the line before its fenced block is ``<!-- runnable -->`` (or
``<!-- runnable slow -->`` for one that makes a report); docs/development.md states the convention.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_LINE_LIMIT = 250
MARK = re.compile(r"^<!-- runnable( slow)? -->\n```(\w+)\n(.*?)^```$", re.M | re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INSTALL = "python3 -m venv .venv && .venv/bin/pip install -q -e . && "
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest"
# What the examples may name as they would from the repository; they write their outputs beside these links.
LINKED = {"sample_workbooks": "sample_workbooks", "examples": "examples", "tests/data": "tests/data"}


def runnable_examples() -> list:
    """Every marked example of the README and docs/, as pytest params named by page and line."""
    examples = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in MARK.finditer(text):
            slow, language, code = match.groups()
            line = text.count("\n", 0, match.start()) + 2
            marks = [pytest.mark.slow] if slow else []
            examples.append(pytest.param(language, code, id=f"{page.relative_to(REPO)}:{line}", marks=marks))
    return examples


def example_folder(tmp_path: Path) -> Path:
    """An empty folder with the repository's sample files linked in, as an example sees them."""
    for name, target in LINKED.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).symlink_to(REPO / target, target_is_directory=True)
    return tmp_path


def run_example(language: str, code: str, folder: Path) -> subprocess.CompletedProcess:
    """Run a python block as a script, a bash block with bash -e, with this environment's commands first."""
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = {"python": [sys.executable, "-c", code], "bash": ["bash", "-e", "-c", code]}[language]
    return subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True,
                          timeout=600)  # a bound for a hung process, not a speed check


@pytest.mark.parametrize("language, code", runnable_examples())
def test_runnable_example_runs(language, code, tmp_path):
    result = run_example(language, code, example_folder(tmp_path))
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"


def test_every_runnable_mark_is_on_a_python_or_bash_block():
    """A mispelled mark or language would leave an example untested without a word."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        marked = len(re.findall(r"^<!-- runnable", text, re.M))
        found = [language for _, language, _ in MARK.findall(text)]
        assert len(found) == marked and set(found) <= {"python", "bash"}, (page.name, marked, found)
    assert len(runnable_examples()) >= 5


def test_readme_stays_short():
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_LINE_LIMIT, f"README.md has {lines} lines: move detail to docs/"


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    anchors, seen = set(), {}
    for heading in re.findall(r"^#+ (.+)$", without_blocks(page.read_text(encoding="utf-8")), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def without_blocks(text: str) -> str:
    """The text outside fenced blocks, where a line starting with # is a heading."""
    return re.sub(r"^```.*?^```$", "", text, flags=re.M | re.S)


def without_code(text: str) -> str:
    """The text outside fenced blocks and code spans, where brackets and parentheses are a link."""
    return re.sub(r"`[^`\n]*`", "", without_blocks(text))


def test_heading_anchors_follow_githubs_rule():
    page = REPO / "docs" / "engines.md"
    assert {"where-the-customer--month-table-does-not-fit-in-memory", "how-the-scan-keeps-the-readers-rules",
            "spark"} <= heading_anchors(page)
    assert "what---json-writes" in heading_anchors(REPO / "docs" / "command-line.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_link_resolves(page):
    """Every link to a file of the repository reaches it, and the heading it names where it names one."""
    broken = []
    for target in LINK.findall(without_code(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path_text, _, anchor = target.partition("#")
        linked = (page.parent / path_text).resolve() if path_text else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked)):
            broken.append(target)
    assert not broken, broken


def test_the_readme_links_every_docs_page_and_the_index_lists_them():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"](docs/{page.name}" in readme, page.name
        assert page.name == "index.md" or f"]({page.name})" in index, page.name


def test_ci_runs_the_readmes_test_command_unchanged():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"```bash\n{TEST_COMMAND}\n```" in readme
    assert TEST_COMMAND in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()


@pytest.mark.slow
def test_the_readmes_report_command_runs_after_its_set_up(tmp_path):
    """The quick start's report on the bundled sample, run with this environment's command."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = re.search(rf"^{re.escape(INSTALL)}(.+)$", readme, re.M).group(1)
    assert command.startswith(".venv/bin/retention-xl report sample_workbooks/sales_sample.xlsx")
    result = run_example("bash", command.removeprefix(".venv/bin/"), example_folder(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report.xlsx").stat().st_size > 0 and (tmp_path / "report.json").stat().st_size > 0
