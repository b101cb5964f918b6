"""The customer-value models' public names: BG/NBD and Gamma-Gamma, fitted on each customer's summary.

The models live in :mod:`retention_xl.figures.models`; this short front keeps
``from retention_xl.clv import fit_bgnbd`` the one import scripts need.

>>> from retention_xl.figures.models import clv as models
>>> fit_bgnbd is models.fit_bgnbd
True
"""

from .figures.models.clv import (MONTH_DAYS, PERIOD_DAYS, BgNbdFit, NbdFit, bgnbd_log_likelihood,
                                 customer_lifetime_value, dropout_detected, expected_purchases, fit_bgnbd, fit_nbd,
                                 p_alive, rfm_summary)
from .figures.models.spend import (GammaGammaFit, expected_spend, fit_gamma_gamma, gamma_gamma_log_likelihood,
                                   mean_spend, observed_mean_spend, spend_model_usable)

__all__ = ["MONTH_DAYS", "PERIOD_DAYS", "BgNbdFit", "GammaGammaFit", "NbdFit", "bgnbd_log_likelihood",
           "customer_lifetime_value", "dropout_detected", "expected_purchases", "expected_spend", "fit_bgnbd",
           "fit_gamma_gamma", "fit_nbd", "gamma_gamma_log_likelihood", "mean_spend", "observed_mean_spend",
           "p_alive", "rfm_summary", "spend_model_usable"]
