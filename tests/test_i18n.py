"""Chinese and English from one source (issue 14): the language parameter, the glossary, tables, charts, notebook
cells per language, and a `language: zh` batch with nothing left for a Chinese reader to read in English."""
import html
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from loyaltylab import display, i18n, notebook, report, sections
from loyaltylab.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISE_TAGS = {"exercises", "exercise", "solution"}


def test_language_parameter_values_and_one_line_errors():
    assert [i18n.check(v) for v in ("en", "ZH", " both ", "中文", "cn")] == ["en", "zh", "both", "zh", "zh"]
    for bad in i18n.check.bad:
        with pytest.raises(ParameterError, match="language = .*must be \"en\""):
            i18n.check(bad)


def test_sentences_and_labels_in_each_language():
    assert i18n.current() == "en"
    assert i18n.t("NPS is 24.", "NPS 为 24。") == "NPS is 24."
    with i18n.language("zh"):
        assert i18n.t("NPS is 24.", "NPS 为 24。") == "NPS 为 24。"
        assert i18n.word("Hazard ratio") == "风险比" and i18n.word("hazard ratio") == "风险比"
        assert i18n.word("Premium") == "Premium"  # not in the glossary: left as it is
        assert i18n.word("可靠性") == "可靠性"
    with i18n.language("both"):
        assert i18n.t("NPS is 24.", "NPS 为 24。") == "NPS 为 24。\nNPS is 24."
        assert i18n.word("Hazard ratio") == "风险比 / Hazard ratio"
    assert i18n.current() == "en"


def test_glossary_files_agree_and_are_chinese():
    seen: dict[str, tuple[str, str]] = {}
    for path in sorted((ROOT / "lib" / "loyaltylab" / "glossary").glob("*.json")):
        terms = json.loads(path.read_text(encoding="utf-8"))
        for en, zh in terms.items():
            if en.startswith("_"):
                continue
            assert isinstance(zh, str) and zh.strip(), (path.name, en)
            assert not i18n.english_only(zh), (path.name, en, zh)  # Chinese, a symbol or a field acronym
            if en in seen:
                assert seen[en][1] == zh, f"{en!r}: {seen[en][0]} says {seen[en][1]!r}, {path.name} says {zh!r}"
            seen[en] = (path.name, zh)


def test_tables_for_people_in_chinese_and_both():
    table = pd.DataFrame({"hazard_ratio": [0.62, 1.5], "p_value": [0.0001, 0.2], "significant": [True, False],
                          "n": [120, 3], "suppressed": [False, True], "group": ["Premium", "Basic"]})
    with i18n.language("zh"):
        shown = display.for_people(table, 2)
    assert list(shown.columns) == ["风险比", "p 值", "显著", "人数", "组"]
    assert shown["显著"].tolist() == ["是", "否"] and shown["人数"].tolist() == ["120", "已隐藏"]
    assert shown["组"].tolist() == ["Premium", "Basic"]  # data values are never translated
    with i18n.language("both"):
        assert display.for_people(table, 2).columns[0] == "风险比 / Hazard ratio"
    assert list(display.for_people(table, 2).columns)[:2] == ["Hazard ratio", "p"]


def test_findings_titles_and_two_language_lines():
    with i18n.language("zh"):
        assert notebook.findings_markdown(["NPS 为 24。"], title="What this shows").startswith("### 这说明了什么\n")
    with i18n.language("both"):
        text = notebook.findings_markdown([i18n.t("NPS is 24.", "NPS 为 24。")], title="Key findings")
    assert text == "### 主要发现 / Key findings\n\n- NPS 为 24。  \n  NPS is 24.\n"


def test_charts_are_translated_before_they_are_shown():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from loyaltylab import alt_text, plots

    plots.set_theme()
    fig, ax = plt.subplots()
    ax.bar(["promoters", "passives", "Premium"], [3, 2, 1], label="Customers")
    ax.set_title("Net Promoter Score")
    ax.set_ylabel("Customers")
    ax.legend()
    with i18n.language("zh"):
        i18n.translate_figure(fig)
        fig.canvas.draw()
        alt = alt_text.describe(fig)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["推荐者", "中立者", "Premium"]
    assert [a.get_text() for a in i18n.figure_texts(fig)] == ["净推荐值", "客户", "客户"]
    assert alt == "图表：净推荐值：纵轴：客户。"
    plt.close(fig)


