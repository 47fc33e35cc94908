"""The course world: four tables and their ground truth, generated from one documented causal model.

``generate(n_customers, seed)`` returns a :class:`CourseWorld` (customers, survey, transactions, incidents and the
``truth`` dict); ``write(world, out_dir)`` writes them as CSV and/or Parquet plus ``truth.json``. The model and every
constant below are described in ``data/README.md``; ``truth.json`` carries their values and the *population*
quantities they imply (expected item means, NPS, churn share ...), computed from the model rather than from the sample.

Everything is vectorised numpy driven by one ``np.random.default_rng(seed)``: the same seed and size give
byte-identical files. The population truth uses its own fixed seed, so it does not depend on the user's seed or size.
"""
from __future__ import annotations

import argparse
import copy
import functools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy import integrate, sparse
from scipy.special import ndtr, pdtr

from loyaltylab.constants import (
    DETRACTOR_MAX,
    DIMENSION_NAMES,
    DIMENSIONS,
    EXPECTATION_ITEMS,
    IMPORTANCE_COLUMNS,
    PERCEPTION_ITEMS,
    PROMOTER_MIN,
    TABLE_COLUMNS,
)
from loyaltylab.paths import TABLES, course_data_dir
from loyaltylab.results import dumps

GENERATOR_VERSION = "2.0"        # 2.0: latent loyalty and the failure status act on the churn hazard

# --- calendar -------------------------------------------------------------------------------------------------------
SNAPSHOT_DATE = "2026-06-30"
SIGNUP_WINDOW_DAYS = 1095           # signup uniform over the 1,095 days before the snapshot
DAYS_PER_YEAR = 365.25

# --- customers ------------------------------------------------------------------------------------------------------
SEGMENTS = ("Basic", "Standard", "Premium")
SEGMENT_SHARES = (0.50, 0.35, 0.15)
CHANNELS = ("Online", "Store", "Phone", "Partner")
CHANNEL_SHARES = (0.45, 0.30, 0.15, 0.10)
REGIONS = ("North", "East", "South", "West", "Central")
REGION_SHARES = (0.25, 0.25, 0.20, 0.15, 0.15)
REVENUE_MEDIAN = {"Basic": 29.0, "Standard": 59.0, "Premium": 109.0}
REVENUE_LOG_SD = 0.25
ACQUISITION_COST_MEDIAN = {"Online": 120.0, "Store": 250.0, "Phone": 200.0, "Partner": 300.0}
ACQUISITION_COST_LOG_SD = 0.35
PROVIDER_PROACTIVE_MEAN = {"Basic": 2.0, "Standard": 3.0, "Premium": 4.0}   # Poisson, contacts per year
CUSTOMER_PROACTIVE_MEAN = 2.0                                               # Poisson, actions per year

# --- latent service quality: q ~ N(shift[segment] + shift[region], 1); z_d = q + u_d, u_d ~ N(0, 0.7²) ---------------
QUALITY_SEGMENT_SHIFT = {"Basic": -0.25, "Standard": 0.10, "Premium": 0.50}
QUALITY_REGION_SHIFT = {"North": 0.05, "East": 0.10, "South": -0.05, "West": -0.10, "Central": 0.0}
QUALITY_SD = 1.0
DIMENSION_SD = 0.7

# --- SERVQUAL items: clip(round(mean_d + offset_j + 0.8·latent + ε), 1, 7), ε ~ N(0, 0.8²) ----------------------------
EXPECTATION_MEAN = {"tangibles": 5.4, "reliability": 6.2, "responsiveness": 5.9, "assurance": 5.8, "empathy": 5.5}
PERCEPTION_MEAN = {"tangibles": 5.2, "reliability": 5.0, "responsiveness": 4.9, "assurance": 5.4, "empathy": 5.1}
# fixed per-item offsets (sum zero within each dimension), items 1..22
EXPECTATION_ITEM_OFFSET = (0.10, -0.20, 0.15, -0.05,
                           0.20, 0.05, -0.15, 0.10, -0.20,
                           -0.10, 0.15, 0.05, -0.10,
                           0.05, -0.15, 0.20, -0.10,
                           0.15, -0.10, 0.05, -0.20, 0.10)
PERCEPTION_ITEM_OFFSET = (0.25, -0.15, 0.05, -0.15,
                          -0.10, 0.20, -0.25, 0.05, 0.10,
                          0.15, -0.20, 0.10, -0.05,
                          -0.10, 0.10, 0.15, -0.15,
                          0.20, -0.05, -0.15, 0.10, -0.10)
ITEM_LOADING = 0.8
ITEM_NOISE_SD = 0.8
LIKERT_MIN, LIKERT_MAX = 1, 7

# --- loyalty: L = Σ w_d z_d + γ_f f + γ_c c + γ_fc f·c + δ_status + η, η ~ N(0, 0.5²) -----------------------------------
DRIVER_WEIGHTS = {"tangibles": 0.10, "reliability": 0.35, "responsiveness": 0.25, "assurance": 0.15, "empathy": 0.15}
GAMMA_PROVIDER = 0.08
GAMMA_CUSTOMER = 0.10
GAMMA_INTERACTION = 0.03
LOYALTY_NOISE_SD = 0.5
STATUSES = ("never_failed", "recovered_well", "other_failure")
RECOVERY_EFFECT = {"never_failed": 0.0, "recovered_well": 0.25, "other_failure": -0.50}

# --- survey answers: clip(round(intercept + slope·L + e), lo, hi), fresh e per response --------------------------------
NPS_MODEL = {"intercept": 7.55, "slope": 1.3, "noise_sd": 1.0}
SATISFACTION_MODEL = {"intercept": 4.6, "slope": 0.9, "noise_sd": 0.8}
REPURCHASE_MODEL = {"intercept": 4.4, "slope": 0.9, "noise_sd": 0.9}
SURVEY_SHARE = 0.35                 # customers who answer
MAX_WAVES = 3                       # each respondent answers 1..3 times, uniformly
IMPORTANCE_SHARE = 0.5              # responses with the importance question
IMPORTANCE_MEAN = {"tangibles": 12.0, "reliability": 30.0, "responsiveness": 22.0, "assurance": 19.0, "empathy": 17.0}
IMPORTANCE_CONCENTRATION = 40.0     # Dirichlet(concentration · mean/100), then rounded to integers summing to 100
COMMENT_SHARE = 0.60
ZH_SHARE = 0.65                     # per customer: the language of the questionnaire and the comments
PRICE_THEME_SHARE = 0.15

# --- churn: h(t|x) = (k/λ)(t/λ)^(k−1) exp(x'β + β_L·(L0 − E[L0]) + β_L·δ_status(t)), days, censored at the snapshot --
# L0 is latent loyalty without the failure status (see "loyalty" above) and δ_status(t) the RECOVERY_EFFECT of the
# customer's failure status at time t, so failures act on churn through loyalty, as a time-varying covariate.
CHURN_COEFFICIENTS = {
    "provider_proactive": -0.10,
    "customer_proactive": -0.12,
    "provider_proactive:customer_proactive": -0.03,
    "segment[Standard]": -0.25,
    "segment[Premium]": -0.50,
    "channel[Store]": -0.10,
    "channel[Phone]": 0.10,
    "channel[Partner]": 0.20,
}
CHURN_REFERENCE_LEVELS = {"segment": "Basic", "channel": "Online"}
CHURN_LOYALTY_EFFECT = -0.4         # β_L: log hazard per unit of latent loyalty (HR 0.67 per unit)
WEIBULL_SHAPE = 0.9
WEIBULL_SCALE_DAYS = 1055.0         # tuned so that about 25% of customers have churned by the snapshot (890 before β_L)

# --- incidents: a Poisson process at 0.6 per customer-year from signup to the snapshot; those after churn dropped ---
INCIDENT_RATE_PER_YEAR = 0.6
FAILURE_TYPES = ("billing", "outage", "delivery", "staff", "app")
FAILURE_TYPE_SHARES = (0.25, 0.20, 0.20, 0.15, 0.20)
RECOVERY_SHARE = 0.80               # incidents that get recovered
RECOVERY_HOURS_MEDIAN = 12.0        # lognormal, written with one decimal
RECOVERY_HOURS_LOG_SD = 1.0
# recovery_satisfaction = clip(round(6.2 − 0.7·ln(hours/12) + N(0, 1²)), 1, 7)
RECOVERY_SATISFACTION_MODEL = {"intercept": 6.2, "log_hours_slope": -0.7, "noise_sd": 1.0}
RECOVERED_WELL_MAX_HOURS = 24.0     # recovered well: every incident recovered within 24 h ...
RECOVERED_WELL_MIN_SATISFACTION = 6  # ... with recovery satisfaction ≥ 6

# --- transactions ---------------------------------------------------------------------------------------------------
BILLING_PERIOD_DAYS = 30
BILL_NOISE_LOG_SD = 0.08            # amount = monthly_revenue × lognormal with mean 1

# --- population truth -----------------------------------------------------------------------------------------------
TRUTH_SEED = 20260630
TRUTH_DRAWS = 2_000_000
IMPORTANCE_TRUTH_DRAWS = 200_000

MONEY_COLUMNS = {"monthly_revenue", "acquisition_cost", "amount"}
ONE_DECIMAL_COLUMNS = {"recovery_hours"}

_DIM_OF_ITEM = np.array([DIMENSION_NAMES.index(d) for d in DIMENSION_NAMES for _ in DIMENSIONS[d]["items"]])
_EPOCH = np.datetime64("1970-01-01", "D")
_SNAPSHOT_DAY = int((np.datetime64(SNAPSHOT_DATE, "D") - _EPOCH).astype(int))


@dataclass
class CourseWorld:
    """The generated tables (canonical columns, in order) and the ground truth.

    ``latent`` holds the unobserved per-customer variables (quality q, expectation level v, dimension quality z_*,
    loyalty L, failure status) for teaching and tests; it is not written to disk.
    """

    customers: pd.DataFrame
    survey: pd.DataFrame
    transactions: pd.DataFrame
    incidents: pd.DataFrame
    truth: dict
    latent: pd.DataFrame | None = field(default=None, repr=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}


# ======================================================================================================================
# generation
# ======================================================================================================================

def _vec(mapping: dict, keys: tuple) -> np.ndarray:
    return np.array([mapping[k] for k in keys], dtype=float)


