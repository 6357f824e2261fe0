# %% [markdown]
# # 4. The RNN Hessian: $t^2$ Kronecker terms and the Weyl bounds
#
# Naumov (2017), Section 4.3: Theorem 2, Corollary 4 and eq. (101)-(108). The claim: for the loss
# at output time $t$, the Hessian with respect to $\mathrm{vec}(W^{(k)})$ is a sum of $t^2$
# Kronecker products, one per pair of time steps $(s, \zeta)$, and its eigenvalues lie within
# bounds built from the small matrices of those terms.
#
# Conventions: `X` is $(r, \tau, N)$, times are 1-based, $\mathrm{vec}$ is row-major, and
# `hessian.blocks[p, s-1, :, zeta-1, :]` is the $m \times m$ matrix of the pair $(s, \zeta)$ of
# sample $p$, `hessian.inputs[p, s-1]` the vector $\mathbf{z}^{(k-1,s)}_p$.

# %% [markdown]
# ## The claim
#
# **Theorem 2.**
# $$H_w^{(k,t)} = \sum_{s=1}^t\sum_{\zeta=1}^t \tilde C^{(k,t,s,\zeta)} \otimes \left(\mathbf{z}^{(k-1,s)}\mathbf{z}^{(k-1,\zeta)T}\right) \qquad (74)$$
# $$\tilde C^{(k,t,s,\zeta)} = \Big(\prod_{h=s}^{t-1} U^{(k)}\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(k,h)}))\Big)^T A^{(k,t)} \Big(\prod_{h=\zeta}^{t-1} U^{(k)}\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(k,h)}))\Big) \qquad (77)$$
# with $A^{(k,t)} = C^{(k,t)} \circ F^{(k,t)} + D^{(k,t)}$ (78). `hessian_core` keeps the Kronecker form
# (74), which is exact for $W$, with the exact small matrices
# $M_{s,\zeta} = \partial^2\mathcal{E}^{(t)}/\partial\mathbf{y}^{(k,s)}\partial\mathbf{y}^{(k,\zeta)}$
# in place of $\tilde C$ (where (77) is not exact, notebook 5).
#
# **Weyl bounds.** For Hermitian $A, B$: $\lambda_q(A) + \lambda_1(B) \le \lambda_q(A+B) \le \lambda_q(A) + \lambda_n(B)$ (101).
# Anchored at the $s = \zeta = t$ term $B^{(k,t)}$, whose eigenvalues are
# $\{0, \|\mathbf{z}^{(k-1,t)}\|^2\lambda_i(A^{(k,t)})\}$ (105), and adding the other diagonal terms and
# the symmetric pairs $B^{(k,t,s,\zeta)}$ of (104) one at a time:
# $$\lambda_q(B^{(k,t)}) + \sum \lambda_1(B^{(k,t,s,\zeta)}) \;\le\; \lambda_q(H_w^{(k,t)}) \;\le\; \lambda_q(B^{(k,t)}) + \sum \lambda_n(B^{(k,t,s,\zeta)}) \qquad (103)$$
# `weyl_bounds(form="terms")` is (103) with each term's extreme eigenvalues;
# `weyl_bounds(form="norm")` replaces them by the singular-value estimate (107), as in (108).

# %%
import holoviews as hv
import ipywidgets as widgets
import numpy as np

from hessian_core import RNN

from nbhelpers import LEGEND_BELOW, check_table, inline_panel_stylesheets, matrix_picture

hv.extension("bokeh", inline=True)  # BokehJS from the installed package: the plots work offline
inline_panel_stylesheets()  # and Panel's stylesheets too (nbhelpers)

# %% [markdown]
# ## One sample, $t = 3$: nine Kronecker terms
#
# Sizes $(N, m, M) = (3, 4, 2)$: $W^{(1)}$ is $4 \times 3$, $H_w^{(1,t)}$ is $12 \times 12$.

# %%
rnn = RNN.random((3, 4, 2), activation="tanh", seed=0)
rng = np.random.default_rng(0)
tau = 6
X = rng.standard_normal((1, tau, 3))
Z_target = rng.standard_normal((1, tau, 2))
k, t = 1, 3

hessian = rnn.hessian(X, Z_target, layer=k, t=t)
H = hessian.dense()
sum_of_terms = sum(
    np.kron(hessian.blocks[0, s, :, zeta, :], np.outer(hessian.inputs[0, s], hessian.inputs[0, zeta]))
    for s in range(t) for zeta in range(t)
)
print("blocks:", hessian.blocks.shape, "  inputs:", hessian.inputs.shape, "  H:", H.shape)
print("max |H - sum of t^2 Kronecker terms| =", np.abs(H - sum_of_terms).max())

# %% [markdown]
# ## Check against finite differences
#
# The dense Hessian against four-point central differences of $\mathcal{E}^{(t)}$.

# %%
from nbhelpers import fd_rnn_hessian

H_fd = fd_rnn_hessian(rnn, X, Z_target, k, t)
error = np.abs(H - H_fd).max()
print(f"max |H - H_fd| = {error:.1e}   (max |H| = {np.abs(H).max():.1e})")
assert error < 1e-4 * np.abs(H).max()


