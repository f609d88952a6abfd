"""The data dictionary: pages for every definition, working links, the real compiled SQL, and
pages that load in a real headless browser."""

from __future__ import annotations

import html.parser
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import ibis
import pytest

import metrics_layer as ml
from metrics_layer.demo import generate
from tests.cli_helpers import run_process

ROOT = Path(__file__).resolve().parents[2]


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.mermaid: list[str] = []
        self._in_mermaid = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])
        self._in_mermaid = tag == "pre" and a.get("class") == "mermaid"

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_mermaid = False

    def handle_data(self, data):
        if self._in_mermaid:
            self.mermaid.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def broken_links(root: Path) -> list[str]:
    """Every relative href/src of every HTML page must name an existing file (and anchor)."""
    pages = {p: parse(p) for p in root.rglob("*.html")}
    problems = []
    for path, page in pages.items():
        for link in page.links:
            url = urlparse(link)
            if url.scheme or link.startswith("//"):
                problems.append(f"{path.name}: external link {link}")
                continue
            target = (path.parent / unquote(url.path)).resolve() if url.path else path
            if not target.exists():
                problems.append(f"{path.relative_to(root)}: missing {link}")
            elif (
                url.fragment and target.suffix == ".html" and url.fragment not in pages[target].ids
            ):
                problems.append(f"{path.relative_to(root)}: missing anchor {link}")
    return problems


def broken_md_links(root: Path) -> list[str]:
    problems = []
    for path in root.rglob("*.md"):
        for link in re.findall(r"\]\(([^)]+)\)", path.read_text()):
            target = (path.parent / link.split("#")[0]).resolve()
            if not target.exists():
                problems.append(f"{path.relative_to(root)}: missing {link}")
    return problems


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("catalog_db") / "demo.duckdb"
    generate(path, events=5_000)
    return path


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("catalog")
    index = ml.load(ROOT / "metric_defs").docs(out)
    assert index == out / "index.html"
    return out


def test_every_definition_has_a_page_and_links_resolve(catalog):
    layer = ml.load(ROOT / "metric_defs")
    for m in layer.metrics():
        assert (catalog / "metrics" / f"{m}.html").exists()
        assert (catalog / "metrics" / f"{m}.md").exists()
    for s in layer.registry.sources:
        assert (catalog / "sources" / f"{s}.html").exists()
    assert (catalog / "style.css").exists() and (catalog / "analyses.html").exists()
    assert broken_links(catalog) == []
    assert broken_md_links(catalog) == []


def test_metric_page_content(catalog):
    text = (catalog / "metrics" / "task_fill_rate.html").read_text()
    assert "ratio: sum of assignments.filled_tasks ÷ sum of tasks.tasks_posted" in text
    assert "compiled for duckdb (totals); column types from the definitions" in text
    assert "COUNT(DISTINCT" in text and "&#34;assignments&#34;" in text
    assert "range: every value within [0, 1]" in text
    assert "marketplace-ops" in text
    page = parse(catalog / "metrics" / "task_fill_rate.html")
    assert len(page.mermaid) == 1 and page.mermaid[0].startswith("flowchart LR")
    assert "<script" not in text  # no network, no JS
    md = (catalog / "metrics" / "task_fill_rate.md").read_text()
    assert "```mermaid\nflowchart LR" in md and "```sql\nSELECT" in md


def test_source_page_lists_checks_joins_and_dependents(catalog):
    text = (catalog / "sources" / "events.html").read_text()
    assert "relationships" in text and "workers, tasks" in text
    assert 'href="workers.html"' in text
    assert 'href="../metrics/app_active_workers.html"' in text
    assert 'id="measure-app_active_workers"' in text


def test_real_sql_with_a_connection(demo_db, tmp_path):
    layer = ml.load(ROOT / "metric_defs", con=ibis.duckdb.connect(str(demo_db), read_only=True))
    layer.docs(tmp_path, formats=["html"], real_sql=True)
    text = (tmp_path / "metrics" / "revenue.html").read_text()
    assert "compiled for duckdb (totals); column types from the connection" in text
    assert not list(tmp_path.rglob("*.md"))
    cumulative = (tmp_path / "metrics" / "revenue_mtd.html").read_text()
    assert "compiled for duckdb at grain" in cumulative


def test_cli_docs(tmp_path):
    """A real process: `metrics-layer docs` as a build step runs it."""
    res = run_process(
        "docs", str(ROOT / "metric_defs"), "--out", str(tmp_path / "site"), "--format", "md"
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "site" / "index.md").exists()
    assert not (tmp_path / "site" / "index.html").exists()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _browser(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = _chromium()
    assert exe is not None
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                *args,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.mark.skipif(
    _chromium() is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_pages_load_in_a_headless_browser(catalog, tmp_path):
    for page in (
        "index.html",
        "metrics/task_fill_rate.html",
        "sources/assignments.html",
        "analyses.html",
    ):
        res = _browser((catalog / page).as_uri(), "--dump-dom")
        assert res.returncode == 0, res.stderr[-2000:]
        dom = res.stdout
        assert "<main>" in dom and "</html>" in dom
        assert "Metrics catalog" in dom
    dom = _browser((catalog / "metrics" / "task_fill_rate.html").as_uri(), "--dump-dom").stdout
    assert 'class="mermaid"' in dom and "flowchart LR" in dom
    shot = tmp_path / "metric.png"
    res = _browser(
        (catalog / "metrics" / "task_fill_rate.html").as_uri(),
        f"--screenshot={shot}",
        "--window-size=1280,1600",
    )
    assert res.returncode == 0 and shot.exists() and shot.stat().st_size > 10_000
