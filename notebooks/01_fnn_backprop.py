# %% [markdown]
# # 1. FNN back-propagation in matrix form: the gradient is rank 1 per sample
#
# Naumov (2017), Section 3.2, Lemma 1 and Corollary 1. The claim: the gradient of the loss with
# respect to the weights of one level is an outer product of two vectors, so it has rank 1 for one
# sample and rank at most $r$ for a mini-batch of $r$ samples.
#
# Conventions of `hessian_core` (and of this notebook): levels are 1-based as in the paper
# (`layer=k` is $W^{(k)}$, stored in `weights[k-1]` with shape $m \times n$); samples are **rows**
# (`X` is $r \times N$, the transpose of the paper's $X^*$); the loss is the paper's scaled loss
# averaged over the batch, $\mathcal{E} = \frac{1}{2r}\sum_{p=1}^r \|\mathbf{z}^*_p - \mathbf{z}^{(l)}_p\|_2^2$,
# so every $\mathbf{v}$ below carries a factor $1/r$.

# %% [markdown]
# ## The claim
#
# Forward propagation, eq. (10)-(11): $\mathbf{z}^{(k)} = \mathbf{f}(\mathbf{y}^{(k)})$,
# $\mathbf{y}^{(k)} = W^{(k)}\mathbf{z}^{(k-1)} + \mathbf{b}^{(k)}$, $\mathbf{z}^{(0)} = \mathbf{x}^*$.
#
# **Lemma 1.** For one sample,
# $$G_w^{(k)} = \mathbf{v}^{(k)}\mathbf{z}^{(k-1)T} \quad\text{(rank-1 matrix)} \qquad (16) \qquad\qquad G_b^{(k)} = \mathbf{v}^{(k)} \qquad (17)$$
# with the error propagated backwards,
# $$\mathbf{v}^{(l)} = -(\mathbf{z}^* - \mathbf{z}^{(l)}) \circ \mathbf{f}'(\mathbf{y}^{(l)}) \qquad (18) \qquad\qquad \mathbf{v}^{(k-1)} = (W^{(k)T}\mathbf{v}^{(k)}) \circ \mathbf{f}'(\mathbf{y}^{(k-1)}) \qquad (19)$$
#
# **Corollary 1.** For a mini-batch of $r$ samples the update is
# $$\Delta W^{(k)} = V^{(k)} Z^{(k-1)T}, \qquad V^{(k)} = [\mathbf{v}^{(k)}_1, \dots, \mathbf{v}^{(k)}_r],\ Z^{(k-1)} = [\mathbf{z}^{(k-1)}_1, \dots, \mathbf{z}^{(k-1)}_r] \qquad (26)$$
# a product through an inner dimension $r$: its rank is at most $\min(r, m, n)$.

# %%
import holoviews as hv
import ipywidgets as widgets
import numpy as np

from hessian_core import FNN, numerical_rank, singular_values

from nbhelpers import LEGEND_BELOW, check_table, inline_panel_stylesheets, matrix_picture

hv.extension("bokeh", inline=True)  # BokehJS from the installed package: the plots work offline
inline_panel_stylesheets()  # and Panel's stylesheets too (nbhelpers)

# %% [markdown]
# ## One sample: $\mathbf{v}$ and $\mathbf{z}$
#
# A network with $N = 6$ inputs, two hidden levels of width 8 and $M = 3$ outputs. We look at
# level $k = 2$, whose weight matrix $W^{(2)}$ is $8 \times 8$. `gradient.factors()` returns the
# two factors of eq. (16)/(26): `V` holds the $\mathbf{v}$'s and `Z` the $\mathbf{z}$'s as columns.

# %%
net = FNN.random((6, 8, 8, 3), activation="tanh", seed=0)
rng = np.random.default_rng(0)
x = rng.standard_normal((1, 6))          # one sample: a row
z_target = rng.standard_normal((1, 3))
k = 2

gradient = net.gradient(x, z_target, layer=k)
V, Z = gradient.factors()
print("G_W^(2):", gradient.W.shape, "  V:", V.shape, "  Z:", Z.shape)
print("max |G - V Z^T| =", np.abs(gradient.W - V @ Z.T).max())
print("numerical rank of G:", numerical_rank(gradient.W))

# %% [markdown]
# The same vector $\mathbf{v}^{(2)}$ by hand, straight from eq. (18)-(19), with
# $\tanh'(y) = 1 - \tanh^2(y)$. `forward.pre_activations` is $[\mathbf{y}^{(1)}, \dots, \mathbf{y}^{(l)}]$
# and `forward.activations` is $[\mathbf{z}^{(0)}, \dots, \mathbf{z}^{(l)}]$.

# %%
forward = net.forward(x)
y = [Y[0] for Y in forward.pre_activations]   # y[j-1] is y^(j)
z = [Zj[0] for Zj in forward.activations]      # z[j] is z^(j)
l = net.n_layers


def tanh_prime(y):
    return 1 - np.tanh(y) ** 2


v = -(z_target[0] - z[l]) * tanh_prime(y[l - 1])                 # eq. (18)
for level in range(l, k, -1):                                     # eq. (19), down to level k
    v = (net.weights[level - 1].T @ v) * tanh_prime(y[level - 2])
