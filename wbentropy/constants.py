"""Every physical constant and unit conversion of wbentropy, derived from scipy.constants.

Internal units: energies in eV, lengths in Angstrom, temperatures in K,
Berry curvature in Angstrom^2, band velocities dE/dk in eV*Angstrom.
Nothing else in the package may contain a magic conversion number.

Derivations
-----------
Brillouin-zone integrals: int d^3k/(2 pi)^3 F(k) = (1/V_cell) <F>_BZ, where <.>_BZ
is the average over a uniform k-mesh and V_cell the unit-cell volume.

Anomalous Hall conductivity (WannierBerri/postw90 sign convention)

    sigma^e_ab = -(e^2/hbar) sum_n int d^3k/(2pi)^3 f_n Omega_n^ab.

With Omega in A^2 and V in A^3, <f Omega>/V has units 1/A = 1e8 1/cm, so
sigma[S/cm] = -(e^2/hbar)[S] * 1e8 * <f Omega>/V.   (postw90 berry.F90 uses the same
factor: fac = -e^2/hbar/V_c[A^3] * 1e8, to S/cm.)

Anomalous entropy Hall conductivity (paper Eq. 28 with SI units restored).  Electrons
carry charge q = -e; in a field E their anomalous velocity is (e/hbar) E x Omega, so
the charge current is -(e^2/hbar) E x int f Omega (the sign above) and the entropy
current, k_B times the s-weighted particle current, is

    sigma^s_ab = +(e k_B/hbar) sum_n int d^3k/(2pi)^3 s_n Omega_n^ab   [A/(m K)],

s_n = -f ln f - (1-f) ln(1-f) dimensionless: exactly the paper's Eq. 27/28
(e = hbar = k_B = 1, H = H_0 + E.r for charge -1).  In SI, j^s = -(k_B/e) j^e[f -> s].
<s Omega>/V in 1/A = 1e10 1/m, so sigma^s[A/(m K)] = (e k_B/hbar)[A/K] * 1e10 * <s Omega>/V.
By Onsager it equals the anomalous Nernst coefficient (j^e = alpha (-grad T))

    alpha = -(1/q) int dE (df/dE) sigma^e(E) (E - mu)/T,   q = -e,

the standard formula with q the electron charge (Xiao et al., PRL 97, 026603 (2006));
tests/test_hall_models.py and tests/test_real_materials.py check it.

Entropy production and Drude responses (see wbentropy.physics.entropy_production): the
per-k integrands pi^ab are in natural units (hbar = e = k_B = 1, eV, Angstrom) as the
coefficient of (eE_a)(eE_b) [eV/A]^2 in a rate in k_B eV/hbar, in A^2/eV.  With
eE = E[V/m] * 1e-10 eV/A and int d^3k/(2pi)^3 = <.>/V[A^3] = 1e30 <.>/V[m^3]:

    Pi/E^2 [W/(K m^3)/(V/m)^2] = (e k_B/hbar) * 1e-20 * 1e30 * <pi>/V = (e k_B/hbar) * 1e10 * <pi>/V.

Drude conductivity sigma_D = (e^2 tau/hbar^2) sum_n int v^a v^b (-df/dE) with v in eV*A,
tau = hbar/eta: <sum v v (-f')>/(eta V) is in 1/A = 1e8 1/cm, so
sigma_D[S/cm] = (e^2/hbar) * 1e8 * <sum v v (-f')>/(eta V).

Units rule: every charge conductivity (ahc, drude_conductivity, optical_conductivity) is in S/cm,
as postw90's and WannierBerri's AHC output (:data:`CHARGE_CONDUCTIVITY_UNITS`); entropy
conductivities are in A/(m K), the entropy production in W/(K m^3)/(V/m)^2 = S/(m K).
"""
from __future__ import annotations

from scipy import constants as _c

#: Boltzmann constant in eV/K.
KB_EV: float = _c.k / _c.e
#: Elementary charge in C.
E_CHARGE: float = _c.e
#: Reduced Planck constant in J s.
HBAR: float = _c.hbar
#: hbar in eV*fs (converts a relaxation time tau[fs] to a rate hbar/tau in eV).
HBAR_EV_FS: float = _c.hbar / _c.e * 1e15
#: e^2/hbar in S (Siemens).
E2_OVER_HBAR: float = _c.e**2 / _c.hbar
#: e*k_B/hbar in A/K.
E_KB_OVER_HBAR: float = _c.e * _c.k / _c.hbar
#: 1/Angstrom in 1/cm.
PER_ANGSTROM_TO_PER_CM: float = 1e8
#: S/cm in S/m.
S_PER_CM_TO_S_PER_M: float = 100.0
#: 1/Angstrom in 1/m.
PER_ANGSTROM_TO_PER_M: float = 1e10

