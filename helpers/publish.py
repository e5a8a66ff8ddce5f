"""Publish the course under another repository: one command rewrites every link to it.

``pyproject.toml``'s ``[tool.course]`` table holds the repository URL and branch.
``python -m helpers.publish URL [--branch B]`` writes them there and rewrites the README's
Colab badges and links, each notebook's badge and each setup cell (``COURSE_REPO`` /
``COURSE_BRANCH``). ``python -m helpers.publish --check`` lists anything out of step (a
test runs it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

from .paths import PROJECT_ROOT

LOCATION_FILE = "pyproject.toml"  # its [tool.course] table: repo, branch
GITHUB_URL = re.compile(r"https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?")
BRANCH_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*")
PROG = "python -m helpers.publish"


class PublishError(ValueError):
    """A URL or branch that cannot be published, or files that cannot be rewritten."""


def read_location(root: Path = PROJECT_ROOT) -> tuple[str, str]:
    """The course's repository URL and branch, from ``pyproject.toml``'s ``[tool.course]``."""
    data = tomllib.loads((root / LOCATION_FILE).read_text(encoding="utf-8"))["tool"]["course"]
    return data["repo"], data["branch"]


def normalize_url(url: str) -> str:
    """``https://github.com/OWNER/REPO`` (a trailing ``.git`` or ``/`` dropped), or PublishError."""
    match = GITHUB_URL.fullmatch(url.strip())
    if not match:
        raise PublishError(
            f"{url!r} is not a GitHub repository URL; give https://github.com/OWNER/REPO "
            "(Colab's badges open notebooks from GitHub)"
        )
    return f"https://github.com/{match[1]}/{match[2]}"


def _badge_base(repo: str, branch: str) -> str:
    return f"https://colab.research.google.com/github/{repo.split('github.com/')[1]}/blob/{branch}/"


def _setup_lines(repo: str, branch: str) -> tuple[str, str]:
    return f'COURSE_REPO = "{repo}"', f'COURSE_BRANCH = "{branch}"'


def notebooks(root: Path) -> list[Path]:
    return sorted((root / "notebooks").glob("*.ipynb"))


def _rewrite_text(text: str, old: tuple[str, str], new: tuple[str, str]) -> str:
    text = text.replace(_badge_base(*old), _badge_base(*new))
    text = re.sub(
        r'^COURSE_REPO = "[^"]*"', _setup_lines(*new)[0].replace("\\", "\\\\"), text, flags=re.M
    )
    text = re.sub(r'^COURSE_BRANCH = "[^"]*"', _setup_lines(*new)[1], text, flags=re.M)
    return re.sub(re.escape(old[0]) + r"(?![\w.-])", new[0], text)


def _write_notebook(path: Path, nb: dict) -> None:
    text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")


def publish(url: str, branch: str = "main", root: Path = PROJECT_ROOT) -> list[Path]:
    """Point the course at ``url`` (GitHub) and ``branch``; returns the files changed."""
    repo = normalize_url(url)
    if not BRANCH_NAME.fullmatch(branch) or ".." in branch:
        raise PublishError(f"{branch!r} is not a branch name (letters, digits, '-', '_', '.', '/')")
    old = read_location(root)
    new = (repo, branch)
    changed = []
    location = root / LOCATION_FILE
    text = location.read_text(encoding="utf-8")
    text = re.sub(r'^repo = "[^"]*"', f'repo = "{repo}"', text, flags=re.M)
    text = re.sub(r'^branch = "[^"]*"', f'branch = "{branch}"', text, flags=re.M)
    if text != location.read_text(encoding="utf-8"):
        location.write_text(text, encoding="utf-8")
        changed.append(location)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    if (updated := _rewrite_text(text, old, new)) != text:
        readme.write_text(updated, encoding="utf-8")
        changed.append(readme)
    for path in notebooks(root):
        nb = json.loads(path.read_text(encoding="utf-8"))
        before = json.dumps(nb)
        for cell in nb["cells"]:
            source = "".join(cell["source"])
            cell["source"] = _rewrite_text(source, old, new).splitlines(keepends=True)
        if json.dumps(nb) != before:
            _write_notebook(path, nb)
            changed.append(path)
    return changed


def problems(root: Path = PROJECT_ROOT) -> list[str]:
    """Every place where the README or a notebook does not point at ``[tool.course]``'s URL."""
    repo, branch = read_location(root)
    badge = _badge_base(repo, branch)
    found = []
    readme = (root / "README.md").read_text(encoding="utf-8")
    if repo not in readme:
        found.append(f"README.md does not name {repo}")
    for link in re.findall(r"https://colab\.research\.google\.com/github/[^)\s>]*", readme):
        if not link.startswith(badge):
            found.append(f"README.md: Colab link {link} does not start with {badge}")
    for path in notebooks(root):
        nb = json.loads(path.read_text(encoding="utf-8"))
        title = "".join(nb["cells"][0]["source"])
        if f"({badge}notebooks/{path.name})" not in title:
            found.append(f"{path.name}: its badge does not open {badge}notebooks/{path.name}")
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        setup = "".join(code[0]["source"]) if code else ""
        for line in _setup_lines(repo, branch):
            if not re.search("^" + re.escape(line), setup, flags=re.M):
                found.append(f"{path.name}: the setup cell lacks {line}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="https://github.com/OWNER/REPO")
    parser.add_argument("--branch", default=None, help="branch Colab opens (default: main)")
    parser.add_argument("--check", action="store_true", help="only report what is out of step")
    args = parser.parse_args(argv)
    try:
        if args.check or not args.url:
            if not args.check:
                parser.print_usage(sys.stderr)
                print(f"{PROG}: error: give the repository URL, or --check", file=sys.stderr)
                return 2
            found = problems()
            for line in found:
                print(line)
            print(f"{len(found)} problem(s); course at {' branch '.join(read_location())}")
            return 1 if found else 0
        changed = publish(args.url, args.branch or "main")
    except (PublishError, OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    repo, branch = read_location()
    print(f"course published at {repo} (branch {branch}); {len(changed)} file(s) changed:")
    for path in changed:
        print(f"  {path.relative_to(PROJECT_ROOT)}")
    leftover = problems()
    for line in leftover:
        print(f"still out of step: {line}", file=sys.stderr)
    if not leftover:
        print("Commit and push these files, then open a notebook's badge to try it in Colab.")
    return 1 if leftover else 0


if __name__ == "__main__":
    sys.exit(main())
