# %% [markdown]
# # 3. RNNs: back-propagation through time and the rank-$t$ gradient
#
# Naumov (2017), Section 4.2, Lemma 2 and Corollary 3. The claim: for the loss at output time $t$,
# the weight gradient is a sum of $t$ outer products (one per time step), so it has rank at most $t$
# for one sample and at most $rt$ for a mini-batch.
#
# Conventions: inputs are `X` of shape $(r, \tau, N)$ (samples, time steps, features); times are
# 1-based, $1 \le t \le \tau$; the loss at output time $t$ is
# $\mathcal{E}^{(t)} = \frac{1}{2r}\sum_p \|\mathbf{z}^*_{p,t} - \mathbf{z}^{(l,t)}_p\|^2$ (eq. 49).

# %% [markdown]
# ## The claim
#
# Forward propagation, eq. (47)-(48):
# $\mathbf{z}^{(k,s)} = \mathbf{f}(\mathbf{y}^{(k,s)})$,
# $\mathbf{y}^{(k,s)} = W^{(k)}\mathbf{z}^{(k-1,s)} + U^{(k)}\mathbf{z}^{(k,s-1)} + \mathbf{b}^{(k)}$, with
# $\mathbf{z}^{(k,0)} = \mathbf{0}$.
#
# **Lemma 2.**
# $$G_w^{(k,t)} = \sum_{s=1}^t \tilde{\mathbf{v}}^{(k,t,s)}\mathbf{z}^{(k-1,s)T} \quad (55) \qquad G_u^{(k,t)} = \sum_{s=1}^t \tilde{\mathbf{v}}^{(k,t,s)}\mathbf{z}^{(k,s-1)T} \quad (56) \qquad G_b^{(k,t)} = \sum_{s=1}^t \tilde{\mathbf{v}}^{(k,t,s)} \quad (57)$$
# $$\tilde{\mathbf{v}}^{(k,t,s)} = \Big(\prod_{h=s}^{t-1} U^{(k)}\,\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(k,h)}))\Big)^T \mathbf{v}^{(k,t)} \qquad (58)$$
# with $\mathbf{v}^{(k,t)}$ propagated down the levels and back in time by (59)-(60).
#
# **Corollary 3.** For $r$ samples,
# $\Delta W^{(k)} = \sum_{s=1}^t \tilde V^{(k,s)} Z^{(k-1,s)T}$ (71) and
# $\Delta U^{(k)} = \sum_{s=1}^t \tilde V^{(k,s)} Z^{(k,s-1)T}$ (72): $rt$ outer products, rank $\le rt$.
#
# One detail the figures below show: since $\mathbf{z}^{(k,0)} = \mathbf{0}$, the $s = 1$ term of
# (56) vanishes, so $G_u^{(k,t)}$ has rank at most $r(t-1)$.

# %%
import holoviews as hv
import ipywidgets as widgets
import numpy as np

from hessian_core import RNN, numerical_rank, singular_values

from nbhelpers import LEGEND_BELOW, check_table, inline_panel_stylesheets, log_ticks

hv.extension("bokeh", inline=True)  # BokehJS from the installed package: the plots work offline
inline_panel_stylesheets()  # and Panel's stylesheets too (nbhelpers)

# %% [markdown]
# ## One sample, output time $t = 4$
#
# A two-level RNN with sizes $(N, m_1, M) = (8, 10, 3)$: we study level 1, whose $W^{(1)}$ is
# $10 \times 8$ and $U^{(1)}$ is $10 \times 10$; level 2 produces the output. `gradient.factors("W")`
# returns the exact BPTT adjoints $V = [\mathbf{g}^{(1,1)}, \dots, \mathbf{g}^{(1,t)}]$,
# $\mathbf{g}^{(1,s)} = \partial\mathcal{E}^{(t)}/\partial\mathbf{y}^{(1,s)}$ (the $\tilde{\mathbf{v}}^{(1,t,s)}$ of
# (58), with the paths through level 2's feedback included, see notebook 5) and
# $Z = [\mathbf{z}^{(0,1)}, \dots, \mathbf{z}^{(0,t)}]$: $t$ columns each.

# %%
rnn = RNN.random((8, 10, 3), activation="tanh", seed=0)
rng = np.random.default_rng(0)
tau = 6
X = rng.standard_normal((1, tau, 8))
Z_target = rng.standard_normal((1, tau, 3))
k, t = 1, 4

gradient = rnn.gradient(X, Z_target, layer=k, t=t)
V, Z = gradient.factors("W")
print("G_W:", gradient.W.shape, " V:", V.shape, " Z:", Z.shape)
print("max |G_W - V Z^T| =", np.abs(gradient.W - V @ Z.T).max())
print("rank G_W =", numerical_rank(gradient.W), " (t =", t, ");  rank G_U =", numerical_rank(gradient.U),
      " (t - 1 =", t - 1, ")")

# %% [markdown]
# ## Check against finite differences
#
# $G_w^{(1,t)}$ and $G_u^{(1,t)}$ from central differences of $\mathcal{E}^{(t)}$ alone.

# %%
from nbhelpers import central_difference_gradient, rnn_layer_loss

for wrt, G in (("W", gradient.W), ("U", gradient.U)):
    start = (rnn.weights if wrt == "W" else rnn.recurrent)[k - 1].reshape(-1)
    G_fd = central_difference_gradient(rnn_layer_loss(rnn, X, Z_target, k, t, wrt), start)
    error = np.abs(G_fd - G.reshape(-1)).max()
    print(f"max |G_{wrt} - G_fd| = {error:.1e}")
    assert error < 1e-7