def test_sections_keep_the_cells_of_the_reports_language():
    def nb():
        book = nbformat.v4.new_notebook()
        book.cells = [nbformat.v4.new_markdown_cell(src, metadata={"tags": tags}) for src, tags in
                      [("shared", []), ("English", ["lang-en"]), ("中文", ["lang-zh"]),
                       ("course zh", ["course-only", "lang-zh"])]]
        return book

    for language, kept in [("en", ["shared", "English"]), ("zh", ["shared", "中文", "course zh"]),
                           ("both", ["shared", "中文", "English", "course zh"])]:
        book = nb()
        sections.drop_sections(book, course_data=True, language=language)
        assert [c.source for c in book.cells] == kept, language


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_the_language_parameter_and_narrative_in_both_languages(path):
    nb = nbformat.read(path, as_version=4)
    params = next(c for c in nb.cells if "parameters" in sections.tags(c))
    assert re.search(r'^language = "en"  # .*"zh"', params.source, re.M), "the parameter, defaulting to English"
    setup = next(c for c in nb.cells if c.cell_type == "code" and "parameters" not in sections.tags(c))
    assert "i18n.use(language)" in setup.source
    cells = [c for c in nb.cells if c.cell_type == "markdown" and not EXERCISE_TAGS & set(sections.tags(c))]
    for i, cell in enumerate(cells):
        tags = set(sections.tags(cell))
        assert tags & {"lang-en", "lang-zh"}, f"cell {i} has no language: {cell.source[:60]!r}"
        if "lang-en" in tags:
            partner = cells[i + 1] if i + 1 < len(cells) else None
            assert partner is not None and "lang-zh" in sections.tags(partner), cell.source[:60]
            assert set(sections.tags(partner)) - {"lang-zh"} == tags - {"lang-en"}, cell.source[:60]
            assert i18n.has_chinese(partner.source), partner.source[:60]
            heading = re.match(r"#+", cell.source.lstrip())
            if heading:  # the same heading level, so both reports have the same outline
                assert partner.source.lstrip().startswith(heading.group(0) + " "), partner.source[:60]
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and not EXERCISE_TAGS & set(
        sections.tags(c)) and "parameters" not in sections.tags(c))
    assert "print(\"Wrote\"" not in code


def test_index_page_in_chinese():
    manifest = {
        "run": {"generated_at": "2026-11-30T10:00:00+00:00", "total_seconds": 12.0, "workers": 1},
        "summary": {"jobs": 1, "ok": 1, "failed": 0}, "packages": {"pandas": "2"},
        "jobs": [{"name": "04_churn_survival", "title": "客户流失", "status": "ok", "seconds": 3.0, "report": "x.html",
                  "notebook": "notebooks/04_churn_survival.ipynb", "inputs": {}, "made_at": None, "error": None,
                  "parameters": {"language": "zh", "min_cell": 5},
                  "headline": {"Customers": 20000, "Median lifetime": None, "Expected churners": 639.6,
                               "C-index (test)": 0.67},
                  "context": {"analysis": "churn", "time_unit": "days", "horizon": 90, "first": "2023-07-01",
                              "last": "2026-06-29", "snapshot": "2026-06-30"}}]}
    page = report.render_index(manifest)
    assert '<html lang="zh-CN">' in page
    texts = _texts(page, ("h1", "h2", "th", "dt", "dd", "p", "summary", "a"))
    assert "未来 90 天内预计流失人数" in texts and "数据 2023-07-01 至 2026-06-29 · 快照日 2026-06-30" in page
    assert [t for t in texts if i18n.english_only(t)] == []
    manifest["jobs"][0]["parameters"]["language"] = "en"
    assert "Expected churners in the next 90 days" in report.render_index(manifest)


TAG = re.compile(r"<[^>]+>")


def _texts(page: str, tags) -> list[str]:
    out = []
    for tag in tags:
        for m in re.finditer(rf"<{tag}\b[^>]*>(.*?)</{tag}>", page, re.S):
            text = html.unescape(TAG.sub(" ", m.group(1)))
            out.append(re.sub(r"\s+", " ", text).strip())
    return [t for t in out if t]


