"""`docs --out` writes only into a new or empty folder or a catalog it wrote before, swaps the
whole folder in atomically, never writes through a symbolic link, and escapes raw HTML from
definitions in the Markdown pages."""

from __future__ import annotations

import html.parser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

import metrics_layer as ml
from metrics_layer.catalog import write as catalog_write
from metrics_layer.cli import app
from tests.safety.helpers import WORKERS_DEFS, write_defs


@pytest.fixture
def layer(tmp_path: Path) -> ml.Layer:
    return ml.load(write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts")))


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


def test_a_new_folder_and_an_empty_one_are_written(layer: ml.Layer, tmp_path: Path) -> None:
    index = layer.docs(tmp_path / "a" / "b" / "site")
    assert index == tmp_path / "a" / "b" / "site" / "index.html"
    (tmp_path / "empty").mkdir()
    layer.docs(tmp_path / "empty", formats=["md"])
    assert (tmp_path / "empty" / "metrics" / "hours.md").is_file()
    assert (tmp_path / "empty" / catalog_write.MARKER).is_file()


def test_a_rerun_replaces_the_catalog_without_stale_pages(tmp_path: Path) -> None:
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts"))
    site = tmp_path / "site"
    ml.load(defs).docs(site)
    assert (site / "metrics" / "shifts.md").is_file()
    text = WORKERS_DEFS.format(table="shifts").replace("  shifts: {measure: shifts.shifts}\n", "")
    write_defs(defs, text)
    ml.load(defs).docs(site)
    assert not (site / "metrics" / "shifts.md").exists()
    assert (site / "metrics" / "hours.md").is_file()
    assert _siblings(site) == ["defs"]  # no staging or old folder left beside it


def test_a_folder_of_other_files_is_refused_unless_forced(layer: ml.Layer, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "notes.txt").write_text("mine")
    with pytest.raises(ml.MetricsLayerError) as info:
        layer.docs(site)
    assert "did not write" in str(info.value) and "--force" in str(info.value)
    assert _tree(site) == {"notes.txt": b"mine"}
    layer.docs(site, force=True)
    assert (site / "index.html").is_file() and not (site / "notes.txt").exists()


def test_a_symlinked_folder_is_never_written_through(layer: ml.Layer, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    link = tmp_path / "site"
    link.symlink_to(victim, target_is_directory=True)
    for force in (False, True):
        with pytest.raises(ml.MetricsLayerError, match="symbolic link"):
            layer.docs(link, force=force)
    assert _tree(victim) == {"keep.txt": b"precious"} and link.is_symlink()


def test_links_planted_inside_a_catalog_are_not_followed(layer: ml.Layer, tmp_path: Path) -> None:
    site = tmp_path / "site"
    layer.docs(site)
    victim_dir, victim_file = tmp_path / "vdir", tmp_path / "vfile.md"
    victim_dir.mkdir()
    (victim_dir / "x").write_text("x")
    victim_file.write_text("precious")
    for sub in (site / "metrics", site / "index.md"):
        if sub.is_dir():
            for p in sub.iterdir():
                p.unlink()
            sub.rmdir()
        else:
            sub.unlink()
    (site / "metrics").symlink_to(victim_dir, target_is_directory=True)
    (site / "index.md").symlink_to(victim_file)
    layer.docs(site)
    assert _tree(victim_dir) == {"x": b"x"} and victim_file.read_text() == "precious"
    assert not (site / "metrics").is_symlink() and not (site / "index.md").is_symlink()
    assert (site / "metrics" / "hours.html").is_file()


def test_a_failed_run_leaves_the_old_catalog(
    layer: ml.Layer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    layer.docs(site)
    before = _tree(site)
    calls = {"n": 0}
    real = Path.write_text

    def failing(self: Path, *args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", failing)
    with pytest.raises(ml.MetricsLayerError) as info:
        layer.docs(site)
    assert str(info.value) == f"cannot write the catalog to {site}: No space left on device"
    monkeypatch.undo()
    assert _tree(site) == before and _siblings(site) == ["defs"]


def test_an_existing_file_is_a_one_line_cli_error(tmp_path: Path) -> None:
    defs = write_defs(tmp_path / "defs", WORKERS_DEFS.format(table="shifts"))
    target = tmp_path / "catalog.txt"
    target.write_text("keep")
    for extra in ([], ["--force"]):
        res = CliRunner().invoke(app, ["docs", str(defs), "--out", str(target), *extra])
        assert res.exit_code == 2
        lines = res.output.strip().splitlines()
        assert lines == [
            f"error: cannot write the catalog to {target}: it exists and is not a folder"
        ]
    assert target.read_text() == "keep"


HOSTILE = """\
version: 1
sources:
  shifts:
    table: shifts
    time: started_at
    description: "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
    owner: "<b>ops</b>"
    measures:
      hours:
        agg: sum
        expr: hours
        filter: "kind <> '```<script>alert(3)</script>' AND kind <> '`|<i>x</i>'"
        description: "<iframe src=javascript:alert(4)></iframe>"
    dimensions:
      kind: {description: "a | b\\n<style>body{}</style>"}
metrics:
  hours:
    measure: shifts.hours
    description: "<svg onload=alert(5)>"
"""


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def _tags(text: str) -> set[str]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def test_raw_html_in_definitions_stays_text(tmp_path: Path) -> None:
    site = tmp_path / "site"
    ml.load(write_defs(tmp_path / "defs", HOSTILE)).docs(site)
    md = MarkdownIt("commonmark").enable("table")
    for page in site.rglob("*.md"):
        rendered = md.render(page.read_text())
        assert not _tags(rendered) & {"script", "img", "iframe", "svg", "style", "b", "i"}, page
    for page in site.rglob("*.html"):
        assert not _tags(page.read_text()) & {"script", "img", "iframe", "svg", "b", "i"}, page
    source = md.render((site / "sources" / "shifts.md").read_text())
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img" in source
    # the filter is shown whole inside one code span, backticks and pipes included
    assert (
        "<code>kind &lt;&gt; '```&lt;script&gt;alert(3)&lt;/script&gt;' AND kind &lt;&gt; '`|"
        in (source)
    )
