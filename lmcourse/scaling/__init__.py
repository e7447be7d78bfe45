"""Scaling laws and hyperparameter transfer (chapters 9 and 11).

- `power_law`: y = A x^k and y = E + A x^(-alpha) fits on log axes, the shared argument checks
- `chinchilla`: L(N, D) = E + A/N^alpha + B/D^beta, its compute-optimal split, Approach 3's Huber fit,
  the published and refitted Chinchilla laws, inference-aware sizing, repeated data
- `isoflop`: Approach 1 (envelope of training curves), Approach 2 (IsoFLOP parabolas), bootstrap
- `experiments`: tokens from the book's corpus and a real IsoFLOP grid of tiny Transformers
- `mup`: muP for Adam on the course's TransformerLM (init, per-group learning rates, readout
  multiplier), the size of one step's update across widths, and learning-rate sweeps across widths

Leaves out: Kaplan et al.'s joint law, data-mixture laws, and anything that needs a cluster.
"""

from lmcourse.scaling.chinchilla import (CHINCHILLA, CHINCHILLA_REFIT, ChinchillaLaw, effective_tokens, fit_chinchilla,
                                         inference_optimal)
from lmcourse.scaling.experiments import IsoFLOPRun, model_shape, prepare_tokens, run_isoflop_grid
from lmcourse.scaling.isoflop import (EnvelopeFit, IsoFLOPFit, IsoFLOPProfile, bootstrap, fit_envelope, fit_isoflop,
                                      isoflop_profile, percentile_interval)
from lmcourse.scaling.mup import MuPLM, apply_mup_init, hidden_matrices, logit_change, lr_sweep, mup_param_groups
from lmcourse.scaling.power_law import OffsetPowerLaw, PowerLaw, fit_offset_power_law, fit_power_law

__all__ = [
    "PowerLaw", "OffsetPowerLaw", "fit_power_law", "fit_offset_power_law",
    "ChinchillaLaw", "CHINCHILLA", "CHINCHILLA_REFIT", "fit_chinchilla", "inference_optimal", "effective_tokens",
    "EnvelopeFit", "fit_envelope", "IsoFLOPProfile", "isoflop_profile", "IsoFLOPFit", "fit_isoflop",
    "bootstrap", "percentile_interval",
    "IsoFLOPRun", "prepare_tokens", "model_shape", "run_isoflop_grid",
    "MuPLM", "apply_mup_init", "hidden_matrices", "mup_param_groups", "logit_change", "lr_sweep",
]