G_by_hand = np.outer(v, z[k - 1])                                 # eq. (16)
print("max |G(by hand) - G(hessian_core)| =", np.abs(G_by_hand - gradient.W).max())

# %% [markdown]
# ## Check against finite differences
#
# The reference uses nothing but the loss: each entry of $G_w^{(2)}$ is a central difference
# $(\mathcal{E}(w + h e_i) - \mathcal{E}(w - h e_i)) / 2h$ in the row-major order of
# $\mathrm{vec}(W^{(2)})$ (entry $i n + j$ is $w_{ij}$).

# %%
from nbhelpers import central_difference_gradient, fnn_layer_loss

G_fd = central_difference_gradient(fnn_layer_loss(net, x, z_target, k), net.weights[k - 1].reshape(-1))
error = np.abs(G_fd - gradient.W.reshape(-1)).max()
print(f"max |G - G_fd| = {error:.2e}")
assert error < 1e-7


# %% [markdown]
# ## A mini-batch: rank $r$ (Corollary 1)
#
# For the first $r$ samples of a batch, the singular values of $G_w^{(2)} = V Z^T$: exactly $r$ of
# them are above round-off while $r \le \min(m, n) = 8$; from then on the rank stays at 8. The
# numerical rank counts singular values above $\max(m, n)\,\varepsilon\,\sigma_{\max}$, the dashed line.
# The function below draws the whole story for any network and batch; the explorer at the end
# calls it again with your settings.

# %%
def rank_story(net, X, Z_target, layer):
    """Singular values and rank of G_W^(layer) for the first r samples, r = 1..len(X)."""
    m, n = net.weights[layer - 1].shape
    points, ranks, tolerances = [], [], []
    for r in range(1, len(X) + 1):
        G = net.gradient(X[:r], Z_target[:r], layer=layer).W
        sigma = singular_values(G)
        points += [(r, max(s, 1e-18), i + 1) for i, s in enumerate(sigma)]
        ranks.append((r, numerical_rank(G), min(r, m, n)))
        tolerances.append((r, max(m, n) * np.finfo(float).eps * sigma[0]))

    spectrum = hv.Scatter(points, "batch size r", ["singular value", "index"]).opts(
        logy=True, color="index", cmap="viridis", size=7, width=380, height=350, tools=["hover"],
    ) * hv.Curve(tolerances, "batch size r", "singular value").opts(line_dash="dashed", color="gray")
    spectrum = spectrum.opts(title=f"singular values of G_W^({layer}), {m} x {n}", show_legend=False)
    rank = (
        hv.Curve([(r, q) for r, q, _ in ranks], "batch size r", "rank", label="numerical rank").opts(
            color="black", line_width=3
        )
        * hv.Curve([(r, b) for r, _, b in ranks], "batch size r", "rank", label="min(r, m, n)").opts(
            color="orange", line_dash="dashed", line_width=2
        )
    ).opts(width=380, height=350, title="rank of the batch gradient", **LEGEND_BELOW)

    G = net.gradient(X, Z_target, layer=layer).W
    G_fd = central_difference_gradient(fnn_layer_loss(net, X, Z_target, layer), net.weights[layer - 1].reshape(-1))
    checks = check_table([
        ("batch size r", len(X)),
        ("rank of G_W", numerical_rank(G)),
        ("bound min(r, m, n)", min(len(X), m, n)),
        ("max |G - G_fd|", f"{np.abs(G.reshape(-1) - G_fd).max():.1e}"),
    ])
    image = matrix_picture(G, f"G_W^({layer}) = V Z^T, whole batch")
    return (spectrum + rank + image + checks).cols(2).opts(shared_axes=False)


X = rng.standard_normal((10, 6))
Z_target = rng.standard_normal((10, 3))
rank_story(net, X, Z_target, layer=2)


# %% [markdown]
# ## Explore
#
# Every control rebuilds the network and the batch and redraws: the **width** of the hidden levels
# sets $m = n$ of $W^{(2)}$ (where the rank saturates), **batch** the largest $r$, **activation**
# the function $f$ (ReLU zeroes rows of $V$ for inactive units, which can lower the rank below $r$),
# and **seed** the weights and data.

# %%
def explore(width=8, batch=10, activation="tanh", seed=0):
    net = FNN.random((6, width, width, 3), activation=activation, seed=seed)
    data = np.random.default_rng(seed)
    X = data.standard_normal((batch, 6))
    Z_target = data.standard_normal((batch, 3))
    return rank_story(net, X, Z_target, layer=2)


explorer = widgets.interactive(
    explore,
    {"auto_display": True},  # show what explore returns, as widgets.interact does
    width=widgets.IntSlider(value=8, min=2, max=12, description="width", continuous_update=False),
    batch=widgets.IntSlider(value=10, min=1, max=16, description="batch r", continuous_update=False),
    activation=widgets.Dropdown(options=["tanh", "sigmoid", "relu", "softplus", "identity"], value="tanh",
                                description="activation"),
    seed=widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False),
)
explorer

# %% [markdown]
# **What to take away.** Back-propagation never needs the $m \times n$ gradient as such: it is
# $V Z^T$ with $r$ columns each, and that is what a rank-$r$ update means (eq. 26). Notebook 3 shows
# the same for RNNs, where each sample contributes one column per time step.
