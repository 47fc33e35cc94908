"""Notebook 02 in Chinese (issue 14): with ``language = "zh"`` the key findings, every "What this shows" sentence,
the notes, every table the notebook shows (captions, headers, word cells), the conditional sections and every chart
leave nothing in English but data values; English stays as it was; ``both`` is Chinese, then English."""
from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from loyaltylab import display, i18n, plots
from loyaltylab.analyses import servqual
from loyaltylab.analyses.servqual import views

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02_service_quality.ipynb"
GLOSSARY = ROOT / "lib" / "loyaltylab" / "glossary"
DESCRIBE = [name for name in servqual.__all__ if name.startswith("describe_")]
PLOTS = [name for name in servqual.__all__ if name.startswith("plot_")]
TABLES = ["dimensions", "items", "overall", "reliability", "gap_reliability", "item_analysis", "efa", "cfa_fit",
          "cfa_loadings", "cfa_reliability", "servperf", "ipa", "trend", "zone", "truth", "strategies"]


@pytest.fixture(scope="module")
def course(small_course_dir):
    """The course data (SERVQUAL gaps, segments, trend, truth and strategies), analysed in the default language."""
    return servqual.analyze(servqual.Params(survey_path=str(small_course_dir / "survey.csv"), n_bootstrap=20))


@pytest.fixture(scope="module")
def zone_zh(small_course_dir, tmp_path_factory):
    """Perceptions with adequate and desired service but no expectations, outcomes or dates, analysed in Chinese:
    SERVPERF mode, the zone of tolerance and the notes on what the file lacks."""
    survey = pd.read_csv(small_course_dir / "survey.csv").head(600)
    frame = survey[["customer_id"] + [f"P{i}" for i in range(1, 23)]].copy()
    for i in range(1, 23):
        frame[f"A{i}"] = (survey[f"E{i}"] - 1).clip(1, 7)
        frame[f"D{i}"] = survey[f"E{i}"]
    path = tmp_path_factory.mktemp("zone") / "zone.csv"
    frame.to_csv(path, index=False)
    with i18n.language("zh"):
        return servqual.analyze(servqual.Params(survey_path=str(path), adequate_prefix="A", desired_prefix="D",
                                                segment_cols=[], n_bootstrap=0))


def sentences(result) -> list[str]:
    return [line for name in DESCRIBE for line in getattr(servqual, name)(result)] + result.key_findings()


def shown_tables(result) -> list[tuple[str, pd.DataFrame]]:
    """(caption, table) of every table the notebook shows for ``result``."""
    out = [(name, servqual.view(result, name)) for name in TABLES if _has(result, name)]
    return out + servqual.segment_views(result) + servqual.invariance_views(result)


def _has(result, name: str) -> bool:
    needs = {"gap_reliability": result.reliability.gap_scores is not None, "efa": result.structure.efa is not None,
             "servperf": result.servperf is not None and len(result.servperf), "ipa": result.ipa is not None,
             "trend": result.trend is not None, "zone": result.zone is not None, "truth": result.truth is not None,
             "strategies": result.strategies is not None}
    needs["cfa_fit"] = needs["cfa_loadings"] = needs["cfa_reliability"] = result.structure.cfa is not None
    return bool(needs.get(name, True))


def data_values(result) -> set[str]:
    """Values from the user's data a table or chart shows as they are: segment groups, outcome columns."""
    values = {str(v) for table in result.segments.values() for v in table["value"]}
    return values | set(result.instrument.outcomes)


def english(texts, allowed=()) -> list[str]:
    return [text for text in texts if i18n.english_only(text) and text not in allowed]


@pytest.mark.parametrize("which", ["course", "zone_zh"])
def test_sentences_are_chinese(which, request):
    result = request.getfixturevalue(which)
    with i18n.language("zh"):
        lines = sentences(result)
    assert lines and english(lines) == []
    assert all(i18n.has_chinese(line) for line in lines)


def test_notes_are_chinese_when_the_analysis_runs_in_chinese(zone_zh):
    assert zone_zh.mode == "servperf" and zone_zh.zone is not None and len(zone_zh.notes) >= 3
    assert all(i18n.has_chinese(note) for note in zone_zh.notes)
    with i18n.language("zh"):
        assert any("数据" in line for line in zone_zh.key_findings())