def _draw_profiles(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Segment, channel, region (as codes), proactivity counts, days since signup (1..1095)."""
    seg = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES).astype(np.int8)
    ch = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARES).astype(np.int8)
    reg = rng.choice(len(REGIONS), size=n, p=REGION_SHARES).astype(np.int8)
    f = rng.poisson(_vec(PROVIDER_PROACTIVE_MEAN, SEGMENTS)[seg]).astype(np.int64)
    c = rng.poisson(CUSTOMER_PROACTIVE_MEAN, size=n).astype(np.int64)
    age = rng.integers(1, SIGNUP_WINDOW_DAYS + 1, size=n).astype(np.int64)
    return {"segment": seg, "channel": ch, "region": reg, "f": f, "c": c, "age": age}


def _churn_linear_predictor(p: dict[str, np.ndarray]) -> np.ndarray:
    b = CHURN_COEFFICIENTS
    seg_eff = np.array([0.0, b["segment[Standard]"], b["segment[Premium]"]])
    ch_eff = np.array([0.0, b["channel[Store]"], b["channel[Phone]"], b["channel[Partner]"]])
    f, c = p["f"], p["c"]
    return (b["provider_proactive"] * f + b["customer_proactive"] * c
            + b["provider_proactive:customer_proactive"] * (f * c) + seg_eff[p["segment"]] + ch_eff[p["channel"]])


def loyalty_base_mean() -> float:
    """E[L0], the population mean of latent loyalty without the failure status (exact): the churn hazard is centred
    on it, so exp(β_L·(L0 − E[L0])) averages near 1 and the Weibull scale keeps its meaning."""
    seg_p, reg_p = np.array(SEGMENT_SHARES), np.array(REGION_SHARES)
    mean_q = seg_p @ _vec(QUALITY_SEGMENT_SHIFT, SEGMENTS) + reg_p @ _vec(QUALITY_REGION_SHIFT, REGIONS)
    mean_f = seg_p @ _vec(PROVIDER_PROACTIVE_MEAN, SEGMENTS)
    mean_c = CUSTOMER_PROACTIVE_MEAN       # c is independent of the segment, so E[f·c] = E[f]·E[c]
    return float(sum(DRIVER_WEIGHTS.values()) * mean_q + GAMMA_PROVIDER * mean_f + GAMMA_CUSTOMER * mean_c
                 + GAMMA_INTERACTION * mean_f * mean_c)


def _loyalty_base_given_profile(p: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
    """E[L0 | segment, region, f, c] and the sd of L0 around it (q, u and η integrated out)."""
    w = _vec(DRIVER_WEIGHTS, DIMENSION_NAMES)
    f, c = p["f"], p["c"]
    shift = _vec(QUALITY_SEGMENT_SHIFT, SEGMENTS)[p["segment"]] + _vec(QUALITY_REGION_SHIFT, REGIONS)[p["region"]]
    mean = (w.sum() * shift
            + GAMMA_PROVIDER * f + GAMMA_CUSTOMER * c + GAMMA_INTERACTION * f * c)
    sd = float(np.sqrt((QUALITY_SD * w.sum()) ** 2 + DIMENSION_SD**2 * (w**2).sum() + LOYALTY_NOISE_SD**2))
    return mean, sd


def _status_hazard_multipliers() -> tuple[float, float]:
    """exp(β_L·δ) of the recovered-well and other-failure statuses (never failed: 1)."""
    return (float(np.exp(CHURN_LOYALTY_EFFECT * RECOVERY_EFFECT["recovered_well"])),
            float(np.exp(CHURN_LOYALTY_EFFECT * RECOVERY_EFFECT["other_failure"])))


def _baseline_cumhaz(t: np.ndarray) -> np.ndarray:
    """Λ0(t) = (t/λ)^k (inf stays inf)."""
    return (np.asarray(t, dtype=float) / WEIBULL_SCALE_DAYS) ** WEIBULL_SHAPE


def _cumulative_hazard(t: np.ndarray, risk: np.ndarray, t_first: np.ndarray, t_bad: np.ndarray) -> np.ndarray:
    """H(t) = risk·[Λ0(t∧t1) + m_well·(Λ0(t∧t2) − Λ0(t1))⁺ + m_other·(Λ0(t) − Λ0(t2))⁺]: the customer is never failed
    before the first incident (day t1), recovered well from t1 until the first other failure (day t2 ≥ t1), other
    failure from t2 on (np.inf: no such incident)."""
    m_well, m_other = _status_hazard_multipliers()
    t = np.asarray(t, dtype=float)
    lam_t = _baseline_cumhaz(t)
    lam1, lam2 = _baseline_cumhaz(np.minimum(t_first, t)), _baseline_cumhaz(np.minimum(t_bad, t))
    return risk * (lam1 + m_well * (lam2 - lam1) + m_other * (lam_t - lam2))


def _churn_time(e: np.ndarray, risk: np.ndarray, t_first: np.ndarray, t_bad: np.ndarray) -> np.ndarray:
    """The churn time T (days, continuous) solving H(T) = e, e ~ Exp(1): the piecewise cumulative hazard of
    :func:`_cumulative_hazard` inverted piece by piece (vectorised)."""
    m_well, m_other = _status_hazard_multipliers()
    y = e / risk                                   # target on the Λ0 scale of a never-failed customer with risk 1
    lam1, lam2 = _baseline_cumhaz(t_first), _baseline_cumhaz(t_bad)
    with np.errstate(invalid="ignore"):            # inf − inf in branches that are not taken
        y1 = lam1                                  # accrued by t1
        y2 = np.where(np.isinf(lam2), np.inf, lam1 + m_well * (lam2 - lam1))   # accrued by t2
        lam = np.where(y <= y1, y,
                       np.where(y <= y2, lam1 + (y - y1) / m_well, lam2 + (y - y2) / m_other))
    return WEIBULL_SCALE_DAYS * lam ** (1.0 / WEIBULL_SHAPE)


def _tenure_from_churn_time(t: np.ndarray, age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Churned iff ceil(T) < days since signup; tenure_days = ceil(T) (≥ 1) then, else the days since signup."""
    t_days = np.maximum(np.ceil(np.minimum(t, 1e7)), 1).astype(np.int64)
    churned = t_days < age
    return np.where(churned, t_days, age), churned


def _group_first(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per customer 0..n−1 the minimum of ``values`` over its rows (``owner`` sorted ascending), np.inf when none."""
    out = np.full(n, np.inf)
    if owner.size:
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        out[owner[starts]] = np.minimum.reduceat(values.astype(float), starts)
    return out


def _likert(loc: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """clip(round(loc), lo, hi) as integers (``loc`` is overwritten)."""
    np.rint(loc, out=loc)
    np.maximum(loc, lo, out=loc)
    np.minimum(loc, hi, out=loc)
    return loc.astype(np.int64)


def _round_to_total(shares: np.ndarray, total: int = 100) -> np.ndarray:
    """Rows of shares (summing to 1) → integers summing to ``total`` (largest remainder), vectorised."""
    x = shares * total
    out = np.floor(x).astype(np.int64)
    short = total - out.sum(axis=1)
    order = np.argsort(-(x - out), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(x.shape[1])[None, :].repeat(x.shape[0], axis=0), axis=1)
    out += rank < short[:, None]
    return out


def _draw_importance(rng: np.random.Generator, n: int) -> np.ndarray:
    alpha = IMPORTANCE_CONCENTRATION * _vec(IMPORTANCE_MEAN, DIMENSION_NAMES) / 100.0
    return _round_to_total(rng.dirichlet(alpha, size=n))


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(7, len(str(n)))
    digits = pc.utf8_lpad(pa.array(np.arange(1, n + 1, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "").to_numpy(zero_copy_only=False)


def _dates(day_numbers: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 → datetime64[ns]."""
    return (day_numbers.astype(np.int64) * np.int64(86_400_000_000_000)).view("datetime64[ns]")


def _segments_within(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes laid end to end: the group index and the position within the group per row."""
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(owner.size) - starts[owner]
    return owner, pos


def _sorted_by_owner_then_day(owner: np.ndarray, day: np.ndarray) -> np.ndarray:
    return np.lexsort((day, owner))


# comment templates: theme × sentiment × language, several each (the same count in every cell) -------------------------
SENTIMENTS = ("negative", "mixed", "positive")
COMMENT_TEMPLATES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("tangibles", "negative", "zh"): ("门店环境又旧又乱，设备也该换了", "App界面太乱了，找个功能都要半天",
                                      "营业厅等候区太挤，看着很不专业"),
    ("tangibles", "negative", "en"): ("The store looks run-down and the equipment is outdated.",
                                      "The app is cluttered and it is hard to find anything.",
                                      "The waiting area is cramped and feels unprofessional."),
    ("tangibles", "mixed", "zh"): ("门店还算干净，就是设备有点老", "App能用，但界面可以再简洁一些", "宣传资料挺清楚，环境一般般"),
    ("tangibles", "mixed", "en"): ("The store is clean enough, but the equipment feels dated.",
                                   "The app works, though the design could be simpler.",
                                   "Clear brochures; the premises are just okay."),
    ("tangibles", "positive", "zh"): ("门店干净明亮，设备都很新", "App界面清爽好用，一看就懂", "营业厅环境很舒服，员工着装也很专业"),
    ("tangibles", "positive", "en"): ("Bright, clean store with modern equipment.", "The app looks great and is easy to use.",
                                      "Pleasant premises and smartly dressed staff."),
    ("reliability", "negative", "zh"): ("说好的事情总是做不到，账单还经常出错", "网络三天两头断，答应修也没修好",
                                        "同一个问题报了三次还没解决"),
    ("reliability", "negative", "en"): ("They never do what they promise, and my bill is often wrong.",
                                        "The service keeps dropping and the promised fix never came.",
                                        "I reported the same problem three times and it is still not fixed."),
    ("reliability", "mixed", "zh"): ("大部分时候挺稳定，偶尔会出点差错", "承诺的事基本能做到，就是有时要催", "账单一般没问题，但上个月算错了一次"),
    ("reliability", "mixed", "en"): ("Mostly reliable, but mistakes still happen now and then.",
                                     "They usually keep their promises, though sometimes I have to chase them.",
                                     "Billing is normally fine, but last month it was wrong."),
    ("reliability", "positive", "zh"): ("服务一直很稳定，从来没出过问题", "说到做到，每次都一次办好", "账单清清楚楚，从没出过错"),
    ("reliability", "positive", "en"): ("Rock-solid service, never had a problem.",
                                        "They do exactly what they promise, right the first time.",
                                        "Bills are always accurate and clear."),
    ("responsiveness", "negative", "zh"): ("客服回复太慢，等了三天才有人理我", "电话一直打不通，在线客服也不回",
                                           "提了工单一个星期都没人跟进"),
    ("responsiveness", "negative", "en"): ("Support is painfully slow; it took three days to get a reply.",
                                           "I could not get through by phone and the chat never answered.",
                                           "I opened a ticket a week ago and nobody has followed up."),
    ("responsiveness", "mixed", "zh"): ("客服态度还行，就是回复有点慢", "一般能解决问题，但要等比较久", "高峰期排队时间太长，平时还好"),
    ("responsiveness", "mixed", "en"): ("Support is friendly but a bit slow to respond.",
                                        "They do sort things out, but you have to wait.",
                                        "Queues are long at peak times, otherwise fine."),
    ("responsiveness", "positive", "zh"): ("客服响应超快，几分钟就解决了", "有问题随时能找到人，效率很高", "工单当天就处理好了，非常及时"),
    ("responsiveness", "positive", "en"): ("Super quick support, sorted in minutes.",
                                           "There is always someone to help, very efficient.",
                                           "My request was handled the same day."),
    ("assurance", "negative", "zh"): ("客服连基本问题都答不上来，感觉不专业", "总担心个人信息不安全，心里没底",
                                      "工作人员态度生硬，说话也不客气"),
    ("assurance", "negative", "en"): ("Staff could not answer basic questions; it felt unprofessional.",
                                      "I do not trust them with my personal data.",
                                      "The staff were curt and not very polite."),
    ("assurance", "mixed", "zh"): ("员工还算专业，但有些问题解释得不太清楚", "整体可以信任，只是个别人员业务不熟", "态度挺好，专业水平一般"),
    ("assurance", "mixed", "en"): ("Staff seem competent, but some explanations were unclear.",
                                   "Generally trustworthy, though a few agents lacked knowledge.",
                                   "Polite people, average expertise."),
    ("assurance", "positive", "zh"): ("工作人员很专业，解释得清清楚楚", "用着很放心，信息安全做得好", "每个员工都礼貌又懂行，值得信赖"),
    ("assurance", "positive", "en"): ("Knowledgeable staff who explain things clearly.",
                                      "I feel safe with them; they take security seriously.",
                                      "Courteous, expert people I can trust."),
    ("empathy", "negative", "zh"): ("感觉他们根本不在乎老客户的需求", "每次都是标准答复，没人真正听我说", "服务时间太死板，完全不考虑上班族"),
    ("empathy", "negative", "en"): ("They do not seem to care about long-time customers.",
                                    "Always scripted answers; nobody really listens.",
                                    "Opening hours are rigid and ignore people who work."),
    ("empathy", "mixed", "zh"): ("有时候挺贴心，有时候又很机械", "会记得我的偏好，但个性化还不够", "服务时间还算方便，关怀可以再多一点"),
    ("empathy", "mixed", "en"): ("Sometimes caring, sometimes very robotic.",
                                 "They remember my preferences, but it could be more personal.",
                                 "Convenient hours, though they could show a bit more care."),
    ("empathy", "positive", "zh"): ("他们真的会站在我的角度考虑问题", "服务很贴心，记得我的习惯和需求", "每次都像朋友一样耐心帮我"),
    ("empathy", "positive", "en"): ("They really put themselves in my shoes.",
                                    "Thoughtful service that remembers what I need.",
                                    "Always patient and personal, like talking to a friend."),
    ("price", "negative", "zh"): ("价格太贵了，性价比很低", "套餐越来越贵，服务却没变好", "收费不透明，总有莫名其妙的费用"),
    ("price", "negative", "en"): ("Far too expensive for what you get.",
                                  "Prices keep going up while the service stays the same.",
                                  "Hidden fees keep showing up on my bill."),
    ("price", "mixed", "zh"): ("价格中规中矩，希望多点优惠", "性价比一般，不算贵也不算便宜", "套餐还行，就是附加费有点多"),
    ("price", "mixed", "en"): ("The price is fair, but I would like more discounts.", "Average value for money.",
                               "The plan is okay, but the extras add up."),
    ("price", "positive", "zh"): ("价格实惠，性价比很高", "这个价位能有这样的服务很值", "优惠活动多，老用户也有福利"),
    ("price", "positive", "en"): ("Great value for money.", "Excellent service for the price.",
                                  "Good deals, and loyal customers get rewards too."),
}
THEMES = (*DIMENSION_NAMES, "price")
LANGUAGES = ("zh", "en")


def _template_table() -> tuple[np.ndarray, int]:
    """All templates in one flat object array, cell (theme, sentiment, language) at a fixed offset."""
    per_cell = {len(v) for v in COMMENT_TEMPLATES.values()}
    if len(per_cell) != 1:
        raise AssertionError("every comment template cell must have the same number of templates")
    k = per_cell.pop()
    flat = [COMMENT_TEMPLATES[(t, s, lang)][j] for t in THEMES for s in SENTIMENTS for lang in LANGUAGES
            for j in range(k)]
    return np.array(flat, dtype=object), k


def _perceived_gap(z: np.ndarray) -> np.ndarray:
    """Latent gap per dimension: μP_d − μE_d + 0.8·z_d (n × 5)."""
    return (_vec(PERCEPTION_MEAN, DIMENSION_NAMES) - _vec(EXPECTATION_MEAN, DIMENSION_NAMES))[None, :] + ITEM_LOADING * z


def _draw_customers(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Profiles, latent quality and loyalty, incidents and churn for ``n`` customers (the first part of
    :func:`generate`, also used by :func:`simulate_population_estimates`). Incidents arrive as a Poisson process from
    signup to the snapshot; the churn time inverts the piecewise cumulative hazard in which the failure status acts
    from each incident's day; incidents after churn are then dropped and the failure status (and the loyalty used
    for survey answers) is that of the incidents kept."""
    p = _draw_profiles(rng, n)
    seg, ch, reg, f, c, age = p["segment"], p["channel"], p["region"], p["f"], p["c"], p["age"]
    signup_day = _SNAPSHOT_DAY - age
    revenue = np.round(_vec(REVENUE_MEDIAN, SEGMENTS)[seg] * np.exp(rng.normal(0.0, REVENUE_LOG_SD, n)), 2)
    acq_cost = np.round(_vec(ACQUISITION_COST_MEDIAN, CHANNELS)[ch] * np.exp(rng.normal(0.0, ACQUISITION_COST_LOG_SD, n)),
                        2)

    # --- latent quality, expectations and loyalty before failures ----------------------------------------------------
    q = rng.normal(_vec(QUALITY_SEGMENT_SHIFT, SEGMENTS)[seg] + _vec(QUALITY_REGION_SHIFT, REGIONS)[reg], QUALITY_SD)
    z = q[:, None] + rng.normal(0.0, DIMENSION_SD, (n, len(DIMENSION_NAMES)))
    v = rng.normal(0.0, 1.0, n)
    zh = rng.random(n) < ZH_SHARE
    loyalty_base = (z @ _vec(DRIVER_WEIGHTS, DIMENSION_NAMES) + GAMMA_PROVIDER * f + GAMMA_CUSTOMER * c
                    + GAMMA_INTERACTION * f * c + rng.normal(0.0, LOYALTY_NOISE_SD, n))

    # --- incidents over [signup, snapshot) ----------------------------------------------------------------------------
    n_inc = rng.poisson(INCIDENT_RATE_PER_YEAR * age / DAYS_PER_YEAR)
    owner, _ = _segments_within(n_inc)
    m = owner.size
    offset = np.floor(rng.random(m) * age[owner]).astype(np.int64)      # days since signup
    inc_type = rng.choice(len(FAILURE_TYPES), size=m, p=FAILURE_TYPE_SHARES)
    recovered = rng.random(m) < RECOVERY_SHARE
    log_hours = rng.normal(0.0, RECOVERY_HOURS_LOG_SD, m)
    hours = np.maximum(np.round(RECOVERY_HOURS_MEDIAN * np.exp(log_hours), 1), 0.1)
    rs = RECOVERY_SATISFACTION_MODEL
    rec_sat = _likert(rs["intercept"] + rs["log_hours_slope"] * log_hours + rng.normal(0.0, rs["noise_sd"], m),
                      LIKERT_MIN, LIKERT_MAX)
    good = recovered & (hours <= RECOVERED_WELL_MAX_HOURS) & (rec_sat >= RECOVERED_WELL_MIN_SATISFACTION)

    # --- churn: the status acts on the hazard from each incident's day ------------------------------------------------
    t_first = _group_first(owner, offset, n)
    t_bad = _group_first(owner[~good], offset[~good], n)
    risk = np.exp(_churn_linear_predictor(p) + CHURN_LOYALTY_EFFECT * (loyalty_base - loyalty_base_mean()))
    churn_time = _churn_time(rng.standard_exponential(n), risk, t_first, t_bad)
    tenure, churned = _tenure_from_churn_time(churn_time, age)

    kept = offset < tenure[owner]                  # incidents before churn (all of them for active customers)
    owner, offset, inc_type = owner[kept], offset[kept], inc_type[kept]
    recovered, hours, rec_sat, good = recovered[kept], hours[kept], rec_sat[kept], good[kept]
    n_kept = np.bincount(owner, minlength=n)
    n_bad = np.bincount(owner, weights=~good, minlength=n)
    status = np.where(n_kept == 0, 0, np.where(n_bad == 0, 1, 2)).astype(np.int8)
    loyalty = loyalty_base + _vec(RECOVERY_EFFECT, STATUSES)[status]
    return {**p, "signup_day": signup_day, "revenue": revenue, "acq_cost": acq_cost, "q": q, "z": z, "v": v, "zh": zh,
            "loyalty_base": loyalty_base, "loyalty": loyalty, "status": status, "tenure": tenure, "churned": churned,
            "inc_owner": owner, "inc_offset": offset, "inc_type": inc_type, "inc_recovered": recovered,
            "inc_hours": hours, "inc_rec_sat": rec_sat, "inc_good": good}


def _draw_responses(rng: np.random.Generator, cu: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Survey responses of the customers ``cu`` (owner, day, SERVQUAL items as (22, responses), NPS, satisfaction,
    repurchase intent): the second part of :func:`generate`."""
    n, signup_day, tenure = cu["age"].size, cu["signup_day"], cu["tenure"]
    answers = rng.random(n) < SURVEY_SHARE
    waves = np.where(answers, rng.integers(1, MAX_WAVES + 1, n), 0)
    r_owner, _ = _segments_within(waves)
    r_day = signup_day[r_owner] + np.floor(rng.random(r_owner.size) * tenure[r_owner]).astype(np.int64)
    order = _sorted_by_owner_then_day(r_owner, r_day)
    r_owner, r_day = r_owner[order], r_day[order]
    # one response per customer per day: a second wave drawn on the same day is not a new wave
    first_that_day = np.ones(r_owner.size, bool)
    first_that_day[1:] = (r_owner[1:] != r_owner[:-1]) | (r_day[1:] != r_day[:-1])
    r_owner, r_day = r_owner[first_that_day], r_day[first_that_day]
    nr = r_owner.size
    # items as (22, responses): each item's column is contiguous
    e_loc = (_vec(EXPECTATION_MEAN, DIMENSION_NAMES)[_DIM_OF_ITEM] + np.array(EXPECTATION_ITEM_OFFSET))[:, None]
    e_items = rng.normal(0.0, ITEM_NOISE_SD, (22, nr))
    e_items += e_loc
    e_items += ITEM_LOADING * cu["v"][r_owner][None, :]
    e_items = _likert(e_items, LIKERT_MIN, LIKERT_MAX)
    p_loc = (_vec(PERCEPTION_MEAN, DIMENSION_NAMES)[_DIM_OF_ITEM] + np.array(PERCEPTION_ITEM_OFFSET))[:, None]
    p_items = rng.normal(0.0, ITEM_NOISE_SD, (22, nr))
    p_items += p_loc
    p_items += ITEM_LOADING * cu["z"][r_owner].T[_DIM_OF_ITEM]
    p_items = _likert(p_items, LIKERT_MIN, LIKERT_MAX)
    lr = cu["loyalty"][r_owner]
    nps = _likert(NPS_MODEL["intercept"] + NPS_MODEL["slope"] * lr + rng.normal(0.0, NPS_MODEL["noise_sd"], nr), 0, 10)
    sat = _likert(SATISFACTION_MODEL["intercept"] + SATISFACTION_MODEL["slope"] * lr
                  + rng.normal(0.0, SATISFACTION_MODEL["noise_sd"], nr), LIKERT_MIN, LIKERT_MAX)
    rep = _likert(REPURCHASE_MODEL["intercept"] + REPURCHASE_MODEL["slope"] * lr
                  + rng.normal(0.0, REPURCHASE_MODEL["noise_sd"], nr), LIKERT_MIN, LIKERT_MAX)
    return {"owner": r_owner, "day": r_day, "e_items": e_items, "p_items": p_items, "nps": nps, "satisfaction": sat,
            "repurchase_intent": rep}


def generate(n_customers: int = 20_000, seed: int = 42) -> CourseWorld:
    """Generate the course world: ``n_customers`` customers and everything that follows from them.

    One long function on purpose: it is the causal model read top to bottom (customers, quality, incidents,
    loyalty, survey, transactions), and the order of the random draws is part of the byte-identical output.
    """
    n = int(n_customers)
    if n < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers!r}")
    rng = np.random.default_rng(seed)

    # --- customers, loyalty, incidents, churn ------------------------------------------------------------------------
    cu = _draw_customers(rng, n)
    seg, ch, reg, f, c = cu["segment"], cu["channel"], cu["region"], cu["f"], cu["c"]
    signup_day, tenure, churned, revenue = cu["signup_day"], cu["tenure"], cu["churned"], cu["revenue"]
    z, zh = cu["z"], cu["zh"]

    # --- survey -------------------------------------------------------------------------------------------------------
    rs = _draw_responses(rng, cu)
    r_owner, r_day, e_items, p_items = rs["owner"], rs["day"], rs["e_items"], rs["p_items"]
    nps, sat, rep = rs["nps"], rs["satisfaction"], rs["repurchase_intent"]
    nr = r_owner.size
    has_importance = rng.random(nr) < IMPORTANCE_SHARE
    importance = _draw_importance(rng, nr)

    # comments: theme from the customer's weakest (detractor/passive) or strongest (promoter) perceived gap, or price
    has_comment = rng.random(nr) < COMMENT_SHARE
    price = rng.random(nr) < PRICE_THEME_SHARE
    pick = rng.random(nr)
    gap = _perceived_gap(z)
    weakest, strongest = np.argmin(gap, axis=1), np.argmax(gap, axis=1)
    sentiment = np.where(nps >= PROMOTER_MIN, 2, np.where(nps <= DETRACTOR_MAX, 0, 1))
    theme = np.where(price, len(THEMES) - 1, np.where(sentiment == 2, strongest[r_owner], weakest[r_owner]))
    lang = np.where(zh[r_owner], 0, 1)
    templates, k = _template_table()
    cell = (theme * len(SENTIMENTS) + sentiment) * len(LANGUAGES) + lang
    text = templates[cell * k + np.minimum((pick * k).astype(np.int64), k - 1)]
    comment = np.where(has_comment, text, np.nan)  # missing as NaN, as pandas reads an empty cell

    # --- transactions: one bill per started 30-day period of tenure -------------------------------------------------
    n_bills = -(-tenure // BILLING_PERIOD_DAYS)
    t_owner, t_pos = _segments_within(n_bills)
    t_day = signup_day[t_owner] + BILLING_PERIOD_DAYS * t_pos
    s = BILL_NOISE_LOG_SD
    amount = np.round(revenue[t_owner] * np.exp(rng.normal(-0.5 * s * s, s, t_owner.size)), 2)

    # --- assemble -----------------------------------------------------------------------------------------------------
    cust_ids = _ids("C", n)
    segments, channels, regions = (np.array(x, dtype=object) for x in (SEGMENTS, CHANNELS, REGIONS))
    churn_day = signup_day + tenure
    customers = pd.DataFrame({
        "customer_id": cust_ids,
        "signup_date": _dates(signup_day),
        "segment": segments[seg],
        "channel": channels[ch],
        "region": regions[reg],
        "monthly_revenue": revenue,
        "acquisition_cost": cu["acq_cost"],
        "provider_proactive": f,
        "customer_proactive": c,
        "churned": churned.astype(np.int64),
        "churn_date": pd.Series(_dates(churn_day)).where(churned),
        "tenure_days": tenure,
    }, copy=False)

    survey_cols: dict[str, object] = {
        "response_id": _ids("R", nr),
        "customer_id": cust_ids[r_owner],
        "date": _dates(r_day),
        "nps": nps,
        "satisfaction": sat,
        "repurchase_intent": rep,
    }
    survey_cols.update({name: e_items[j] for j, name in enumerate(EXPECTATION_ITEMS)})
    survey_cols.update({name: p_items[j] for j, name in enumerate(PERCEPTION_ITEMS)})
    survey_cols.update({name: pd.arrays.IntegerArray(importance[:, j].copy(), ~has_importance)
                        for j, name in enumerate(IMPORTANCE_COLUMNS)})
    survey_cols["comment"] = comment
    survey_cols["language"] = np.array(LANGUAGES, dtype=object)[lang]
    survey = pd.DataFrame(survey_cols, copy=False)

    owner, inc_day = cu["inc_owner"], signup_day[cu["inc_owner"]] + cu["inc_offset"]
    inc_order = _sorted_by_owner_then_day(owner, inc_day)
    owner, inc_day, inc_type = owner[inc_order], inc_day[inc_order], cu["inc_type"][inc_order]
    recovered, hours = cu["inc_recovered"][inc_order], cu["inc_hours"][inc_order]
    rec_sat = cu["inc_rec_sat"][inc_order]
    incidents = pd.DataFrame({
        "customer_id": cust_ids[owner],
        "date": _dates(inc_day),
        "failure_type": np.array(FAILURE_TYPES, dtype=object)[inc_type],
        "recovered": recovered.astype(np.int64),
        "recovery_hours": np.where(recovered, hours, np.nan),
        "recovery_satisfaction": pd.arrays.IntegerArray(rec_sat, ~recovered),
    }, copy=False)

    transactions = pd.DataFrame({"customer_id": cust_ids[t_owner], "date": _dates(t_day), "amount": amount},
                                copy=False)

    latent = pd.DataFrame({"customer_id": cust_ids, "quality": cu["q"], "expectation_level": cu["v"]})
    for j, d in enumerate(DIMENSION_NAMES):
        latent[f"z_{d}"] = z[:, j]
    latent["loyalty_base"] = cu["loyalty_base"]
    latent["loyalty"] = cu["loyalty"]
    latent["status"] = np.array(STATUSES, dtype=object)[cu["status"]]

    theme_names = np.array(THEMES, dtype=object)
    commented = has_comment
    truth = build_truth(seed=seed, n_customers=n,
                        comment_themes=dict(zip(survey["response_id"].to_numpy()[commented].tolist(),
                                                theme_names[theme[commented]].tolist())))
    return CourseWorld(customers=customers, survey=survey, transactions=transactions, incidents=incidents,
                       truth=truth, latent=latent)


# ======================================================================================================================
# population truth
# ======================================================================================================================

def expected_likert_mean(loc: np.ndarray, sd: float, lo: int = LIKERT_MIN, hi: int = LIKERT_MAX) -> np.ndarray:
    """E[clip(round(X), lo, hi)] for X ~ N(loc, sd²): lo + Σ_{k=lo}^{hi−1} P(X ≥ k + ½)."""
    loc = np.asarray(loc, dtype=float)
    ks = np.arange(lo, hi) + 0.5
    return lo + ndtr((loc[..., None] - ks) / sd).sum(axis=-1)


def recovered_well_probability() -> float:
    """P(one incident is recovered well) = P(recovered) · P(hours ≤ 24 (as written) and satisfaction ≥ 6)."""
    rs = RECOVERY_SATISFACTION_MODEL
    s_max = np.log((RECOVERED_WELL_MAX_HOURS + 0.05) / RECOVERY_HOURS_MEDIAN) / RECOVERY_HOURS_LOG_SD
    threshold = RECOVERED_WELL_MIN_SATISFACTION - 0.5

    def integrand(s: float) -> float:
        loc = rs["intercept"] + rs["log_hours_slope"] * RECOVERY_HOURS_LOG_SD * s
        return np.exp(-0.5 * s * s) / np.sqrt(2 * np.pi) * ndtr((loc - threshold) / rs["noise_sd"])

    value, _ = integrate.quad(integrand, -12.0, s_max, epsabs=1e-13, epsrel=1e-12)
    return RECOVERY_SHARE * value


def _nps_parts(loc: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(promoter), P(detractor), E[score] for score = clip(round(X), 0, 10), X ~ N(loc, tau²)."""
    promoter = ndtr((loc - (PROMOTER_MIN - 0.5)) / tau)
    detractor = ndtr(((DETRACTOR_MAX + 0.5) - loc) / tau)
    mean = np.zeros_like(loc)
    for k in range(1, 11):
        mean += ndtr((loc - (k - 0.5)) / tau)
    return promoter, detractor, mean


def _nps_summary(w: np.ndarray, prom: np.ndarray, det: np.ndarray, mean: np.ndarray) -> dict:
    tw = w.sum()
    pp, dd = (w * prom).sum() / tw, (w * det).sum() / tw
    return {"nps": 100 * (pp - dd), "promoters_pct": 100 * pp, "detractors_pct": 100 * dd,
            "passives_pct": 100 * (1 - pp - dd), "mean_score": (w * mean).sum() / tw}


@functools.lru_cache(maxsize=1)
def population_truth() -> dict:
    """Population values of the model that do not depend on seed or size (cached; ~2–4 s).

    SERVQUAL item means are exact (normal CDFs over the segment × region mixture). The customer-model values (NPS,
    churn share, recovery by status, the dual-proactivity scales) are a Monte Carlo over TRUTH_DRAWS customers with
    a fixed seed (:func:`_population_draws`: loyalty, incidents and churn drawn as the generator draws them), in
    which each customer contributes the exact conditional probabilities of their answers given their loyalty
    (P(promoter | L), E[score | L]) weighted by their expected number of responses, and the churn share its exact
    P(churned | loyalty, incidents). Monte Carlo errors are stated in data/README.md (0.02 NPS points overall, ≤ 0.16
    for any group or contrast).
    """
    dims = DIMENSION_NAMES
    seg_p, reg_p = np.array(SEGMENT_SHARES), np.array(REGION_SHARES)
    shift = _vec(QUALITY_SEGMENT_SHIFT, SEGMENTS)[:, None] + _vec(QUALITY_REGION_SHIFT, REGIONS)[None, :]
    mix_w = (seg_p[:, None] * reg_p[None, :]).ravel()
    mix_shift = shift.ravel()

    # --- SERVQUAL: expected observed item means --------------------------------------------------------------------------
    e_sd = np.hypot(ITEM_LOADING, ITEM_NOISE_SD)
    p_sd = np.sqrt(ITEM_LOADING**2 * (QUALITY_SD**2 + DIMENSION_SD**2) + ITEM_NOISE_SD**2)
    e_loc = _vec(EXPECTATION_MEAN, dims)[_DIM_OF_ITEM] + np.array(EXPECTATION_ITEM_OFFSET)
    p_loc = _vec(PERCEPTION_MEAN, dims)[_DIM_OF_ITEM] + np.array(PERCEPTION_ITEM_OFFSET)
    e_mean = expected_likert_mean(e_loc, e_sd)
    p_mean = (expected_likert_mean(p_loc[:, None] + ITEM_LOADING * mix_shift[None, :], p_sd) * mix_w).sum(axis=1)
    items = {f"E{j + 1}": e_mean[j] for j in range(22)} | {f"P{j + 1}": p_mean[j] for j in range(22)}
    dimensions = {}
    for d in dims:
        idx = np.array(DIMENSIONS[d]["items"]) - 1
        e, pm = e_mean[idx].mean(), p_mean[idx].mean()
        dimensions[d] = {"items": [f"{x}{i + 1}" for x in ("E", "P") for i in idx], "expectation": e, "perception": pm,
                         "gap": pm - e, "label_zh": DIMENSIONS[d]["zh"], "label_en": DIMENSIONS[d]["en"]}

    imp = _draw_importance(np.random.default_rng(TRUTH_SEED + 1), IMPORTANCE_TRUTH_DRAWS).mean(axis=0)
    return {
        "servqual": {"dimensions": dimensions, "items": items},
        **_customer_model_truth(_population_draws(TRUTH_SEED, TRUTH_DRAWS)),
        "recovered_well_per_incident": recovered_well_probability(),
        "stated_importance": dict(zip(dims, imp)),
    }


def proactivity_medians() -> tuple[float, float]:
    """Population medians over customers of provider_proactive (a Poisson mixture over segments) and
    customer_proactive (Poisson): the course's 2×2 cut points ("high" = strictly above the median)."""
    k = np.arange(200)
    cdf_f = sum(w * pdtr(k, PROVIDER_PROACTIVE_MEAN[s]) for s, w in zip(SEGMENTS, SEGMENT_SHARES))
    cdf_c = pdtr(k, CUSTOMER_PROACTIVE_MEAN)
    return float(k[np.argmax(cdf_f >= 0.5)]), float(k[np.argmax(cdf_c >= 0.5)])


def _response_day_share(tenure: np.ndarray) -> np.ndarray:
    """For a respondent with ``tenure`` days: the probability that a given day of the tenure is one of their
    (distinct) response days — waves uniform on 1..MAX_WAVES, each on a day uniform over the tenure, one response per
    day. Expected responses dated in a set of m days = SURVEY_SHARE · m · this."""
    miss = 1.0 - 1.0 / np.asarray(tenure, dtype=float)
    return np.mean([1.0 - miss**w for w in range(1, MAX_WAVES + 1)], axis=0)


def _population_draws(seed: int, n: int) -> dict[str, np.ndarray]:
    """Customer-level draws of the model for the population truth, with the distribution of :func:`_draw_customers`
    but drawn directly: L0 ~ N(E[L0 | profile], sd²) (q, u and η integrated); the first recovered-well and the first
    other-failure incident as the first events of two independent Poisson processes (rates 0.6·g and 0.6·(1 − g) per
    year, g = P(an incident is recovered well)), on whole days as in the generator; the churn time by the same
    inversion. L0 is antithetic in pairs (L0 − mean = ±sd·Z), which about halves the overall NPS's Monte Carlo error."""
    rng = np.random.default_rng(seed)
    p = _draw_profiles(rng, n)
    mean, sd = _loyalty_base_given_profile(p)
    half = rng.standard_normal((n + 1) // 2)
    loyalty_base = mean + sd * np.concatenate([half, -half])[:n]
    age = p["age"]
    rate, g = INCIDENT_RATE_PER_YEAR / DAYS_PER_YEAR, recovered_well_probability()
    t_good = np.floor(rng.standard_exponential(n) / (rate * g))
    t_bad = np.floor(rng.standard_exponential(n) / (rate * (1.0 - g)))
    t_good[t_good >= age] = np.inf
    t_bad[t_bad >= age] = np.inf
    t_first = np.minimum(t_good, t_bad)
    risk = np.exp(_churn_linear_predictor(p) + CHURN_LOYALTY_EFFECT * (loyalty_base - loyalty_base_mean()))
    tenure, churned = _tenure_from_churn_time(_churn_time(rng.standard_exponential(n), risk, t_first, t_bad), age)
    status = np.where(t_first >= tenure, 0, np.where(t_bad >= tenure, 1, 2)).astype(np.int8)
    # churned iff T ≤ age − 1: its exact probability given L0 and the incidents (a Rao–Blackwellised churn share)
    churn_prob = 1.0 - np.exp(-_cumulative_hazard(age - 1.0, risk, t_first, t_bad))
    day_share = _response_day_share(tenure)
    after = np.where(status > 0, np.maximum(tenure - 1 - t_first, 0.0), tenure)
    return {**p, "loyalty_base": loyalty_base, "loyalty": loyalty_base + _vec(RECOVERY_EFFECT, STATUSES)[status],
            "status": status, "tenure": tenure, "churned": churned, "churn_prob": churn_prob, "t_first": t_first,
            "responses": tenure * day_share,          # expected responses (÷ SURVEY_SHARE)
            "responses_after": after * day_share}     # ... dated after the first incident (all of them if never failed)


def _answer_expectations(loyalty: np.ndarray, step: float = 1e-3) -> tuple[np.ndarray, ...]:
    """P(promoter | L), P(detractor | L), E[NPS score | L] and E[satisfaction | L] for each loyalty value — exact
    normal-CDF expressions evaluated on a grid of L (spacing ``step``) and interpolated linearly (error < 1e-7)."""
    lo, hi = np.floor(loyalty.min()) - 1.0, np.ceil(loyalty.max()) + 1.0
    grid = np.arange(lo, hi + step, step)
    prom, det, mean = _nps_parts(NPS_MODEL["intercept"] + NPS_MODEL["slope"] * grid, NPS_MODEL["noise_sd"])
    sat = expected_likert_mean(SATISFACTION_MODEL["intercept"] + SATISFACTION_MODEL["slope"] * grid,
                               SATISFACTION_MODEL["noise_sd"])
    pos = (loyalty - lo) / step
    i = np.minimum(pos.astype(np.int64), grid.size - 2)
    frac = pos - i
    return tuple(v[i] + frac * (v[i + 1] - v[i]) for v in (prom, det, mean, sat))


def _customer_model_truth(d: dict[str, np.ndarray]) -> dict:
    """NPS, churn, recovery and dual-proactivity population values from :func:`_population_draws`: each customer
    contributes the exact conditional probabilities / expectations of their answers given their loyalty, weighted by
    their expected number of responses (statistics over responses, as an analysis computes them)."""
    n = d["age"].size
    prom, det, mean, sat = _answer_expectations(d["loyalty"])
    points = 100.0 * (prom - det)
    w = d["responses"]
    overall = _nps_summary(w, prom, det, mean)
    by_group = {}
    for col, levels in (("segment", SEGMENTS), ("region", REGIONS), ("channel", CHANNELS)):
        codes = d[col].astype(np.intp)
        group = (np.bincount(codes, weights=w * points, minlength=len(levels))
                 / np.bincount(codes, weights=w, minlength=len(levels)))
        by_group[col] = {lv: float(group[i]) for i, lv in enumerate(levels)}
    status = d["status"].astype(np.intp)
    by_status, after = {}, {}
    sums = {k: np.bincount(status, weights=v, minlength=3) for k, v in
            (("w", w), ("prom", w * prom), ("det", w * det), ("mean", w * mean), ("customers", None),
             ("after_w", d["responses_after"]), ("after", d["responses_after"] * points))}
    for s, name in enumerate(STATUSES):
        pp, dd = sums["prom"][s] / sums["w"][s], sums["det"][s] / sums["w"][s]
        by_status[name] = {"nps": 100 * (pp - dd), "promoters_pct": 100 * pp, "detractors_pct": 100 * dd,
                           "passives_pct": 100 * (1 - pp - dd), "mean_score": sums["mean"][s] / sums["w"][s],
                           "share_pct": 100.0 * sums["customers"][s] / n}
        after[name] = float(sums["after"][s] / sums["after_w"][s])
    after["never_failed"] = float(by_status["never_failed"]["nps"])    # all their responses: the same value

    # dual proactivity on the answer scales: population OLS over responses and the 2×2 at the population medians
    f, c = d["f"].astype(float), d["c"].astype(float)
    x = np.column_stack([np.ones(n), f, c, f * c])
    xtwx = x.T @ (x * w[:, None])
    f_med, c_med = proactivity_medians()
    cell = (f > f_med).astype(int) + 2 * (c > c_med).astype(int)      # 0 neither, 1 firm, 2 customer, 3 both
    cell_w = np.bincount(cell, weights=w, minlength=4)

    def scale(y: np.ndarray) -> dict:
        coef = np.linalg.solve(xtwx, x.T @ (w * y))
        cells = dict(zip(("neither", "firm", "customer", "both"),
                         (np.bincount(cell, weights=w * y, minlength=4) / cell_w).tolist()))
        return {"interaction": float(coef[3]), "cells": cells,
                "synergy": cells["both"] - cells["firm"] - cells["customer"] + cells["neither"]}

    nps_scale = scale(mean)                           # the interaction on the 0–10 score ...
    on_points = scale(points)                         # ... the cells and synergy in NPS points
    nps_scale.update(cells=on_points["cells"], synergy=on_points["synergy"])
    return {
        "nps": {"overall": overall["nps"], "promoters_pct": overall["promoters_pct"],
                "passives_pct": overall["passives_pct"], "detractors_pct": overall["detractors_pct"],
                "mean_score": overall["mean_score"], "by_segment": by_group},
        "churn_share": float(d["churn_prob"].mean()),
        "recovery_by_status": by_status,
        "nps_after_first_incident": after,
        "nps_scale": nps_scale,
        "satisfaction_scale": scale(sat),
        "proactivity_medians": {"provider": f_med, "customer": c_med},
    }


# ======================================================================================================================
# population values of estimators, by a large fixed-seed simulation (stored in loyaltylab.synth_truth)
# ======================================================================================================================

POPULATION_SEED = 20260701          # simulate_population_estimates' default seed (stored constants: synth_truth.py)
POPULATION_CUSTOMERS = 4_000_000    # ... and size, simulated in chunks of POPULATION_CHUNK customers
POPULATION_CHUNK = 500_000
NPS_CATEGORY_LEVELS = ("passive", "promoter")          # vs detractor (the reference)
DRIVER_OUTCOMES = ("nps", "satisfaction", "repurchase_intent")
DRIVER_PARTS = 8                    # parts per chunk for the drivers' Monte Carlo error


def model_fingerprint() -> str:
    """A short hash of every generating constant: synth_truth.py records the one it was computed with, so a changed
    model with stale stored estimates is caught (tests/test_synth.py) and not silently reported as truth."""
    import hashlib

    spec = {k: v for k, v in _model_parameters().items() if k != "truth_monte_carlo"}
    spec.update(drivers=DRIVER_WEIGHTS, gammas=(GAMMA_PROVIDER, GAMMA_CUSTOMER, GAMMA_INTERACTION),
                recovery_effect=RECOVERY_EFFECT, churn=CHURN_COEFFICIENTS, loyalty_effect=CHURN_LOYALTY_EFFECT,
                weibull=(WEIBULL_SHAPE, WEIBULL_SCALE_DAYS), snapshot=SNAPSHOT_DATE,
                well=(RECOVERED_WELL_MAX_HOURS, RECOVERED_WELL_MIN_SATISFACTION))
    return hashlib.sha256(dumps(spec).encode("utf-8")).hexdigest()[:16]


def _course_design(cu: dict[str, np.ndarray]) -> np.ndarray:
    """The churn analysis' course covariates in CHURN_COEFFICIENTS order (treatment dummies, Basic / Online)."""
    f, c = cu["f"].astype(float), cu["c"].astype(float)
    seg, ch = cu["segment"], cu["channel"]
    return np.column_stack([f, c, f * c, seg == 1, seg == 2, ch == 1, ch == 2, ch == 3]).astype(float)


def weibull_aft_mle(durations: np.ndarray, events: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Maximum-likelihood Weibull AFT (lifelines' WeibullAFTFitter parametrisation: S(t) = exp(−(t/λ)^ρ),
    ln λ = α0 + x'α): returns ((α0, α...), ρ, standard errors of (α0, α..., ln ρ)). Newton–Raphson with the exact
    Hessian and step halving; vectorised, for millions of rows."""
    t, d = np.asarray(durations, float), np.asarray(events, float)
    xx = np.column_stack([np.ones(len(t)), np.asarray(x, float)])
    logt = np.log(t)
    k = xx.shape[1]
    theta = np.r_[logt.mean(), np.zeros(k - 1), 0.0]

    def parts(th):
        rho = np.exp(th[-1])
        zz = rho * (logt - xx @ th[:-1])
        u = np.exp(np.minimum(zz, 700.0))
        ll = float((d * (th[-1] + zz - logt)).sum() - u.sum())
        r = d - u
        grad = np.r_[-rho * (xx.T @ r), d.sum() + (zz * r).sum()]
        hess = np.empty((k + 1, k + 1))
        hess[:k, :k] = -(rho**2) * (xx.T @ (xx * u[:, None]))
        hess[:k, k] = hess[k, :k] = -rho * (xx.T @ (r - u * zz))
        hess[k, k] = (zz * (r - u * zz)).sum()
        return ll, grad, hess

    from scipy.optimize import minimize

    theta[0] = np.log(t.sum() / max(d.sum(), 1.0))       # the exponential model's MLE (ρ = 1) as the start
    cache: dict = {}

    def get(th):
        key = th.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = parts(th)
        return cache[key]

    res = minimize(lambda th: -get(th)[0], theta, jac=lambda th: -get(th)[1], hess=lambda th: -get(th)[2],
                   method="trust-exact", options={"gtol": 1e-8 * len(t), "maxiter": 200})
    theta = res.x
    hess = parts(theta)[2]
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    return theta[:-1], float(np.exp(theta[-1])), se


def cox_counting_efron(start, stop, event, x, max_iter: int = 30, eps: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Cox regression on counting-process rows (start, stop] (a covariate that changes over time is a new row),
    Efron ties, Newton–Raphson from 0: (coefficients, model-based standard errors). Efron's k-th of d tied deaths
    sees S − (k/d)·D; the sums over k are collapsed per event time, so memory is O(rows·p + times·p²)."""
    start, stop = np.asarray(start, float), np.asarray(stop, float)
    event, x = np.asarray(event, bool), np.asarray(x, float)
    times = np.unique(stop[event])
    nt, p = times.size, x.shape[1]
    lo = np.searchsorted(times, start, side="right")
    hi = np.searchsorted(times, stop, side="right") - 1
    keep = hi >= lo
    lo, hi, x, event, stop = lo[keep], hi[keep], x[keep], event[keep], stop[keep]
    x = x - x.mean(axis=0)
    dj = np.searchsorted(times, stop[event])
    d = np.bincount(dj, minlength=nt)
    jj = np.repeat(np.arange(nt), d)                       # one entry per death, by time
    cc = (np.arange(jj.size) - np.repeat(np.cumsum(d) - d, d)) / d[jj]   # Efron's k/d
    x_dead = x[event].sum(axis=0)
    ia, ib = np.triu_indices(p)
    cols = np.column_stack([np.ones(len(x)), x, x[:, ia] * x[:, ib]])   # 1, x_a, x_a·x_b (a ≤ b)
    rows = np.arange(len(x))
    # at-risk window sums by a difference array: +v at lo, −v at hi + 1, then a cumulative sum over times
    at_risk = sparse.csr_matrix((np.r_[np.ones(len(x)), -np.ones(len(x))], (np.r_[lo, hi + 1], np.r_[rows, rows])),
                                shape=(nt + 1, len(x)))
    dead = sparse.csr_matrix((np.ones(int(event.sum())), (dj, np.flatnonzero(event))), shape=(nt, len(x)))

    def split(sums: np.ndarray):
        upper = sums[:, 1 + p:]
        full = np.empty((sums.shape[0], p, p))
        full[:, ia, ib] = upper
        full[:, ib, ia] = upper
        return sums[:, 0], sums[:, 1:1 + p], full

    def evaluate(b):
        eta = x @ b
        weighted = cols * np.exp(eta)[:, None]
        s0, s1, s2 = split(np.cumsum(at_risk @ weighted, axis=0)[:nt])
        d0, d1, d2 = split(dead @ weighted)
        den = s0[jj] - cc * d0[jj]
        sums = {name: np.bincount(jj, weights=w, minlength=nt) for name, w in
                (("i1", 1 / den), ("c1", cc / den), ("i2", 1 / den**2), ("c2", cc / den**2), ("cc2", cc**2 / den**2))}
        ll = float(eta[event].sum() - np.log(den).sum())
        grad = x_dead - (s1 * sums["i1"][:, None] - d1 * sums["c1"][:, None]).sum(axis=0)
        info = (np.einsum("t,tab->ab", sums["i1"], s2) - np.einsum("t,tab->ab", sums["c1"], d2)
                - np.einsum("t,ta,tb->ab", sums["i2"], s1, s1)
                + np.einsum("t,ta,tb->ab", sums["c2"], s1, d1) + np.einsum("t,ta,tb->ab", sums["c2"], d1, s1)
                - np.einsum("t,ta,tb->ab", sums["cc2"], d1, d1))
        return ll, grad, info

    beta = np.zeros(p)
    ll, grad, info = evaluate(beta)
    for _ in range(max_iter):
        step = np.linalg.solve(info, grad)
        for _halving in range(30):
            new_ll, new_grad, new_info = evaluate(beta + step)
            if np.isfinite(new_ll) and new_ll >= ll - 1e-12 * abs(ll):
                break
            step = step / 2
        change = abs(new_ll - ll)
        beta, ll, grad, info = beta + step, new_ll, new_grad, new_info
        if change <= eps * abs(ll):
            break
    return beta, np.sqrt(np.diag(np.linalg.inv(info)))


def _chunk_estimates(cu: dict[str, np.ndarray], rs: dict[str, np.ndarray]) -> dict:
    """Every estimator of :func:`simulate_population_estimates` on one simulated chunk: {name: (values, se)}; the
    driver covariances as (sums, cross-products, count) to be pooled."""
    from loyaltylab import measures
    from loyaltylab.stats.survival import cox_design, cox_fit

    names = list(CHURN_COEFFICIENTS)
    x = _course_design(cu)
    tenure, churned = cu["tenure"].astype(float), cu["churned"]
    out = {}
    fit = cox_fit(cox_design(x, tenure, churned, columns=names))
    out["cox"] = (fit.coef.to_numpy(), fit.se.to_numpy())
    alpha, rho, se = weibull_aft_mle(tenure, churned, x)
    out["aft"] = (np.r_[alpha, rho], np.r_[se[:-1], rho * se[-1]])

    # failure status as a time-varying covariate: changes at the first incident and at the first other failure
    n = tenure.size
    owner, offset, good = cu["inc_owner"], cu["inc_offset"].astype(float), cu["inc_good"]
    t_first, t_bad = _group_first(owner, offset, n), _group_first(owner[~good], offset[~good], n)
    first_good = np.isfinite(t_first) & (t_first < t_bad)
    has_bad = np.isfinite(t_bad)
    # rows (start, stop]: never failed until the first incident, recovered well until the first other failure (when
    # the first incident was recovered well), other failure after it; a status acts from just after its day
    cust = np.r_[np.arange(n), np.flatnonzero(first_good), np.flatnonzero(has_bad)]
    begin = np.r_[np.zeros(n), t_first[first_good], t_bad[has_bad]]
    code = np.r_[np.zeros(n, np.int64), np.ones(first_good.sum(), np.int64), np.full(has_bad.sum(), 2, np.int64)]
    order = np.lexsort((code, begin, cust))
    cust, begin, code = cust[order], begin[order], code[order]
    last = np.r_[cust[1:] != cust[:-1], True]
    end = np.where(last, tenure[cust], np.r_[begin[1:], 0.0])
    ok = end > begin                                # an incident on day 0 replaces the never-failed row
    cust, begin, end, code, last = cust[ok], begin[ok], end[ok], code[ok], last[ok]
    tv_x = np.column_stack([code == 1, code == 2, x[cust]]).astype(float)
    coef, se = cox_counting_efron(begin, end, last & churned[cust], tv_x)
    out["failure_status"] = (coef[:2], se[:2])

    # the category of each respondent's last answer (responses are sorted by customer, then day)
    r_owner = rs["owner"]
    last = np.r_[r_owner[1:] != r_owner[:-1], True]
    who, score = r_owner[last], rs["nps"][last]
    cat = np.column_stack([(score >= 7) & (score <= 8), score >= 9]).astype(float)
    fit = cox_fit(cox_design(np.column_stack([x[who], cat]), tenure[who], churned[who],
                             columns=[*names, *NPS_CATEGORY_LEVELS]))
    out["nps_category"] = (fit.coef.to_numpy()[-2:], fit.se.to_numpy()[-2:])

    # drivers: the five perception dimension scores and the three outcomes, over responses
    frame = pd.DataFrame(rs["p_items"].T.astype(float), columns=list(PERCEPTION_ITEMS), copy=False)
    dims = measures.dimension_scores(frame)[list(DIMENSION_NAMES)].to_numpy()
    values = np.column_stack([rs[o].astype(float) for o in DRIVER_OUTCOMES] + [dims])
    part = r_owner % DRIVER_PARTS               # customers' responses stay together
    out["moments"] = [(v.sum(axis=0), v.T @ v, len(v)) for v in (values[part == k] for k in range(DRIVER_PARTS))]
    return out


def _driver_importance(moments) -> dict:
    """drivers.population from pooled (sums, cross-products, n) over responses."""
    from loyaltylab.stats.importance import importance_from_covariance

    total, cross, n = moments
    mean = total / n
    cols = [*DRIVER_OUTCOMES, *DIMENSION_NAMES]
    cov = pd.DataFrame((cross - n * np.outer(mean, mean)) / (n - 1), index=cols, columns=cols)
    out = {}
    for outcome in DRIVER_OUTCOMES:
        res = importance_from_covariance(cov, outcome, DIMENSION_NAMES, n=int(n))
        tab = res.table.set_index("driver")
        out[outcome] = {"r2": float(res.r2), **{m: {d: float(tab.loc[d, m]) for d in DIMENSION_NAMES}
                                              for m in ("lmg", "lmg_share", "relative_weight_share")}}
    return out


def _flatten(tree: dict, prefix: str = "") -> dict[str, float]:
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = float(v)
    return out


def simulate_population_estimates(n_customers: int = POPULATION_CUSTOMERS, seed: int = POPULATION_SEED,
                                  chunk: int = POPULATION_CHUNK) -> dict:
    """The population (pseudo-true) values of the estimators the analyses apply to the course data, by simulating
    ``n_customers`` customers of the generator (``_draw_customers`` / ``_draw_responses``, the code of
    :func:`generate`) in chunks of ``chunk`` from ``default_rng(seed)``:

    * ``churn.pseudo_true_coefficients``: Cox (Efron, :func:`loyaltylab.stats.survival.cox_fit`) on the course
      covariates — what a Cox fit on observed columns estimates now that latent loyalty moves the hazard;
    * ``churn.pseudo_true_aft_coefficients`` / ``pseudo_true_aft_intercept`` / ``pseudo_true_weibull_shape``: the
      Weibull AFT (lifelines' parametrisation) on the same covariates;
    * ``churn.hazard_ratios.failure_status``: Cox with the failure status time-varying (it changes at the first
      incident and at the first other failure) + the course covariates, HR vs never failed;
    * ``churn.hazard_ratios.nps_category``: Cox on the course covariates + the category of the respondent's last
      answer (passive, promoter vs detractor), respondents only;
    * ``drivers.population``: LMG, LMG shares and relative-weight shares of the five SERVQUAL perception dimension
      scores for nps, satisfaction and repurchase_intent, from the pooled covariance over responses.

    Returns {"values": nested dict, "mc_error": the same keys flattened (a.b.c) → Monte Carlo standard error,
    "n_customers", "seed", "chunk", "model_fingerprint"}. The estimates are the means over chunks (the drivers: of
    the pooled covariance) and the Monte Carlo error is the larger of the spread over chunks / √chunks and the
    model-based standard error of the mean (hazard ratios: by the delta method); the drivers' is the spread of the
    importance over DRIVER_PARTS parts of each chunk (respondents split by customer) / √parts."""
    n_chunks = max(1, -(-int(n_customers) // int(chunk)))
    rng = np.random.default_rng(seed)
    per_chunk, part_drivers, moments = [], [], None
    for j in range(n_chunks):
        size = min(int(chunk), int(n_customers) - j * int(chunk))
        cu = _draw_customers(rng, size)
        est = _chunk_estimates(cu, _draw_responses(rng, cu))
        for m in est.pop("moments"):
            moments = m if moments is None else tuple(a + b for a, b in zip(moments, m))
            part_drivers.append(_flatten(_driver_importance(m)))   # the drivers' spread: over parts
        per_chunk.append(est)

    def combine(key):
        vals = np.array([c[key][0] for c in per_chunk])
        ses = np.array([c[key][1] for c in per_chunk])
        mean = vals.mean(axis=0)
        spread = vals.std(axis=0, ddof=1) / np.sqrt(len(vals)) if len(vals) > 1 else np.zeros_like(mean)
        model = np.sqrt((ses**2).sum(axis=0)) / len(vals)
        return mean, np.maximum(spread, model)

    names = list(CHURN_COEFFICIENTS)
    cox, cox_err = combine("cox")
    aft, aft_err = combine("aft")
    fs, fs_err = combine("failure_status")
    nc, nc_err = combine("nps_category")
    drivers = _driver_importance(moments)
    flat_drivers = _flatten(drivers)
    dvals = np.array([[part[k] for k in flat_drivers] for part in part_drivers])
    dspread = dvals.std(axis=0, ddof=1) / np.sqrt(len(dvals))
    values = {
        "churn": {
            "pseudo_true_coefficients": dict(zip(names, cox.tolist())),
            "pseudo_true_aft_coefficients": dict(zip(names, aft[1:-1].tolist())),
            "pseudo_true_aft_intercept": float(aft[0]),
            "pseudo_true_weibull_shape": float(aft[-1]),
            "hazard_ratios": {
                "failure_status": dict(zip(("recovered_well", "other_failure"), np.exp(fs).tolist())),
                "nps_category": dict(zip(NPS_CATEGORY_LEVELS, np.exp(nc).tolist())),
            },
        },
        "drivers": {"population": drivers},
    }
    errors = {
        "churn": {
            "pseudo_true_coefficients": dict(zip(names, cox_err.tolist())),
            "pseudo_true_aft_coefficients": dict(zip(names, aft_err[1:-1].tolist())),
            "pseudo_true_aft_intercept": float(aft_err[0]),
            "pseudo_true_weibull_shape": float(aft_err[-1]),
            "hazard_ratios": {
                "failure_status": dict(zip(("recovered_well", "other_failure"), (np.exp(fs) * fs_err).tolist())),
                "nps_category": dict(zip(NPS_CATEGORY_LEVELS, (np.exp(nc) * nc_err).tolist())),
            },
        },
        "drivers": {"population": {}},
    }
    mc_error = _flatten(errors)
    mc_error.update({f"drivers.population.{k}": float(e) for k, e in zip(flat_drivers, dspread)})
    return {"values": values, "mc_error": mc_error, "n_customers": int(n_customers), "seed": int(seed),
            "chunk": int(chunk), "model_fingerprint": model_fingerprint()}


def stored_population_estimates() -> dict | None:
    """The constants of :mod:`loyaltylab.synth_truth` (``simulate_population_estimates``' output), or None with a
    warning when they were computed for other generating constants (regenerate them: see that module)."""
    import warnings

    try:
        from loyaltylab import synth_truth
    except ImportError:
        warnings.warn("loyaltylab/synth_truth.py is missing: truth.json has no pseudo-true values", stacklevel=2)
        return None
    if synth_truth.MODEL_FINGERPRINT != model_fingerprint():
        warnings.warn("loyaltylab/synth_truth.py was computed for other generating constants: truth.json leaves out "
                      "its pseudo-true values until it is regenerated (see its header)", stacklevel=2)
        return None
    return {"values": synth_truth.VALUES, "mc_error": synth_truth.MC_ERROR, "n_customers": synth_truth.N_CUSTOMERS,
            "seed": synth_truth.SEED, "chunk": synth_truth.CHUNK, "model_fingerprint": synth_truth.MODEL_FINGERPRINT}


def _merge(into: dict, extra: dict) -> dict:
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = copy.deepcopy(v)
    return into


def build_truth(seed: int, n_customers: int, comment_themes: dict[str, str]) -> dict:
    """truth.json: the model's parameters and the population values they imply (see data/README.md)."""
    pop = copy.deepcopy(population_truth())  # the cache must not be shared with (mutable) worlds
    b = CHURN_COEFFICIENTS
    rb = pop["recovery_by_status"]
    after = pop["nps_after_first_incident"]
    cuts = pop["proactivity_medians"]
    m_well, m_other = _status_hazard_multipliers()
    truth = {
        "seed": int(seed),
        "n_customers": int(n_customers),
        "snapshot_date": SNAPSHOT_DATE,
        "generator_version": GENERATOR_VERSION,
        "servqual": pop["servqual"],
        "drivers": {"weights": dict(DRIVER_WEIGHTS), "stated_importance": pop["stated_importance"]},
        "nps": pop["nps"],
        "dual_proactivity": {
            "loyalty": {"provider": GAMMA_PROVIDER, "customer": GAMMA_CUSTOMER, "interaction": GAMMA_INTERACTION},
            "churn_log_hazard": {"provider": b["provider_proactive"], "customer": b["customer_proactive"],
                                 "interaction": b["provider_proactive:customer_proactive"]},
            "nps_scale": {**pop["nps_scale"], "cuts": dict(cuts)},
            "satisfaction_scale": {**pop["satisfaction_scale"], "cuts": dict(cuts)},
        },
        "churn": {
            "coefficients": dict(b),
            "reference_levels": dict(CHURN_REFERENCE_LEVELS),
            "baseline": {"distribution": "weibull", "shape": WEIBULL_SHAPE, "scale_days": WEIBULL_SCALE_DAYS},
            "aft_coefficients": {k: -v / WEIBULL_SHAPE for k, v in b.items()},
            "aft_intercept": float(np.log(WEIBULL_SCALE_DAYS)),
            "loyalty_log_hazard": CHURN_LOYALTY_EFFECT,
            "loyalty_center": loyalty_base_mean(),
            "hazard_ratios": {"failure_status_conditional": {"recovered_well": m_well, "other_failure": m_other}},
            "share_churned": pop["churn_share"],
        },
        "recovery_paradox": {
            "loyalty_effect_recovered_well": RECOVERY_EFFECT["recovered_well"],
            "loyalty_effect_other_failure": RECOVERY_EFFECT["other_failure"],
            "nps": {k: rb[k]["nps"] for k in STATUSES},
            "mean_nps_score": {k: rb[k]["mean_score"] for k in STATUSES},
            "share_pct": {k: rb[k]["share_pct"] for k in STATUSES},
            "after_first_incident": {"nps": dict(after),
                                     "difference": after["recovered_well"] - after["never_failed"]},
            "recovered_well_per_incident": pop["recovered_well_per_incident"],
            "definition": (f"recovered well: every incident recovered within {RECOVERED_WELL_MAX_HOURS:g} hours with "
                           f"recovery_satisfaction >= {RECOVERED_WELL_MIN_SATISFACTION}; other failure: any other "
                           "customer with an incident"),
        },
        "comment_themes": comment_themes,
        "model": _model_parameters(),
    }
    stored = stored_population_estimates()
    if stored is not None:
        _merge(truth, stored["values"])
        truth["population_simulation"] = {k: copy.deepcopy(stored[k]) for k in
                                          ("n_customers", "seed", "chunk", "model_fingerprint", "mc_error")}
    return truth


TRUTH_MODULE_HEADER = '''"""Population (pseudo-true) values of estimators in the course world — GENERATED by
``loyaltylab.synth.write_truth_module()``; do not edit by hand.

``synth.simulate_population_estimates()`` simulated {n_customers:,} customers (seed {seed}, chunks of {chunk:,}) of the
generator and fitted on them what the analyses fit on the course data (see its docstring and data/README.md).
``build_truth`` merges VALUES into truth.json when MODEL_FINGERPRINT equals ``synth.model_fingerprint()``.
MC_ERROR holds each value's Monte Carlo standard error (flattened keys).

After changing any generating constant in loyaltylab/synth.py, regenerate (about 5 minutes on 2 cores; up to 20
when the machine is busy):

    python -c "from loyaltylab import synth; synth.write_truth_module()"

tests/test_synth.py fails while the fingerprint is stale; its slow test re-simulates at a smaller size.
"""
'''


def write_truth_module(path: str | os.PathLike | None = None, **options) -> Path:
    """Run :func:`simulate_population_estimates` (``options``: n_customers, seed, chunk) and write the results as
    the constants of ``loyaltylab/synth_truth.py`` (or ``path``)."""

    est = simulate_population_estimates(**options)
    target = Path(path) if path is not None else Path(__file__).with_name("synth_truth.py")
    text = _truth_module_text(est)
    return _atomic(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _truth_module_text(est: dict) -> str:
    import json

    return (TRUTH_MODULE_HEADER.format(**est)
            + f"\nMODEL_FINGERPRINT = {est['model_fingerprint']!r}\n"
            + f"N_CUSTOMERS = {est['n_customers']}\nSEED = {est['seed']}\nCHUNK = {est['chunk']}\n\n"
            + f"VALUES = {json.dumps(est['values'], indent=4, ensure_ascii=False)}\n\n"
            + f"MC_ERROR = {json.dumps(est['mc_error'], indent=4, ensure_ascii=False)}\n")


def _model_parameters() -> dict:
    return {
        "segments": dict(zip(SEGMENTS, SEGMENT_SHARES)),
        "channels": dict(zip(CHANNELS, CHANNEL_SHARES)),
        "regions": dict(zip(REGIONS, REGION_SHARES)),
        "signup_window_days": SIGNUP_WINDOW_DAYS,
        "monthly_revenue": {"median": dict(REVENUE_MEDIAN), "log_sd": REVENUE_LOG_SD},
        "acquisition_cost": {"median": dict(ACQUISITION_COST_MEDIAN), "log_sd": ACQUISITION_COST_LOG_SD},
        "proactivity": {"provider_mean": dict(PROVIDER_PROACTIVE_MEAN), "customer_mean": CUSTOMER_PROACTIVE_MEAN},
        "quality": {"segment_shift": dict(QUALITY_SEGMENT_SHIFT), "region_shift": dict(QUALITY_REGION_SHIFT),
                    "sd": QUALITY_SD, "dimension_sd": DIMENSION_SD},
        "servqual_items": {"expectation_mean": dict(EXPECTATION_MEAN), "perception_mean": dict(PERCEPTION_MEAN),
                           "expectation_offsets": list(EXPECTATION_ITEM_OFFSET),
                           "perception_offsets": list(PERCEPTION_ITEM_OFFSET),
                           "loading": ITEM_LOADING, "noise_sd": ITEM_NOISE_SD},
        "loyalty_noise_sd": LOYALTY_NOISE_SD,
        "nps_model": dict(NPS_MODEL),
        "satisfaction_model": dict(SATISFACTION_MODEL),
        "repurchase_model": dict(REPURCHASE_MODEL),
        "survey": {"share": SURVEY_SHARE, "max_waves": MAX_WAVES, "importance_share": IMPORTANCE_SHARE,
                   "importance_mean": dict(IMPORTANCE_MEAN), "importance_concentration": IMPORTANCE_CONCENTRATION,
                   "comment_share": COMMENT_SHARE, "zh_share": ZH_SHARE, "price_theme_share": PRICE_THEME_SHARE},
        "incidents": {"rate_per_year": INCIDENT_RATE_PER_YEAR,
                      "failure_types": dict(zip(FAILURE_TYPES, FAILURE_TYPE_SHARES)),
                      "recovery_share": RECOVERY_SHARE, "recovery_hours_median": RECOVERY_HOURS_MEDIAN,
                      "recovery_hours_log_sd": RECOVERY_HOURS_LOG_SD,
                      "recovery_satisfaction": dict(RECOVERY_SATISFACTION_MODEL)},
        "transactions": {"billing_period_days": BILLING_PERIOD_DAYS, "noise_log_sd": BILL_NOISE_LOG_SD},
        "truth_monte_carlo": {"seed": TRUTH_SEED, "draws": TRUTH_DRAWS, "importance_draws": IMPORTANCE_TRUTH_DRAWS},
    }


# ======================================================================================================================
# writing
# ======================================================================================================================

def _fixed_decimals(values: np.ndarray, decimals: int) -> pa.Array:
    """Non-negative floats → strings with exactly ``decimals`` decimals (NaN → null), vectorised in Arrow."""
    scale = 10**decimals
    missing = np.isnan(values)
    units = np.rint(np.where(missing, 0.0, values) * scale).astype(np.int64)
    whole = pa.array(units // scale, mask=missing).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(units % scale, mask=missing).cast(pa.string()), decimals, "0")
    return pc.binary_join_element_wise(whole, frac, ".")


def _csv_arrow_table(df: pd.DataFrame) -> pa.Table:
    """Columns ready for CSV text: dates as dates, money with 2 decimals, recovery hours with 1, nullable ints."""
    arrays = []
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            arr = pa.Array.from_pandas(s).cast(pa.date32())
        elif name in MONEY_COLUMNS:
            arr = _fixed_decimals(s.to_numpy(dtype=float), 2)
        elif name in ONE_DECIMAL_COLUMNS:
            arr = _fixed_decimals(s.to_numpy(dtype=float), 1)
        elif s.dtype == object:
            arr = pa.array(s.to_numpy(), type=pa.string(), from_pandas=True)
        else:
            arr = pa.Array.from_pandas(s)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=list(df.columns))


def _atomic(target: Path, write_to) -> Path:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write_to(tmp)
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


CSV_CHUNK_ROWS = 250_000


def _csv_field(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """One column as CSV field text: quoted only when needed (like pandas' QUOTE_MINIMAL), null → empty."""
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        needs = pc.fill_null(pc.match_substring_regex(arr, '[,"\r\n]'), False)
        if pc.any(needs).as_py():
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
            arr = pc.if_else(needs, quoted, arr)
    else:
        arr = arr.cast(pa.string())
    return pc.fill_null(arr, "")


def _csv_lines(table: pa.Table) -> pa.Array:
    """The table's rows as CSV lines (each ending in a newline), one string per row."""
    fields = [_csv_field(col) for col in table.columns]
    return pc.binary_join_element_wise(pc.binary_join_element_wise(*fields, ","), "\n", "")


def _string_array_bytes(arr: pa.Array | pa.ChunkedArray) -> bytes | memoryview:
    """The concatenated values of a string array without building Python strings."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) == 0:
        return b""
    _, offsets, data = arr.buffers()
    off = np.frombuffer(offsets, dtype=np.int32, count=arr.offset + len(arr) + 1)
    return memoryview(data)[off[arr.offset]:off[-1]]


def _write_csv(df: pd.DataFrame, target: Path) -> Path:
    """UTF-8, header row, minimal quoting, empty for missing; Arrow-vectorised, written in chunks."""
    def go(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write((",".join(df.columns) + "\n").encode("utf-8"))
            for start in range(0, len(df), CSV_CHUNK_ROWS):
                chunk = _csv_arrow_table(df.iloc[start:start + CSV_CHUNK_ROWS])
                fh.write(_string_array_bytes(_csv_lines(chunk)))

    return _atomic(target, go)


def _write_parquet(df: pd.DataFrame, target: Path) -> Path:
    """Parquet (zstd) with pandas metadata, so pandas reads back the same dtypes (Int64, datetime64)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    return _atomic(target, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write(world: CourseWorld, out_dir: str | os.PathLike, fmt: str = "csv") -> list[Path]:
    """Write the four tables (``fmt``: csv, parquet or both) and truth.json into ``out_dir``; return the paths."""
    if fmt not in ("csv", "parquet", "both"):
        raise ValueError(f"fmt must be 'csv', 'parquet' or 'both', got {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in world.tables().items():
        if list(df.columns) != list(TABLE_COLUMNS[name]):
            raise AssertionError(f"{name}: columns differ from constants.TABLE_COLUMNS")
        if fmt in ("csv", "both"):
            written.append(_write_csv(df, out / f"{name}.csv"))
        if fmt in ("parquet", "both"):
            written.append(_write_parquet(df, out / f"{name}.parquet"))
    text = dumps(world.truth)
    written.append(_atomic(out / "truth.json", lambda tmp: tmp.write_text(text, encoding="utf-8")))
    return written


def generate_to_dir(out_dir: str | os.PathLike, n_customers: int = 20_000, seed: int = 42,
                    fmt: str = "csv") -> list[Path]:
    return write(generate(n_customers=n_customers, seed=seed), out_dir, fmt=fmt)


# ======================================================================================================================
# command line: python -m loyaltylab data
# ======================================================================================================================

def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=_positive_int, default=20_000, metavar="N", help="number of customers (default 20000)")
    parser.add_argument("--seed", type=int, default=42, metavar="S", help="random seed (default 42)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default: data/course, or $LOYALTYLAB_DATA)")
    parser.add_argument("--format", choices=("csv", "parquet", "both"), default="csv", dest="format",
                        help="file format of the tables (default csv)")


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    out = Path(args.out) if getattr(args, "out", None) else course_data_dir()
    world = generate(n_customers=args.customers, seed=args.seed)
    write(world, out, fmt=getattr(args, "format", "csv") or "csv")
    rows = ", ".join(f"{name} {len(df):,}" for name, df in world.tables().items())
    print(f"course world (seed {args.seed}): {rows} rows")
    print(f"wrote {out} in {time.perf_counter() - start:.1f}s")
    return 0