#: Factor turning <f Omega>/V [1/A] into sigma^e [S/cm] (including the minus sign).
AHC_FACTOR_S_PER_CM: float = -E2_OVER_HBAR * PER_ANGSTROM_TO_PER_CM
#: Factor turning <s Omega>/V [1/A] into sigma^s [A/(m K)] (electrons: plus sign, see above).
ENTROPY_HALL_FACTOR_A_PER_MK: float = E_KB_OVER_HBAR * PER_ANGSTROM_TO_PER_M
#: Factor turning <pi>/V [A^2/eV / A^3] into Pi/E^2 [W/(K m^3)/(V/m)^2] = [S/(m K)].
ENTROPY_PRODUCTION_FACTOR: float = E_KB_OVER_HBAR * PER_ANGSTROM_TO_PER_M
#: Factor turning <sum v v (-f')>/(eta V) [eV A^2 / eV / eV / A^3 = 1/A] into sigma_D [S/cm].
DRUDE_FACTOR_S_PER_CM: float = E2_OVER_HBAR * PER_ANGSTROM_TO_PER_CM
#: Factor turning <v s>/V [eV A / A^3] into j^s [W/(K m^2)]: k_B * (e/hbar) * 1e20.
ENTROPY_CURRENT_FACTOR: float = _c.k * _c.e / _c.hbar * 1e20
#: Factor turning the absorptive optical sum <pi eps r r f_nm delta>/V [A^2/A^3] into sigma^e(w) [S/cm]
#: (paper Eq. 32 with e^2/hbar restored; same as WannierBerri's factor_opt = e^2/(hbar A), in S/cm).
OPTICAL_FACTOR_S_PER_CM: float = E2_OVER_HBAR * PER_ANGSTROM_TO_PER_CM
#: Same sum with s_n - s_m into sigma^s(w) [A/(m K)]: j^s = -(k_B/e) j^e[f -> s] for electrons
#: (the sign that gives sigma^s = +(e k_B/hbar) int s Omega from sigma^e = -(e^2/hbar) int f Omega).
OPTICAL_ENTROPY_FACTOR_A_PER_MK: float = -E_KB_OVER_HBAR * PER_ANGSTROM_TO_PER_M
#: Second-order DC responses, per relaxation time tau = 1 fs (multiply by tau[fs]^power).
#: Berry curvature dipole D = -sum int v Omega df/dE is dimensionless (<v Omega f'>/V: eV A A^2/eV/A^3);
#: nonlinear Hall chi = e^3 tau/hbar^2 D in A/V^2 (WannierBerri factor_nlahc).
NL_HALL_FACTOR_PER_FS: float = _c.e**3 / _c.hbar**2 * 1e-15
#: Entropy version, chi^s = -(k_B/e) chi[f -> s], A/(V K).
ENTROPY_NL_HALL_FACTOR_PER_FS: float = -KB_EV * NL_HALL_FACTOR_PER_FS
#: Nonlinear Drude sigma_abc = (e^3 tau^2/hbar^3) int d_a d_b E v_c df/dE: with <..>/V in eV (= e J),
#: sigma[A/V^2] = e^4 tau^2/hbar^3 <..>/V (WannierBerri factor_nldrude, same sign convention).
NL_DRUDE_FACTOR_PER_FS2: float = _c.e**4 / _c.hbar**3 * 1e-30
#: Entropy version, -(k_B/e) times the charge one, A/(V K).
ENTROPY_NL_DRUDE_FACTOR_PER_FS2: float = -KB_EV * NL_DRUDE_FACTOR_PER_FS2
#: Intrinsic (tau^0) nonlinear Hall chi = (e^3/hbar) int v G f': <v G f'>/V is in 1/eV (eV A * A^2/eV / eV / A^3),
#: i.e. 1/(e J), so chi[A/V^2] = (e^2/hbar)[S] * <v G f'>/V.
INTRINSIC_NL_HALL_FACTOR: float = E2_OVER_HBAR
#: Entropy version, -(k_B/e) times the charge one, A/(V K).
ENTROPY_INTRINSIC_NL_HALL_FACTOR: float = -KB_EV * E2_OVER_HBAR
#: Anomalous thermal Hall conductivity (Qin, Niu & Shi, PRL 107, 236601 (2011); transport heat current,
#: magnetisation currents removed):
#:     kappa_ab = -(k_B^2 T/hbar) sum_n int d^3k/(2pi)^3 c_2(f_n) Omega_n^ab,  c_2(f) = int_0^f ln^2((1-t)/t) dt,
#: the sign of sigma^e = -(e^2/hbar) int f Omega, so that at low T kappa = L_0 T sigma^e (Wiedemann-Franz; kappa is
#: even in the carrier charge, like sigma).  The band weight is w = k_BT c_2(f) in eV = e J (occupation.heat_weight):
#: kappa = -(k_B/hbar) int (e w[eV]) Omega, and <w Omega>/V [eV A^2/A^3] = 1e10 <w Omega>/V [eV/m], so
#:     kappa[W/(m K)] = -(e k_B/hbar) * 1e10 * <w Omega>/V     (J/K * J / (J s) / m = W/(m K)):
#: the magnitude of the entropy Hall factor with the opposite sign (its weight s is dimensionless, this one in eV).
THERMAL_HALL_FACTOR_W_PER_MK: float = -E_KB_OVER_HBAR * PER_ANGSTROM_TO_PER_M
#: Lorenz number L_0 = pi^2 k_B^2/(3 e^2) in W Ohm/K^2 = V^2/K^2 (2.44e-8).
LORENZ_NUMBER: float = _c.pi**2 * _c.k**2 / (3 * _c.e**2)
#: Electron charge q = -e in C (for the Nernst formula alpha = -(1/q) int ...).
ELECTRON_CHARGE: float = -_c.e

#: Conductance quantum e^2/h in S (for the quantised Hall test: sigma = C e^2/(h c)).
E2_OVER_H: float = _c.e**2 / _c.h

#: Units of every charge conductivity (one rule: S/cm, as postw90 and WannierBerri report the AHC).
CHARGE_CONDUCTIVITY_UNITS: str = "S/cm"

UNITS = {
    "ahc": CHARGE_CONDUCTIVITY_UNITS,
    "entropy_hall": "A/(m*K)",
    "thermal_hall": "W/(m*K)",
}
