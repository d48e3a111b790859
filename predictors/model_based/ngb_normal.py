"""A Normal output distribution for ngboost with a closed-form log score.

ngboost's own ``Normal`` builds a scipy frozen distribution every time it is instantiated, which
its line search does several times per boosting step; on the small training sets of NAS
predictors that construction, not the trees, dominates the fit. This distribution computes
the same log score, gradient and Fisher information in closed form with numpy and builds the
scipy object only when something asks for it (``mean``, ``logpdf`` of a prediction).
"""

from __future__ import annotations

import numpy as np
from ngboost.distns import Normal
from ngboost.distns.distn import RegressionDistn
from ngboost.distns.normal import NormalLogScore
from ngboost.scores import LogScore

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


class ClosedFormNormalLogScore(LogScore):
    """Negative log-likelihood of a Normal in closed form; the gradient in (loc, log scale) and
    the Fisher information are ngboost's own (they never touched scipy)."""

    def score(self, Y):
        return _HALF_LOG_2PI + np.log(self.scale) + 0.5 * (Y - self.loc) ** 2 / self.var

    # ngboost finds a distribution's score by its direct base class (LogScore), so this class
    # cannot subclass NormalLogScore; it takes the two closed-form methods over instead.
    d_score = NormalLogScore.d_score
    metric = NormalLogScore.metric


class ClosedFormNormal(Normal):
    """ngboost's ``Normal`` (same parameters, same fit) scored in closed form."""

    scores = [ClosedFormNormalLogScore]

    def __init__(self, params):
        RegressionDistn.__init__(self, params)
        self.loc = params[0]
        self.scale = np.exp(params[1])
        self.var = self.scale**2

    @property
    def dist(self):
        from scipy.stats import norm

        return norm(loc=self.loc, scale=self.scale)