def _without(page: str, pattern: str) -> str:
    return re.sub(pattern, " ", page, flags=re.S)


def _reader_texts(page: str) -> dict[str, list[str]]:
    """What a reader reads on a report page, by kind (code, data quotes, the parameters line and the page's hidden
    nbconvert machinery left out)."""
    body = page[page.find("<body"):]
    body = _without(body, r"<script\b.*?</script>|<style\b.*?</style>|<code\b.*?</code>|<ul class=\"quotes\">.*?</ul>")
    alts = [html.unescape(a) for a in re.findall(r'<img [^>]*alt="([^"]*)"', body)]
    return {"headings": _texts(body, ("h1", "h2", "h3", "h4")), "findings and notes": _texts(body, ("li", "p")),
            "table headers": _texts(body, ("th",)), "chart labels": [p for a in alts for p in _alt_parts(a)]}


def _alt_parts(alt: str) -> list[str]:
    body = alt.removeprefix("图表：").removesuffix("。")
    parts = []
    for panel in body.split("; "):
        parts.extend(piece.strip() for piece in re.split(r": |：|，", panel))
    return [p for p in parts if p]


@pytest.mark.notebook
def test_a_chinese_batch_leaves_nothing_english_only(small_course_dir, tmp_path, monkeypatch, capsys):
    """`make reports REPORT_LANGUAGE=zh` on the small course data: every report's headings, findings, notes, table
    headers and chart labels, and the index, read in Chinese (field acronyms and names such as NPS or Cox aside)."""
    monkeypatch.setenv("LOYALTYLAB_DATA", str(small_course_dir))
    out = tmp_path / "reports"
    names = [p.stem for p in NOTEBOOKS]
    only = [arg for name in names for arg in ("--only", name)]
    rc = report.main(["-j", "2", "--out", str(out), "-p", "language=zh", *only])
    assert rc == 0, capsys.readouterr().out
    left = {}
    for name in names:
        results = json.loads((out / name / "results.json").read_text(encoding="utf-8"))
        assert results["language"] == "zh", name
        page = (out / name / "report.html").read_text(encoding="utf-8")
        texts = _reader_texts(page)
        assert texts["headings"] and texts["table headers"] and texts["chart labels"], name
        for kind, found in texts.items():
            english = sorted({t for t in found if i18n.english_only(t)})
            if english:
                left[f"{name}: {kind}"] = english[:8]
        assert re.search(r"<h1[^>]*>[^<]*[\u4e00-\u9fff]", page), f"{name}: the title is not Chinese"
    index = (out / "index.html").read_text(encoding="utf-8")
    english = sorted({t for t in _texts(index, ("h1", "h2", "th", "dt", "summary")) if i18n.english_only(t)})
    if english:
        left["index"] = english
    assert left == {}


def test_two_language_reports_put_each_chinese_cell_before_its_english_twin():
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell(src, metadata={"tags": tags}) for src, tags in
                  [("# Title", ["lang-en"]), ("# 标题", ["lang-zh"]), ("shared", []), ("## One", ["lang-en"]),
                   ("## 一", ["lang-zh"])]]
    sections.drop_sections(book, course_data=True, language="both")
    assert [c.source for c in book.cells] == ["# 标题", "# Title", "shared", "## 一", "## One"]


def test_labels_part_names_and_dates_for_a_chinese_reader():
    with i18n.language("both"):
        assert i18n.label("Parameters of this run", "本次运行的参数") == "本次运行的参数 / Parameters of this run"
        assert report.part_label({"filters": {"region": "North"}}) == "地区 (region): North"
    with i18n.language("zh"):
        assert report.part_label({"filters": {"region": "North", "Contract": "Two year"}}) == "地区：North; Contract：Two year"
        assert i18n.term("segment[Standard]") == "细分市场 = Standard"
        assert i18n.term("provider_proactive:customer_proactive") == "企业主动服务 × 顾客主动参与"
    assert report.part_label({"filters": {"region": "North"}}) == "region: North"
    assert i18n.term("segment[Standard]") == "segment[Standard]"  # English keeps the design name
    dates = pd.DataFrame({"first_date": pd.to_datetime(["2023-07-01", None])})
    assert display.for_people(dates)["First date"].tolist() == ["2023-07-01", "–"]
