"""Publish the course under another repository: one command rewrites every link to it.

``pyproject.toml``'s ``[tool.course]`` table holds the repository URL and branch.
``python -m helpers.publish URL [--branch B]`` writes them there and rewrites the README's
Colab badges and links, each notebook's badge and each setup cell (``COURSE_REPO`` /
``COURSE_BRANCH``). ``python -m helpers.publish --check`` lists anything out of step (a
test runs it).

All or nothing: every file is read (regular files only, bounded) and every notebook
validated (JSON, a list of cells each with a type and a source, the first one the title)
before any is written; a problem is one line and nothing is rewritten. The new texts are
written to temporary files first, then renamed over the originals, each only if it did not
change since it was read; if a rename fails, those already made are put back.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import stat
import sys
import tomllib
from pathlib import Path

from .paths import PROJECT_ROOT

LOCATION_FILE = "pyproject.toml"  # its [tool.course] table: repo, branch
GITHUB_URL = re.compile(r"https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?")
BRANCH_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*")
PROG = "python -m helpers.publish"
#: Largest file publish reads (a notebook with its outputs; the course's are cleared).
MAX_FILE_BYTES = 50_000_000
CELL_TYPES = ("markdown", "code", "raw")


class PublishError(ValueError):
    """A URL or branch that cannot be published, or files that cannot be rewritten."""


def read_text(path: Path) -> str:
    """A regular file's UTF-8 text (at most :data:`MAX_FILE_BYTES`), or one-line PublishError.

    Checked before it is opened (a FIFO would block) and again on what was opened.
    """
    name = _shown(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise PublishError(f"{name} is not a regular file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                raise PublishError(f"{name} is not a regular file of at most 50 MB")
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise PublishError(f"{name} cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PublishError(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _shown(path: Path) -> str:
    return f"{path.parent.name}/{path.name}" if path.parent.name == "notebooks" else path.name


def read_location(root: Path = PROJECT_ROOT) -> tuple[str, str]:
    """The course's repository URL and branch, from ``pyproject.toml``'s ``[tool.course]``."""
    try:
        data = tomllib.loads(read_text(root / LOCATION_FILE))["tool"]["course"]
        repo, branch = data["repo"], data["branch"]
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise PublishError(
            f"{LOCATION_FILE} has no readable [tool.course] table with repo and branch ({exc})"
        ) from None
    if not isinstance(repo, str) or not isinstance(branch, str):
        raise PublishError(f"{LOCATION_FILE}: [tool.course] repo and branch must be strings")
    return repo, branch


def read_notebook(path: Path, text: str | None = None) -> dict:
    """A notebook's JSON (``text``, else the file's), validated: a dict whose ``cells`` is a
    non-empty list of cells, each with a known ``cell_type`` and a ``source`` (text or a
    list of texts)."""
    name = _shown(path)
    try:
        nb = json.loads(read_text(path) if text is None else text)
    except ValueError as exc:
        raise PublishError(f"{name} is not valid JSON ({exc}): fix or remove it") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list) or not cells:
        raise PublishError(f"{name} has no cells (it needs its title cell): fix or remove it")
    for i, cell in enumerate(cells):
        source = cell.get("source") if isinstance(cell, dict) else None
        if (
            not isinstance(cell, dict)
            or cell.get("cell_type") not in CELL_TYPES
            or not (isinstance(source, str) or (
                isinstance(source, list) and all(isinstance(s, str) for s in source)
            ))
        ):  # fmt: skip
            raise PublishError(
                f"{name}: cell {i} is not a notebook cell (a cell_type and a source): fix it"
            )
    return nb


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


def _notebook_text(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def publish(url: str, branch: str = "main", root: Path = PROJECT_ROOT) -> list[Path]:
    """Point the course at ``url`` (GitHub) and ``branch``; returns the files changed.

    Every file is read and validated first; then all are written, or none (module
    docstring). Raises :class:`PublishError` (one line) and writes nothing on a problem.
    """
    repo = normalize_url(url)
    if not BRANCH_NAME.fullmatch(branch) or ".." in branch:
        raise PublishError(f"{branch!r} is not a branch name (letters, digits, '-', '_', '.', '/')")
    old = read_location(root)
    new = (repo, branch)
    originals: dict[Path, str] = {}
    updated: dict[Path, str] = {}
    location = root / LOCATION_FILE
    originals[location] = text = read_text(location)
    text = re.sub(r'^repo = "[^"]*"', f'repo = "{repo}"', text, flags=re.M)
    updated[location] = re.sub(r'^branch = "[^"]*"', f'branch = "{branch}"', text, flags=re.M)
    readme = root / "README.md"
    originals[readme] = text = read_text(readme)
    updated[readme] = _rewrite_text(text, old, new)
    for path in notebooks(root):
        originals[path] = read_text(path)
        nb = read_notebook(path, originals[path])
        before = json.dumps(nb)
        for cell in nb["cells"]:
            source = "".join(cell["source"])
            cell["source"] = _rewrite_text(source, old, new).splitlines(keepends=True)
        updated[path] = _notebook_text(nb) if json.dumps(nb) != before else originals[path]
    changed = [p for p in updated if updated[p] != originals[p]]
    _write_all(root, {p: updated[p] for p in changed}, originals)
    return changed


def _write_all(root: Path, texts: dict[Path, str], originals: dict[Path, str]) -> None:
    """Write every text or none: temporary files first, then renames (undone on failure),
    each only over a file still as it was read."""
    temporary = {p: p.with_name(f".{p.name}.{os.getpid()}.publish") for p in texts}
    done: list[Path] = []
    try:
        for path, text in texts.items():
            temporary[path].write_bytes(text.encode("utf-8"))
        for path in texts:
            if _digest(read_text(path)) != _digest(originals[path]):
                raise PublishError(f"{_shown(path)} changed while publish ran: run it again")
        for path in texts:
            os.replace(temporary[path], path)
            done.append(path)
    except BaseException as exc:
        for path in done:  # put back what was already replaced
            path.write_bytes(originals[path].encode("utf-8"))
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise PublishError(f"could not write the files ({exc}); nothing was changed") from None
        raise


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def problems(root: Path = PROJECT_ROOT) -> list[str]:
    """Every place where the README or a notebook does not point at ``[tool.course]``'s URL."""
    repo, branch = read_location(root)
    badge = _badge_base(repo, branch)
    found = []
    readme = read_text(root / "README.md")
    if repo not in readme:
        found.append(f"README.md does not name {repo}")
    for link in re.findall(r"https://colab\.research\.google\.com/github/[^)\s>]*", readme):
        if not link.startswith(badge):
            found.append(f"README.md: Colab link {link} does not start with {badge}")
    for path in notebooks(root):
        try:
            nb = read_notebook(path)
        except PublishError as exc:
            found.append(str(exc))
            continue
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
        repo, branch = read_location()
        leftover = problems()
    except (PublishError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if changed:
        print(f"course published at {repo} (branch {branch}); {len(changed)} file(s) changed:")
        for path in changed:
            print(f"  {path.relative_to(PROJECT_ROOT)}")
    else:
        print(f"nothing changed: the course already points at {repo} (branch {branch})")
    for line in leftover:
        print(f"still out of step: {line}", file=sys.stderr)
    if changed and not leftover:
        print("Commit and push these files, then open a notebook's badge to try it in Colab.")
    return 1 if leftover else 0


if __name__ == "__main__":
    sys.exit(main())