@pytest.mark.parametrize("which", ["course", "zone_zh"])
def test_tables_are_chinese(which, request):
    result = request.getfixturevalue(which)
    with i18n.language("zh"):
        for caption, table in shown_tables(result):
            shown = display.for_people(table, 2)
            assert english(shown.columns) == [], caption
            cells = {str(v) for column in shown.columns for v in shown[column]}
            assert english(cells, data_values(result)) == [], caption
            assert not i18n.english_only(i18n.word(caption)) or caption in TABLES


def test_the_notebooks_captions_and_titles_have_chinese():
    code = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                     for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")
    labels = re.findall(r'(?:caption|title)="([^"]+)"', code)
    assert "Dimensions" in labels and "What this shows" in labels
    with i18n.language("zh"):
        assert english([i18n.word(label) for label in labels]) == []


@pytest.mark.parametrize("which", ["course", "zone_zh"])
def test_charts_are_chinese(which, request):
    result = request.getfixturevalue(which)
    drawn = 0
    plots.set_theme()
    with i18n.language("zh"):
        for name in PLOTS:
            ax = getattr(servqual, name)(result)
            if ax is None:
                continue
            drawn += 1
            fig = ax.figure
            i18n.translate_figure(fig)
            texts = [artist.get_text() for artist in i18n.figure_texts(fig)]
            fig.canvas.draw()
            ticks = [t.get_text() for a in fig.axes for t in (*a.get_xticklabels(), *a.get_yticklabels())]
            plt.close(fig)
            assert english(texts) == [], name
            assert english(ticks, data_values(result)) == [], name
    assert drawn >= (8 if which == "course" else 5)


def test_sections_in_each_language(course):
    for section in views.SECTIONS:
        with i18n.language("zh"):
            zh = views.section_text(section)
        with i18n.language("both"):
            both = views.section_text(section)
        assert zh.startswith("## ") and i18n.has_chinese(zh.splitlines()[0])
        assert views.section_text(section) == views.SECTIONS[section]
        assert both == zh + "\n\n" + views.SECTIONS[section]


def test_english_is_unchanged_and_both_is_chinese_then_english(course):
    english_lines = {name: getattr(servqual, name)(course) for name in DESCRIBE}
    findings = course.key_findings()
    assert findings[0].startswith("Overall, perceptions fall short of expectations: the unweighted SERVQUAL score")
    assert english_lines["describe_invariance"][0].startswith("By segment (")
    assert servqual.describe_trend(course)[0].startswith("Latest period (")
    with i18n.language("en"):
        assert course.key_findings() == findings
    with i18n.language("both"):
        both = {name: getattr(servqual, name)(course) for name in DESCRIBE}
    for name in DESCRIBE:  # in both, a dimension reads 'Reliability (可靠性)' in the Chinese line too
        assert [line.split("\n") for line in both[name]] == [
            [zh, en] for zh, en in zip([line.split("\n")[0] for line in both[name]], english_lines[name])], name
        assert all(i18n.has_chinese(line.split("\n")[0]) for line in both[name]), name
    table = servqual.view(course, "strategies")
    assert list(table.columns) == ["Rank", "Dimension", "Gap", "Strategy", "策略", "Actions"]
    assert table["Dimension"].iloc[0] == "Reliability (可靠性)"


def test_the_glossary_agrees_with_the_other_files():
    mine = json.loads((GLOSSARY / "servqual.json").read_text(encoding="utf-8"))
    for path in GLOSSARY.glob("*.json"):
        if path.name == "servqual.json":
            continue
        other = {k.lower(): v for k, v in json.loads(path.read_text(encoding="utf-8")).items()
                 if not k.startswith("_")}
        clashes = {k: (v, other[k.lower()]) for k, v in mine.items()
                   if not k.startswith("_") and k.lower() in other and other[k.lower()] != v}
        assert clashes == {}, path.name


def test_notes_made_in_chinese_read_in_each_language(zone_zh):
    """Notes are made while the analysis runs (here in Chinese); each report shows them in its reader's language,
    and ``both`` reads the Chinese note, then the English one — never the pair nested in each line."""
    english = servqual.describe_notes(zone_zh)
    assert english and not any(i18n.has_chinese(line) for line in english)
    with i18n.language("zh"):
        chinese = servqual.describe_notes(zone_zh)
    with i18n.language("both"):
        both = servqual.describe_notes(zone_zh)
    assert both == [f"{zh}\n{en}" for zh, en in zip(chinese, english, strict=True)]


def test_outcomes_and_segment_columns_are_named_in_chinese(course):
    with i18n.language("zh"):
        lines = sentences(course)
    assert any(line.startswith("满意度：感知的 R²") for line in lines)
    assert not [line for line in lines if "按 segment" in line or "按 region" in line or "satisfaction" in line]
