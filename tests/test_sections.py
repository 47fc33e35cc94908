"""Reports leave out what does not apply (issue 9): course framing only on the course data, no explorer heading
in a static report, no exercises or solutions; every chart has alt text; no raw values in tables."""
import html
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from loyaltylab import sections

ROOT = Path(__file__).resolve().parents[1]
RAW_CELL = re.compile(r"<td>\s*(inf|-inf|True|False|nan|NaN|None|\d*[2-9]\.000|\d{2,}\.000)\s*</td>")


def _nb(*tag_lists):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"cell {i}", metadata={"tags": list(t)}) for i, t in enumerate(tag_lists)]
    return nb


def test_drop_sections_by_tag():
    nb = _nb([], ["course-only"], ["interactive-only"], ["course-only", "solution"], ["exercise"])
    assert sections.drop_sections(nb, course_data=False) == 4 and [c.source for c in nb.cells] == ["cell 0"]
    nb = _nb([], ["course-only"], ["interactive-only"], ["course-only", "solution"])
    sections.drop_sections(nb, course_data=True)
    assert [c.source for c in nb.cells] == ["cell 0", "cell 1"]
    nb = _nb([], ["course-only"], ["interactive-only"])
    sections.drop_sections(nb, course_data=True, interactive=True)
    assert len(nb.cells) == 3


def test_a_failed_cell_stays_whatever_its_tags():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1/0", metadata={"tags": ["course-only"]})
    cell.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="x", traceback=[])]
    nb.cells = [cell]
    sections.drop_sections(nb, course_data=False)
    assert nb.cells == [cell]


def _report(out: Path, *params: str) -> str:
    cmd = [sys.executable, "-m", "loyaltylab", "report", "--notebook", str(ROOT / "notebooks" / "01_nps.ipynb"),
           "--out", str(out)]
    for p in params:
        cmd += ["-p", p]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return (out / "01_nps" / "report.html").read_text(encoding="utf-8")


def _text(page: str) -> str:
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S)
    page = re.sub(r"<img[^>]*>", "", page)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _every_chart_has_alt_text(page: str) -> None:
    images = re.findall(r"<img\b[^>]*>", page)
    assert images and all(re.search(r'\balt="Chart: [^"]+"', img) for img in images)


@pytest.mark.slow
def test_a_report_on_a_users_file_has_no_course_framing(tmp_path):
    page = _report(tmp_path, f"survey_path={ROOT / 'data/examples/survey_zh.csv'}",
                   f"customers_path={ROOT / 'data/examples/customers_zh.csv'}",
                   "columns={推荐分: nps, 客户编号: customer_id, 日期: date, 评论: comment}",
                   "customers_columns={客户编号: customer_id, 地区: region}", "segment_cols=[region]")
    text = _text(page)
    for absent in ("course", "Estimated vs true", "Explore", "Exercises", "练习", "check(", "truth.json"):
        assert absent not in text, absent
    assert "a common benchmark for a loyal customer base" in text
    _every_chart_has_alt_text(page)
    assert not RAW_CELL.findall(page)


@pytest.mark.slow
def test_a_report_on_the_course_data_keeps_its_framing_but_no_exercises(tmp_path, small_course_dir):
    page = _report(tmp_path, f"survey_path={small_course_dir / 'survey.csv'}")
    text = _text(page)
    assert "Estimated vs true" in text and "The course treats NPS ≥ 50" in text
    for absent in ("Explore", "Exercises", "练习", "reference solution", "参考答案"):
        assert absent not in text, absent
    _every_chart_has_alt_text(page)
    assert not RAW_CELL.findall(page)
