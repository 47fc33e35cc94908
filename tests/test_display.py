"""Tables as a manager reads them (issue 9): no inf, True/False, nan, .000 counts or snake_case headers."""
import re

import numpy as np
import pandas as pd

from loyaltylab.display import for_people, header

RAW = re.compile(r"^(inf|-inf|True|False|nan|NaN|None|\d+\.000)$")


def _survival_table():
    return pd.DataFrame({
        "group": ["Basic", "Standard", "Tiny"], "customers": [9938.0, 7090.0, np.nan],
        "events": [3284, 1432, 0], "median": [962.0, np.inf, np.nan], "median_lower": [913.0, np.inf, np.nan],
        "S(90)": [0.908, 0.952, np.nan], "S(365.25)": [0.732, 0.854, np.nan], "p_value": [0.0, 0.0234, np.nan],
        "significant": [True, False, None], "suppressed": [False, False, True], "note": ["", "", ""]})


def test_cells_read_as_words_and_integers():
    shown = for_people(_survival_table(), precision=3)
    cells = shown.to_numpy().ravel().tolist()
    assert not [c for c in cells if RAW.match(c)]
    assert shown.loc[0, "Customers"] == "9,938" and shown.loc[0, "Median"] == "962"
    assert shown.loc[1, "Median"] == "not reached" and shown.loc[1, "Median, low"] == "not reached"
    assert shown.loc[0, "p"] == "< 0.001" and shown.loc[1, "p"] == "0.023"
    assert shown.loc[0, "Significant"] == "yes" and shown.loc[1, "Significant"] == "no"
    assert shown.loc[0, "Remaining at 90"] == "0.908"


def test_hidden_rows_say_hidden_and_empty_columns_go():
    shown = for_people(_survival_table())
    assert "suppressed" not in shown and "note" not in shown and "Note" not in shown
    assert set(shown.loc[2, ["Customers", "Median", "p"]]) == {"hidden"}
    assert shown.loc[2, "Group"] == "Tiny"


def test_headers_in_words():
    assert header("hr_lower") == "HR low" and header("p_holm") == "p (Holm)"
    assert header("S(365.25)") == "Remaining at 1 year" and header("S(730.5)") == "Remaining at 2 years"
    assert header("mean_remaining_lifetime") == "Mean remaining lifetime"
    assert header("r with outcome") == "r with outcome"          # already words: kept
    assert not any("_" in header(c) for c in _survival_table().columns)


def test_measurements_keep_their_decimals():
    shown = for_people(pd.DataFrame({"coef": [-0.114, 1.0], "cfi": [1.0, 0.998]}), precision=3)
    assert shown["Coefficient"].tolist() == ["-0.114", "1.000"]
    assert shown["CFI"].tolist() == ["1.000", "0.998"]              # 0/1 measurements are not counts


def test_every_inline_chart_gets_alt_text_in_words():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib_inline import backend_inline

    from loyaltylab import alt_text, plots

    plots.set_theme()
    fig, (a, b) = plt.subplots(1, 2)
    a.bar([0, 1], [3, 4])
    a.set_title("NPS 分布")
    a.set_xlabel("Score")
    a.set_ylabel("Responses")
    b.plot([1, 2], [1, 2])
    fig.suptitle("Overview")
    assert alt_text.describe(fig) == "Chart: Overview; NPS 分布: horizontal axis Score, vertical axis Responses."
    text = backend_inline._fetch_figure_metadata(fig)["alt"]
    assert text.startswith("Chart: Overview; NPS 分布: horizontal axis Score, vertical axis Responses")
    plt.close(fig)


def test_a_mixed_value_column_shows_counts_as_integers():
    table = pd.DataFrame({"metric": ["customers scored", "AUC"], "value": [13917.0, 0.672]}, dtype=object)
    assert for_people(table, precision=3)["Value"].tolist() == ["13,917", "0.672"]
