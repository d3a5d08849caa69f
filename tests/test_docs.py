"""The documentation site: one strict MkDocs build, then checks on the pages it wrote.

The build runs every tutorial's code (markdown-exec executes each ``exec="on"`` block), and
in strict mode a block that raises fails the build, so a change that breaks a tutorial fails
``test_site_builds_in_strict_mode``. The tutorials are not run a second time on their own.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import cnnkit

ROOT = Path(__file__).resolve().parents[1]
DOC_TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "markdown_exec")
MISSING = [name for name in DOC_TOOLS if importlib.util.find_spec(name.split(".")[0]) is None]
needs_doc_tools = pytest.mark.skipif(
    bool(MISSING), reason=f"needs the docs extra (bash install.sh docs); missing: {MISSING}"
)
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Modules that are not part of the library's API: the command line and `python -m cnnkit`.
NOT_API = {"cli", "__main__"}


def _build(project: Path, site: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``project`` into ``site``, importing this tree's cnnkit."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    if MISSING:
        pytest.skip(f"needs the docs extra (bash install.sh docs); missing: {MISSING}")
    site = tmp_path_factory.mktemp("docs") / "site"
    result = _build(ROOT, site)
    if result.returncode != 0:
        pytest.fail(
            f"mkdocs build --strict failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        )
    return site


def _public_modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules(cnnkit.__path__)
        if not m.name.startswith("_") and m.name not in NOT_API
    )


def _documented_names(module_name: str) -> list[str]:
    """The functions and classes the reference must show: ``__all__`` and every explicit
    ``X as X`` re-export or (without ``__all__``) top-level definition, as the hook lists."""
    sys.path.insert(0, str(ROOT / "docs_hooks"))
    try:
        from reference import public_names
    finally:
        sys.path.remove(str(ROOT / "docs_hooks"))
    module = importlib.import_module(module_name)
    names = set(public_names(module_name)) | set(getattr(module, "__all__", ()))
    return sorted(
        n
        for n in names
        if inspect.isclass(getattr(module, n)) or inspect.isroutine(getattr(module, n))
    )


def _local_targets(site: Path, page: Path, html: str) -> list[tuple[str, Path]]:
    """Each local ``href``/``src`` of a page with the file it points to (a path from ``/``,
    as on the 404 page, starts at the site's root)."""
    targets = []
    for link in re.findall(r'(?:href|src)="([^"]*)"', html):
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or not parts.path:  # absolute URL, data:, or #anchor
            continue
        base = site if parts.path.startswith("/") else page.parent
        path = (base / unquote(parts.path).lstrip("/")).resolve()
        targets.append((link, path / "index.html" if link.endswith("/") else path))
    return targets


@needs_doc_tools
def test_site_builds_in_strict_mode(site):
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    tutorials = sorted((ROOT / "docs" / "tutorials").glob("*.md"))
    assert len(tutorials) >= 9
    for tutorial in tutorials:
        html = (site / "tutorials" / tutorial.with_suffix(".html").name).read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" not in html, tutorial.name
    assert {
        "index.html",
        "guides/coming-from-keras.html",
        "guides/coming-from-pytorch.html",
    } <= pages


@needs_doc_tools
def test_tutorial_outputs_and_figures_come_from_the_build(site):
    page = (site / "tutorials" / "lenet5.html").read_text(encoding="utf-8")
    assert "Total params: 61,706" in page  # printed by model.summary() during the build
    assert "6 × (5×5×1) + 6 = 156" in page
    inside = (site / "tutorials" / "looking-inside.html").read_text(encoding="utf-8")
    assert inside.count('src="data:image/png;base64,') >= 5


@needs_doc_tools
def test_failing_tutorial_code_fails_the_strict_build(tmp_path):
    project = tmp_path / "broken"
    (project / "docs").mkdir(parents=True)
    (project / "mkdocs.yml").write_text(
        textwrap.dedent(
            """\
            site_name: broken
            plugins: [markdown-exec]
            markdown_extensions: [pymdownx.superfences]
            """
        ),
        encoding="utf-8",
    )
    fence = "```"
    (project / "docs" / "index.md").write_text(
        f'# Broken\n\n{fence}python exec="on"\nraise RuntimeError("this tutorial broke")\n{fence}\n',
        encoding="utf-8",
    )
    result = _build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "this tutorial broke" in result.stdout + result.stderr


@needs_doc_tools
def test_every_public_function_and_class_is_in_the_reference(site):
    missing = {}
    for name in _public_modules():
        page = site / "reference" / f"{name}.html"
        assert page.exists(), f"no reference page for cnnkit.{name}"
        html = page.read_text(encoding="utf-8")
        absent = [
            n for n in _documented_names(f"cnnkit.{name}") if f'id="cnnkit.{name}.{n}"' not in html
        ]
        if absent:
            missing[name] = absent
    assert missing == {}
    top = (site / "reference" / "cnnkit.html").read_text(encoding="utf-8")
    assert all(f'id="cnnkit.{n}"' in top for n in ("Input", "Model", "Sequential"))
    assert len(_public_modules()) >= 30


@needs_doc_tools
def test_every_internal_link_resolves(site):
    broken = [
        (page.relative_to(site).as_posix(), link)
        for page in site.rglob("*.html")
        for link, target in _local_targets(site, page, page.read_text(encoding="utf-8"))
        if not target.exists()
    ]
    assert broken == []


def test_readme_names_the_two_documentation_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash install.sh docs && mkdocs build --strict" in readme
    install = (ROOT / "install.sh").read_text(encoding="utf-8")
    assert '-e ".[docs]"' in install


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@needs_doc_tools
@pytest.mark.parametrize("page", ["index.html", "tutorials/looking-inside.html"])
def test_pages_open_in_chromium_without_broken_images_or_links(site, browser, page):
    browser.get((site / page).as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    images = browser.execute_script(
        "return [...document.images].map(i => [i.currentSrc.slice(0, 40), i.complete, i.naturalWidth])"
    )
    assert [image for image in images if not (image[1] and image[2] > 0)] == []
    if page.startswith("tutorials/"):
        assert len(images) >= 5
    links = browser.execute_script(
        "return [...document.querySelectorAll('a[href]')].map(a => a.href)"
    )
    local = [urlsplit(link) for link in links if link.startswith("file://")]
    assert local
    broken = [p.path for p in local if not Path(unquote(p.path)).exists()]
    assert broken == []
