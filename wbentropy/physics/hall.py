r"""Anomalous Hall tensors: charge, entropy and heat (paper Eq. 28; Qin, Niu & Shi 2011).

Physics at a batch of k-points only (no grids, no SI units; see the style guide).  With the band
Berry curvature :math:`\Omega_n` (a pseudovector, :func:`wbentropy.physics.geometry.berry_curvature_bands`)
and a band weight :math:`w_n`, every Hall tensor is the dual of a weighted Fermi-sea sum,

.. math::
    \sigma_{ab} = \frac{F}{V}\sum_n \big\langle w(\epsilon_n)\,\Omega^{ab}_n \big\rangle_{\rm BZ},
    \qquad \Omega^{ab}_n = \epsilon_{abc}\Omega^c_n,

* anomalous Hall conductivity: :math:`w = f`, :math:`F = -e^2/\hbar` (S/cm with Ω in Å², V in Å³);
* entropy Hall conductivity: :math:`w = s` (entropy per state), :math:`F = +e k_B/\hbar` (A/(m K); paper
  Eq. 28, electrons q = −e);
* thermal Hall conductivity: :math:`w = k_BT\,c_2(f)` in eV, :math:`F = -e k_B/\hbar` (W/(m K); Qin, Niu &
  Shi, PRL 107, 236601 (2011)), :math:`\kappa = L_0 T \sigma^e` at low T.

The weights are :mod:`wbentropy.physics.occupation`'s ``fermi``, ``entropy`` and ``heat_weight``; the
factors are constants of :mod:`wbentropy.constants`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["pseudovector_to_tensor"]


def pseudovector_to_tensor(p: np.ndarray) -> np.ndarray:
    """Antisymmetric tensor t_ab = eps_abc p_c from a pseudovector (..., 3) -> (..., 3, 3).

    Component order of p is (yz, zx, xy), so t_yz = p_x, t_zx = p_y, t_xy = p_z: the Hall tensor
    sigma_ab = eps_abc sigma_c of the weighted Berry curvature sum_n w_n Omega_n^c.
    """
    t = np.zeros(p.shape[:-1] + (3, 3))
    t[..., 1, 2], t[..., 2, 0], t[..., 0, 1] = p[..., 0], p[..., 1], p[..., 2]
    return t - np.swapaxes(t, -1, -2)
