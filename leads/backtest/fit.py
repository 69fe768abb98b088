"""The fitted model: regularised logistic regression on the signal indicators, its out-of-fold ranking quality
(AUC) and calibration, beside the active profile's.

scikit-learn's LogisticRegressionCV with an L2 penalty picks its strength (C, from 1e-3 to 1e2 on a log
grid) by 5-fold stratified cross-validation on log-loss, then refits on every outcome; those coefficients
become the proposed weights (leads.backtest.proposal). Its ranking quality is measured honestly: each lead's
probability comes from cross_val_predict, a model fitted (C chosen again inside) on the other folds only,
and the AUC of those out-of-fold probabilities stands beside the AUC of the active profile's snapshot totals on
the same leads. The active totals are mapped to probabilities for calibration by a one-feature logistic
regression (Platt scaling), out-of-fold too. Folds are shuffled with a fixed random_state: same input, same
result.

numpy and scikit-learn are imported inside the functions, so importing this module costs the web process
nothing until a backtest actually runs. The fit runs with one BLAS/OpenMP thread: its matrices are small, and
on a busy two-core machine threads spinning against each other made it 15 times slower (25 s against 1.5 s
for 600 outcomes).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from .observations import Observation
from .rates import quantile_groups

FOLDS = 5
C_GRID = (-3, 2, 12)  # numpy.logspace arguments: 12 strengths from 1e-3 to 1e2
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class CalibrationBin:
    low: float  # lowest and highest predicted probability in the bin
    high: float
    leads: int
    predicted: float  # mean predicted probability
    observed: float  # share that converted


@dataclass(frozen=True)
class ModelFit:
    signals: tuple[str, ...]  # the fitted signals, in column order
    coefficients: dict[str, float]  # log-odds per signal
    intercept: float
    regularisation_c: float  # the chosen inverse penalty strength
    proposed_auc: float  # out-of-fold
    proposed_brier: float
    active_brier: float
    calibration: tuple[CalibrationBin, ...]  # out-of-fold model probabilities
    active_calibration: tuple[CalibrationBin, ...]  # the active totals, Platt-mapped out of fold


def auc(converted: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve of `scores` ranking converted leads above the others (ties count half);
    None unless both kinds are present."""
    if len(set(converted)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score([int(c) for c in converted], scores))


def calibration_bins(converted: Sequence[bool], predicted: Sequence[float]) -> tuple[CalibrationBin, ...]:
    bins = []
    for members in quantile_groups(predicted, CALIBRATION_BINS):
        probabilities = [predicted[i] for i in members]
        bins.append(
            CalibrationBin(
                low=min(probabilities),
                high=max(probabilities),
                leads=len(members),
                predicted=sum(probabilities) / len(members),
                observed=sum(converted[i] for i in members) / len(members),
            )
        )
    return tuple(bins)


def _brier(converted: Sequence[bool], predicted: Sequence[float]) -> float:
    return sum((p - c) ** 2 for c, p in zip(converted, predicted, strict=True)) / len(predicted)


def model_fit(observations: Sequence[Observation], signals: Sequence[str], *, random_state: int = 0) -> ModelFit:
    """Fit the outcomes on the indicators of `signals` (callers check there are enough: leads.backtest.proposal)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _fit(observations, signals, random_state=random_state)


def _fit(observations: Sequence[Observation], signals: Sequence[str], *, random_state: int) -> ModelFit:
    import numpy as np
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = np.array([[name in o.signals for name in signals] for o in observations], dtype=float)
    y = np.array([o.converted for o in observations], dtype=int)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=random_state)
    model = LogisticRegressionCV(
        Cs=np.logspace(*C_GRID),
        l1_ratios=(0.0,),
        cv=folds,
        scoring="neg_log_loss",
        solver="lbfgs",
        max_iter=1000,
        use_legacy_attributes=False,
    )
    out_of_fold = cross_val_predict(clone(model), x, y, cv=folds, method="predict_proba")[:, 1]
    model.fit(x, y)
    totals = np.array([[o.total] for o in observations], dtype=float)
    platt = LogisticRegression(solver="lbfgs", max_iter=1000)
    active_probability = cross_val_predict(platt, totals, y, cv=folds, method="predict_proba")[:, 1]
    converted = [bool(v) for v in y]
    proposed, active = out_of_fold.tolist(), active_probability.tolist()
    return ModelFit(
        signals=tuple(signals),
        coefficients={name: float(c) for name, c in zip(signals, model.coef_[0], strict=True)},
        intercept=float(model.intercept_[0]),
        regularisation_c=float(model.C_),
        proposed_auc=auc(converted, proposed),
        proposed_brier=_brier(converted, proposed),
        active_brier=_brier(converted, active),
        calibration=calibration_bins(converted, proposed),
        active_calibration=calibration_bins(converted, active),
    )