# %% [markdown]
# ## The bounds against the exact spectrum, as $t$ grows
#
# Left: the $t \times t$ grid of $m \times m$ matrices $M_{s,\zeta}$ for the chosen $t$. Middle: the
# sorted eigenvalues of $H_w^{(1,t)}$ inside the band of (103). Right: the widest gap between upper
# and lower bound for $t = 1, \dots, \tau$, for both forms, beside the spread of the spectrum itself.
# At $t = 1$ (one sample) there is a single term and the bounds are the eigenvalues; every extra time step adds
# $2t - 1$ terms, and the band widens with them.

# %%
def weyl_story(rnn, X, Z_target, layer, t):
    """Blocks at time t, the spectrum inside the Weyl band, band width for t = 1..tau."""
    r, tau = X.shape[:2]
    m, n = rnn.weights[layer - 1].shape
    widths = []
    for time in range(1, tau + 1):
        h = rnn.hessian(X, Z_target, layer=layer, t=time)
        eigenvalues = h.eigvalsh()
        spread = eigenvalues[-1] - eigenvalues[0]
        terms, norm = h.weyl_bounds(form="terms"), h.weyl_bounds(form="norm")
        widths.append((time, np.max(terms[1] - terms[0]), np.max(norm[1] - norm[0]), spread))

    hessian = rnn.hessian(X, Z_target, layer=layer, t=t)
    eigenvalues = hessian.eigvalsh()
    lower, upper = hessian.weyl_bounds(form="terms")
    inside = bool(np.all(lower <= eigenvalues + 1e-12) and np.all(eigenvalues <= upper + 1e-12))
    H_fd = fd_rnn_hessian(rnn, X, Z_target, layer, t)

    T = hessian.blocks.shape[1]
    blocks = hessian.blocks[0].reshape(T * m, T * m)
    grid = matrix_picture(blocks, f"M_(s,zeta) of sample 1, t = {t}", block=(m, m), width=320, height=300)
    q = np.arange(1, eigenvalues.size + 1)
    band = (
        hv.Area((q, lower, upper), "q", ["eigenvalue", "upper"], label="Weyl band (103)").opts(
            alpha=0.3, color="orange")
        * hv.Scatter((q, eigenvalues), "q", "eigenvalue", label="eigenvalues").opts(size=6, color="black")
    ).opts(width=360, height=350, title=f"spectrum of H_W^({layer},{t})", padding=0.05, **LEGEND_BELOW)
    growth = (
        hv.Curve([(a, b) for a, b, _, _ in widths], "output time t", "width", label="terms (103)")
        * hv.Curve([(a, c) for a, _, c, _ in widths], "output time t", "width", label="norm (107)-(108)")
        * hv.Curve([(a, d) for a, _, _, d in widths], "output time t", "width", label="spread of the spectrum").opts(
            line_dash="dashed", color="gray")
    ).opts(hv.opts.Curve(line_width=2), hv.opts.Overlay(
        width=360, height=350, title="max(upper - lower)", **LEGEND_BELOW))
    checks = check_table([
        ("r, tau, t", (r, tau, t)),
        ("Kronecker terms per sample", t * t),
        ("eigenvalues inside the bounds", inside),
        ("max |H - H_fd|", f"{np.abs(hessian.dense() - H_fd).max():.1e}"),
        ("band width at t (terms)", f"{np.max(upper - lower):.3g}"),
    ])
    return (grid + band + growth + checks).cols(2).opts(shared_axes=False)


weyl_story(rnn, X, Z_target, layer=1, t=3)


# %% [markdown]
# ## Explore
#
# **width** is $m$ ($W^{(1)}$ is $m \times 3$), **batch** is $r$ (the bounds then run over every
# sample's terms), **time steps** is the output time $t$ drawn in the first two panels
# ($\tau = 6$ in the third), **activation** and **seed** change $f$ and the draw.

# %%
def explore(width=4, batch=1, time_steps=3, activation="tanh", seed=0):
    rnn = RNN.random((3, width, 2), activation=activation, seed=seed)
    data = np.random.default_rng(seed)
    X = data.standard_normal((batch, 6, 3))
    Z_target = data.standard_normal((batch, 6, 2))
    return weyl_story(rnn, X, Z_target, layer=1, t=time_steps)


explorer = widgets.interactive(
    explore,
    {"auto_display": True},  # show what explore returns, as widgets.interact does
    width=widgets.IntSlider(value=4, min=1, max=6, description="width m", continuous_update=False),
    batch=widgets.IntSlider(value=1, min=1, max=3, description="batch r", continuous_update=False),
    time_steps=widgets.IntSlider(value=3, min=1, max=6, description="time step t", continuous_update=False),
    activation=widgets.Dropdown(options=["tanh", "sigmoid", "relu", "softplus", "identity"], value="tanh",
                                description="activation"),
    seed=widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False),
)
explorer

# %% [markdown]
# **What to take away.** The RNN weight Hessian keeps the Kronecker form, with $t^2$ terms per
# sample instead of one. The bound of (103) is cheap (it needs only the $m \times m$ matrices and
# the norms of the inputs) but it loosens as terms accumulate with $t$; the norm form (108) is
# looser still.
