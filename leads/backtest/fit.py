"""The fitted model: regularised logistic regression on the signal indicators, its out-of-fold ranking quality
(AUC) and calibration, beside the active profile's.

scikit-learn's LogisticRegressionCV with an L2 penalty picks its strength (C, from 1e-3 to 1e2 on a log
grid) by 5-fold stratified cross-validation on log-loss, then refits on every outcome; those coefficients
become the proposed weights (leads.backtest.proposal). Its ranking quality is measured honestly, as
cross_val_predict does: each lead's probability comes from a model fitted (C chosen again inside) on the
other folds only, and the AUC of those out-of-fold probabilities stands beside the AUC of the active
profile's snapshot totals on the same leads. The proposed profile's own points (each fold's model turned
into rounded, capped weights) are ranked out of fold as well. For calibration the active totals are mapped
to probabilities by a one-feature logistic regression (Platt scaling), out of fold too. Folds are shuffled
with a fixed random_state: same input, same result.

numpy and scikit-learn are imported inside the functions, so importing this module costs the web process
nothing until a backtest actually runs. The fit runs with one BLAS/OpenMP thread: its matrices are small, and
on a busy two-core machine threads spinning against each other made it 15 times slower (25 s against 1.5 s
for 600 outcomes).
"""

from collections.abc import Callable, Sequence
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
    proposed_auc: float  # out-of-fold model probabilities
    proposed_points_auc: float | None  # out-of-fold profile points (see model_fit)
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


# Given a fold's coefficients by signal: a function giving an observation its points under them.
PointsFor = Callable[[dict[str, float]], Callable[[Observation], float]]


def model_fit(
    observations: Sequence[Observation],
    signals: Sequence[str],
    *,
    random_state: int = 0,
    points_for: PointsFor | None = None,
) -> ModelFit:
    """Fit the outcomes on the indicators of `signals` (callers check there are enough: leads.backtest.proposal).

    With `points_for`, each fold's model is also turned into points (rounded, capped weights: what a profile
    would award) and the held-out leads are ranked by them: `proposed_points_auc`, the out-of-fold AUC of the
    proposed profile itself rather than of the model behind it."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _fit(observations, signals, random_state=random_state, points_for=points_for)


def classifier(random_state: int = 0):
    """The cross-validated model and its folds (scikit-learn objects, unfitted)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

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
    return model, folds


def indicators(observations: Sequence[Observation], signals: Sequence[str]):
    """(x, y): one 0/1 column per signal, and 1 for converted, as numpy arrays."""
    import numpy as np

    x = np.array([[name in o.signals for name in signals] for o in observations], dtype=float)
    return x, np.array([o.converted for o in observations], dtype=int)


def _fit(
    observations: Sequence[Observation], signals: Sequence[str], *, random_state: int, points_for: PointsFor | None
) -> ModelFit:
    import numpy as np
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    x, y = indicators(observations, signals)
    model, folds = classifier(random_state)
    # cross_val_predict, spelled out so each fold's model can be turned into points as well
    out_of_fold, out_of_fold_points = np.zeros(len(y)), np.zeros(len(y))
    for train, test in folds.split(x, y):
        fold_model = clone(model).fit(x[train], y[train])
        out_of_fold[test] = fold_model.predict_proba(x[test])[:, 1]
        if points_for is not None:
            points = points_for(dict(zip(signals, fold_model.coef_[0].tolist(), strict=True)))
            out_of_fold_points[test] = [points(observations[i]) for i in test]
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
        proposed_points_auc=auc(converted, out_of_fold_points.tolist()) if points_for else None,
        proposed_brier=_brier(converted, proposed),
        active_brier=_brier(converted, active),
        calibration=calibration_bins(converted, proposed),
        active_calibration=calibration_bins(converted, active),
    )