# %% [markdown]
# ## Rank as $t$ grows, and what truncation does
#
# Left: the rank of $G_w^{(1,t)}$ and $G_u^{(1,t)}$ for $t = 1, \dots, \tau$ against $\min(rt, m, n)$.
# Middle: the singular values of $G_w$. Right: **truncated** BPTT with window $K$
# (`rnn.gradient(..., truncate=K)`) holds the states $K$ steps before the output time constant, so
# only the time steps $s = t-K+1, \dots, t$ receive an adjoint and eq. (55) keeps its last $K$ terms:
# a gradient of rank at most $rK$ whose relative error is what the dropped, earlier time steps
# contributed. While the products $U\,\mathrm{diag}(\mathbf{f}')$ in (58) shrink vectors, the error
# decays geometrically in $K$; at $K = t$ it is zero.

# %%
def bptt_story(rnn, X, Z_target, layer):
    """Rank of G_W, G_U for t = 1..tau, singular values, and truncated BPTT at t = tau."""
    r, tau = X.shape[:2]
    m, n = rnn.weights[layer - 1].shape
    ranks, points = [], []
    for t in range(1, tau + 1):
        g = rnn.gradient(X, Z_target, layer=layer, t=t)
        ranks.append((t, numerical_rank(g.W), numerical_rank(g.U), min(r * t, m, n)))
        points += [(t, max(s, 1e-18), i + 1) for i, s in enumerate(singular_values(g.W))]

    g = rnn.gradient(X, Z_target, layer=layer, t=tau)
    truncation = []
    for K in range(1, tau + 1):
        G_K = rnn.gradient(X, Z_target, layer=layer, t=tau, truncate=K).W
        error = np.linalg.norm(G_K - g.W) / (np.linalg.norm(g.W) or 1.0)
        truncation.append((K, error, numerical_rank(G_K)))

    rank = (
        hv.Curve([(t, a) for t, a, _, _ in ranks], "output time t", "rank", label="rank G_W").opts(line_width=5)
        * hv.Curve([(t, b) for t, _, b, _ in ranks], "output time t", "rank", label="rank G_U").opts(line_width=3)
        * hv.Curve([(t, c) for t, _, _, c in ranks], "output time t", "rank", label="min(rt, m, n)").opts(
            line_dash="dashed", color="black", line_width=2)
    ).opts(width=360, height=350, title=f"rank, r = {r}", padding=0.05, **LEGEND_BELOW)
    spectrum = hv.Scatter(points, "output time t", ["singular value", "index"]).opts(
        logy=True, color="index", cmap="viridis", size=7, width=360, height=350,
        title=f"singular values of G_W^({layer},t)", tools=["hover"])
    dropped = [(K, e) for K, e, _ in truncation[:-1]]     # K = tau keeps every term: error 0
    truncated = (
        hv.Curve(dropped, "kept time steps K", "relative error")
        * hv.Scatter(dropped, "kept time steps K", "relative error").opts(size=7)
    ).opts(hv.opts.Curve(line_width=2), hv.opts.Overlay(
        logy=True, yticks=log_ticks([e for _, e in dropped]), width=360, height=300, padding=0.05,
        title=f"truncated BPTT at t = {tau} (K < t)"))

    G_fd = central_difference_gradient(
        rnn_layer_loss(rnn, X, Z_target, layer, tau), rnn.weights[layer - 1].reshape(-1))
    checks = check_table([
        ("r, tau", (r, tau)),
        ("rank G_W at t = tau", ranks[-1][1]),
        ("bound min(r tau, m, n)", ranks[-1][3]),
        ("rank G_U at t = tau", ranks[-1][2]),
        ("rank of the K = 1 truncation", truncation[0][2]),
        ("error of the K = tau truncation", f"{truncation[-1][1]:.1e}"),
        ("max |G_W - G_fd| at t = tau", f"{np.abs(g.W.reshape(-1) - G_fd).max():.1e}"),
    ])
    return (rank + spectrum + truncated + checks).cols(2).opts(shared_axes=False)


bptt_story(rnn, X, Z_target, layer=1)


# %% [markdown]
# ## Explore
#
# **width** is $m$ of level 1 ($W^{(1)}$ is $m \times 8$: the rank saturates at $\min(m, 8)$);
# **batch** is $r$ (the rank grows by $r$ per time step); **time steps** is $\tau$, the last output
# time; **activation** and **seed** change $f$ and the draw. ReLU can lower the rank: a unit inactive
# at every step contributes a zero row.

# %%
def explore(width=10, batch=1, time_steps=6, activation="tanh", seed=0):
    rnn = RNN.random((8, width, 3), activation=activation, seed=seed)
    data = np.random.default_rng(seed)
    X = data.standard_normal((batch, time_steps, 8))
    Z_target = data.standard_normal((batch, time_steps, 3))
    return bptt_story(rnn, X, Z_target, layer=1)


explorer = widgets.interactive(
    explore,
    {"auto_display": True},  # show what explore returns, as widgets.interact does
    width=widgets.IntSlider(value=10, min=2, max=12, description="width m", continuous_update=False),
    batch=widgets.IntSlider(value=1, min=1, max=4, description="batch r", continuous_update=False),
    time_steps=widgets.IntSlider(value=6, min=1, max=10, description="time steps", continuous_update=False),
    activation=widgets.Dropdown(options=["tanh", "sigmoid", "relu", "softplus", "identity"], value="tanh",
                                description="activation"),
    seed=widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False),
)
explorer

# %% [markdown]
# **What to take away.** Through time, each sample contributes one rank-1 term per step, and the
# gradient of a mini-batch is a product through an inner dimension $rt$ (eq. 71-72). Truncating BPTT
# drops the oldest terms; how much that costs depends on how fast the products of
# $U\,\mathrm{diag}(\mathbf{f}')$ in eq. (58) decay.
