"""Key drivers: which parts of the experience move the outcome (NPS, CSAT or CES) most.

Method, kept simple enough to explain on the page: per customer, the outcome is the mean of
their outcome answers in the period; each candidate driver is the mean of what the same customer
said elsewhere in the period — their score at every other touchpoint (from the surveys of the
other types, put on one 0–100 scale) and each CSI attribute they rated. A driver's strength is
Pearson's correlation between the two across customers (−1…1), with its 95% interval (Fisher's
z); drivers rated by fewer than 30 customers are marked as small samples. When enough customers
answered every driver, a standardised multiple regression (pandas/numpy least squares) adds each
driver's share of the explained variance — correlations overlap when drivers move together.
Correlation shows association, not proof of cause; the page says so.
"""

import math

import numpy as np
import pandas as pd
from django.db.models import F
from django.utils.translation import get_language

from surveys import piping
from surveys.models import Answer, Question, SurveyType
from surveys.services import localized

from .definitions import SMALL_SAMPLE, Z95
from .selectors import SCALES, Scope, _responses, responses_behind

OUTCOME_TYPES = {"nps": SurveyType.NPS, "csat": SurveyType.CSAT, "ces": SurveyType.CES}


def _scaled(frame: pd.DataFrame) -> pd.Series:
    """Scores of any survey type on 0–100."""
    low = frame["survey_type"].map(lambda t: SCALES.get(SurveyType(t), (1, 5))[0])
    high = frame["survey_type"].map(lambda t: SCALES.get(SurveyType(t), (1, 5))[1])
    return (frame["score"] - low) / (high - low) * 100


def _interval(r: float, n: int) -> tuple[float | None, float | None]:
    if n <= 3 or abs(r) >= 1:
        return None, None
    z, se = math.atanh(r), 1 / math.sqrt(n - 3)
    return round(math.tanh(z - Z95 * se), 3), round(math.tanh(z + Z95 * se), 3)


def _frame(scope: Scope, outcome: str) -> tuple[pd.Series, pd.DataFrame, dict]:
    outcome_type = OUTCOME_TYPES[outcome]
    answers = responses_behind(scope, outcome_type).filter(customer__isnull=False)
    y = pd.DataFrame.from_records(answers.values("customer_id", "score"), columns=["customer_id", "score"])
    y = y.groupby("customer_id")["score"].mean() if len(y) else pd.Series(dtype=float)

    others = (_responses(scope).filter(customer__isnull=False, score__isnull=False, touchpoint__isnull=False)
              .exclude(survey__survey_type=outcome_type)
              .values("customer_id", "score", tp=F("touchpoint__name"), survey_type=F("survey__survey_type")))
    touchpoints = pd.DataFrame.from_records(others, columns=["customer_id", "score", "tp", "survey_type"])
    columns = []
    labels = {}
    if len(touchpoints):
        touchpoints["value"] = _scaled(touchpoints)
        wide = touchpoints.pivot_table(index="customer_id", columns="tp", values="value", aggfunc="mean")
        labels.update({f"tp:{c}": ("touchpoint", c) for c in wide.columns})
        columns.append(wide.add_prefix("tp:"))

    rated = (Answer.objects.filter(response__in=_responses(scope).filter(customer__isnull=False).values("pk"),
                                   question__kind=Question.Kind.CSI_ATTRIBUTE, number__isnull=False)
             .values("number", customer_id=F("response__customer_id"), key=F("question__key"),
                     label=F("question__text")))
    attributes = pd.DataFrame.from_records(rated, columns=["number", "customer_id", "key", "label"])
    if len(attributes):
        attributes["value"] = (attributes["number"] - 1) / 4 * 100
        wide = attributes.pivot_table(index="customer_id", columns="key", values="value", aggfunc="mean")
        texts = attributes.drop_duplicates("key").set_index("key")["label"].to_dict()
        labels.update({f"attr:{k}": ("attribute", piping.named(localized(texts.get(k), get_language())) or k)
                       for k in wide.columns})
        columns.append(wide.add_prefix("attr:"))
    drivers = pd.concat(columns, axis=1) if columns else pd.DataFrame()
    return y, drivers, labels


def key_drivers(scope: Scope, outcome: str = "nps") -> dict:
    """Drivers of `outcome` ranked by their correlation with it, strongest first."""
    y, drivers, labels = _frame(scope, outcome)
    rows = []
    joined = drivers.join(y.rename("outcome"), how="inner") if len(drivers) and len(y) else pd.DataFrame()
    for column in drivers.columns if len(joined) else []:
        pair = joined[[column, "outcome"]].dropna()
        n = len(pair)
        if n < 3 or pair[column].std() == 0 or pair["outcome"].std() == 0:
            continue
        r = float(pair[column].corr(pair["outcome"]))
        low, high = _interval(r, n)
        kind, name = labels[column]
        rows.append({"key": column, "kind": kind, "name": name, "n": n, "correlation": round(r, 3),
                     "ci_low": low, "ci_high": high, "mean": round(float(pair[column].mean()), 1),
                     "small_sample": n < SMALL_SAMPLE, "significant": low is not None and (low > 0 or high < 0)})
    rows.sort(key=lambda d: -d["correlation"])
    _add_importance(rows, joined)
    return {"outcome": outcome, "customers": int(len(y)), "drivers": rows}


def _add_importance(rows: list[dict], joined: pd.DataFrame) -> None:
    """Each driver's share of the variance a standardised regression explains (complete cases)."""
    keys = [d["key"] for d in rows]
    complete = joined[[*keys, "outcome"]].dropna() if keys else pd.DataFrame()
    if len(complete) < max(SMALL_SAMPLE, 10 * len(keys)):
        return
    z = (complete - complete.mean()) / complete.std(ddof=0)
    if z.isna().any().any():
        return
    x, target = z[keys].to_numpy(), z["outcome"].to_numpy()
    beta, *_ = np.linalg.lstsq(x, target, rcond=None)
    correlations = np.array([d["correlation"] for d in rows])
    # Pratt's measure: beta × r sums to R²; negative parts are shown as zero.
    parts = np.clip(beta * correlations, 0, None)
    total = parts.sum()
    for d, part in zip(rows, parts, strict=True):
        d["importance"] = round(float(part / total * 100), 1) if total > 0 else None
