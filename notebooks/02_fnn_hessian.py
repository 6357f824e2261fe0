# %% [markdown]
# # 2. The FNN Hessian as a Kronecker product
#
# Naumov (2017), Section 3.3: Theorem 1, Corollary 2 and eq. (45)-(46). The claim: the Hessian of
# the loss with respect to $\mathrm{vec}(W^{(k)})$ is a Kronecker product of a small $m \times m$
# matrix with the rank-1 matrix $\mathbf{z}\mathbf{z}^T$, so its $mn$ eigenvalues follow from the
# $m$ eigenvalues of the small matrix.
#
# Conventions: $\mathrm{vec}(W)$ is row-major (`W.reshape(-1)`, entry $i n + j$ is $w_{ij}$), the
# order in which $C \otimes (\mathbf{z}\mathbf{z}^T)$ is the Hessian exactly as written; the loss
# is $\mathcal{E} = \frac{1}{2r}\sum_p \|\mathbf{z}^*_p - \mathbf{z}^{(l)}_p\|^2$, so the small
# matrices carry a factor $1/r$.

# %% [markdown]
# ## The claim
#
# **Theorem 1.** For one sample
# $$H_w^{(k)} = \left(C^{(k)} \circ F^{(k)} + D^{(k)}\right) \otimes \left(\mathbf{z}^{(k-1)}\mathbf{z}^{(k-1)T}\right) \qquad (28) \qquad\qquad H_b^{(k)} = C^{(k)} \circ F^{(k)} + D^{(k)} \qquad (29)$$
# with $F^{(k)} = \mathbf{f}'(\mathbf{y}^{(k)})\mathbf{f}'(\mathbf{y}^{(k)})^T$ (30), $D^{(k)} = \mathrm{diag}(\mathbf{v}^{(k)})$ (31),
# $C^{(l)} = I \circ F^{(l)}$ (32) and $C^{(k-1)} = W^{(k)T}\left(C^{(k)} \circ F^{(k)} + D^{(k)}\right)W^{(k)}$ (33).
#
# **What `hessian_core` computes** (`formula="exact"`): the same Kronecker structure, with the
# small matrix $M^{(k)} = \partial^2\mathcal{E}/\partial\mathbf{y}^{(k)}\partial\mathbf{y}^{(k)}$:
# $$Q^{(l)} = I/r,\quad M^{(k)} = Q^{(k)} \circ F^{(k)} + \mathrm{diag}\!\left(\mathbf{a}^{(k)} \circ \mathbf{f}''(\mathbf{y}^{(k)})\right),\quad Q^{(k-1)} = W^{(k)T} M^{(k)} W^{(k)},\quad H_w^{(k)} = \sum_{p=1}^r M^{(k)}_p \otimes \mathbf{z}^{(k-1)}_p\mathbf{z}^{(k-1)T}_p$$
# with $\mathbf{a}^{(k)} = \partial\mathcal{E}/\partial\mathbf{z}^{(k)}$. It differs from eq. (32) and
# (34)-(35) for smooth activations (notebook 5); `formula="paper"` evaluates the paper literally.
#
# **Corollary 2 (ReLU).** $f'' = 0$ and $f' \in \{0, 1\}$, and both forms reduce to
# $H_w^{(k)} = \tilde C^{(k)} \otimes \mathbf{z}^{(k-1)}\mathbf{z}^{(k-1)T}$ (43) with
# $\tilde C^{(k-1)} = W^{(k)T}\tilde C^{(k)}W^{(k)} \circ F^{(k-1)}$ (44).
#
# **Eigenvalues**, from $\lambda(A \otimes B) = \lambda_i(A)\lambda_j(B)$ (45) and the single nonzero
# eigenvalue $\|\mathbf{z}\|^2$ of $\mathbf{z}\mathbf{z}^T$:
# $$\lambda_q(H_w^{(k)}) = \left\{0,\ \|\mathbf{z}^{(k-1)}\|_2^2\,\lambda_i(\tilde C^{(k)})\right\}, \quad \text{with 0 of multiplicity } (n-1)m. \qquad (46)$$

# %%
import holoviews as hv
import ipywidgets as widgets
import numpy as np

from hessian_core import FNN

from nbhelpers import LEGEND_BELOW, check_table, inline_panel_stylesheets, matrix_picture

hv.extension("bokeh", inline=True)  # BokehJS from the installed package: the plots work offline
inline_panel_stylesheets()  # and Panel's stylesheets too (nbhelpers)

# %% [markdown]
# ## One sample: the Kronecker product
#
# Level $k = 1$ of a network $4 \to 5 \to 3$ with sigmoid activations: $W^{(1)}$ is $5 \times 4$,
# so the Hessian is $20 \times 20$. `hessian.blocks[p, 0, :, 0, :]` is the small matrix of sample $p$
# and `hessian.inputs[p, 0]` its vector $\mathbf{z}^{(0)}_p$.

# %%
net = FNN.random((4, 5, 3), activation="sigmoid", seed=0)
rng = np.random.default_rng(0)
x = rng.standard_normal((1, 4))
z_target = rng.standard_normal((1, 3))
k = 1

hessian = net.hessian(x, z_target, layer=k)
C = hessian.blocks[0, 0, :, 0, :]     # m x m
z = hessian.inputs[0, 0]              # n
H = hessian.dense()
m, n = C.shape[0], z.size
print("H:", H.shape, "  C:", C.shape, "  z:", z.shape)
print("max |H - C kron z z^T| =", np.abs(H - np.kron(C, np.outer(z, z))).max())

# %% [markdown]
# ## Check against finite differences
#
# Each entry of the Hessian from four loss evaluations,
# $H_h = \left[\mathcal{E}(w + h e_i + h e_j) - \mathcal{E}(w + h e_i - h e_j) - \mathcal{E}(w - h e_i + h e_j) + \mathcal{E}(w - h e_i - h e_j)\right] / 4h^2$,
# at $h = 10^{-3}$ and $2h$, combined as $(4H_h - H_{2h})/3$ (Richardson extrapolation), which
# cancels the $O(h^2)$ error: about seven correct digits here.
# The paper's literal formula is checked the same way: for sigmoid it misses (notebook 5 says
# why); for ReLU (Corollary 2) it is exact.

# %%
from nbhelpers import fd_fnn_hessian

H_fd = fd_fnn_hessian(net, x, z_target, k)
H_paper = net.hessian(x, z_target, layer=k, formula="paper").dense()
print(f"sigmoid: max |H_exact - H_fd| = {np.abs(H - H_fd).max():.1e},"
      f"  max |H_paper - H_fd| = {np.abs(H_paper - H_fd).max():.1e}  (max |H| = {np.abs(H).max():.1e})")
assert np.abs(H - H_fd).max() < 1e-4 * np.abs(H).max()

relu_net = FNN.random((4, 5, 3), activation="relu", seed=0)
relu_exact = relu_net.hessian(x, z_target, layer=k).dense()
relu_paper = relu_net.hessian(x, z_target, layer=k, formula="paper").dense()
relu_fd = fd_fnn_hessian(relu_net, x, z_target, k)
print(f"relu:    max |H_exact - H_fd| = {np.abs(relu_exact - relu_fd).max():.1e},"
      f"  max |H_paper - H_exact| = {np.abs(relu_paper - relu_exact).max():.1e}")
assert np.abs(relu_exact - relu_fd).max() < 1e-4 * np.abs(relu_exact).max() and np.abs(relu_paper - relu_exact).max() < 1e-12

# %% [markdown]
# ## Eigenvalues from the small matrix (eq. 46)
#
# The $(n-1)m = 15$ zero eigenvalues and the $m = 5$ others, $\|\mathbf{z}\|^2\lambda_i(C)$, against
# the eigenvalues of the dense $20 \times 20$ matrix. `hessian.eigvalsh()` gets them the same way,
# from the factors, without forming $H$.

# %%
eq46 = np.sort(np.concatenate([np.zeros((n - 1) * m), z @ z * np.linalg.eigvalsh(C)]))
dense = np.linalg.eigvalsh(H)
print("max |eq. (46) - eig(H)| =", np.abs(eq46 - dense).max())
print("max |hessian.eigvalsh() - eig(H)| =", np.abs(hessian.eigvalsh() - dense).max())
print("zero eigenvalues:", int(np.sum(np.abs(dense) < 1e-12 * np.abs(dense).max())), " (n-1)m =", (n - 1) * m)


# %% [markdown]
# ## A mini-batch
#
# With $r$ samples $H_w^{(k)} = \sum_p M_p \otimes \mathbf{z}_p\mathbf{z}_p^T$ is no longer a single
# Kronecker product, but its nonzero eigenvalues still come from a small matrix of size
# $m\min(r, n)$ (the Gram reduction of `hessian_core.spectra`), and $m(n - \min(r, n))$ eigenvalues
# are exactly zero. The picture: $H$ with its $m \times m$ grid of $n \times n$ blocks
# (block $(i, g)$ is $\sum_p (M_p)_{ig}\,\mathbf{z}_p\mathbf{z}_p^T$), the small matrix of the first
# sample, and the spectrum three ways.

# %%
def hessian_story(net, X, Z_target, layer):
    """H_W^(layer) as an image, its first small matrix, its spectrum and the checks."""
    hessian = net.hessian(X, Z_target, layer=layer)
    H = hessian.dense()
    m, n = net.weights[layer - 1].shape
    r = len(X)
    dense = np.linalg.eigvalsh(H)
    factored = hessian.eigvalsh()
    H_fd = fd_fnn_hessian(net, X, Z_target, layer)
    paper = net.hessian(X, Z_target, layer=layer, formula="paper").dense()
    scale = np.abs(H).max() or 1.0      # a dead ReLU layer has H = 0
    zeros = int(np.sum(np.abs(dense) <= 1e-10 * np.abs(dense).max()))

    image = matrix_picture(H, f"H_W^({layer}): {m} x {m} grid of {n} x {n} blocks", block=(n, n), width=330, height=300)
    small = matrix_picture(hessian.blocks[0, 0, :, 0, :], "M of sample 1 (m x m)", width=280, height=250)
    index = np.arange(1, m * n + 1)
    spectrum = (
        hv.Scatter((index, dense), "q", "eigenvalue", label="eig of dense H").opts(size=11, color="lightgray")
        * hv.Scatter((index, np.linalg.eigvalsh(H_fd)), "q", "eigenvalue", label="eig of FD Hessian").opts(
            size=6, color="royalblue")
        * hv.Scatter((index, factored), "q", "eigenvalue", label="from the factors").opts(
            size=10, color="crimson", marker="x")
    ).opts(width=380, height=350, title="sorted eigenvalues", **LEGEND_BELOW)
    checks = check_table([
        ("H shape", H.shape),
        ("max |H - H_fd| / max |H|", f"{np.abs(H - H_fd).max() / scale:.1e}"),
        ("max |eig(factors) - eig(dense)|", f"{np.abs(factored - dense).max():.1e}"),
        ("zero eigenvalues", zeros),
        ("at least m (n - min(r, n))", m * (n - min(r, n))),
        ("max |paper - exact| / max |H|", f"{np.abs(paper - H).max() / scale:.1e}"),
    ])
    return (image + small + spectrum + checks).cols(2).opts(shared_axes=False)


X = rng.standard_normal((2, 4))
Z_target = rng.standard_normal((2, 3))
hessian_story(net, X, Z_target, layer=1)


# %% [markdown]
# ## Explore
#
# **width** is $m$, the number of units of level 1 ($W^{(1)}$ is $m \times 4$); **batch** is $r$
# (from $r \ge n = 4$ on there are no zero eigenvalues left); **activation** switches $f$ (ReLU makes
# the paper's formula exact, sigmoid and tanh do not); **seed** draws new weights and data.

# %%
def explore(width=5, batch=2, activation="sigmoid", seed=0):
    net = FNN.random((4, width, 3), activation=activation, seed=seed)
    data = np.random.default_rng(seed)
    X = data.standard_normal((batch, 4))
    Z_target = data.standard_normal((batch, 3))
    return hessian_story(net, X, Z_target, layer=1)


explorer = widgets.interactive(
    explore,
    {"auto_display": True},  # show what explore returns, as widgets.interact does
    width=widgets.IntSlider(value=5, min=1, max=8, description="width m", continuous_update=False),
    batch=widgets.IntSlider(value=2, min=1, max=6, description="batch r", continuous_update=False),
    activation=widgets.Dropdown(options=["sigmoid", "tanh", "relu", "softplus", "identity"], value="sigmoid",
                                description="activation"),
    seed=widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False),
)
explorer

# %% [markdown]
# **What to take away.** The $mn \times mn$ Hessian of a layer is carried by $r$ small $m \times m$
# matrices and $r$ vectors: whether it is positive definite, and how curved it is, can be read off
# matrices the size of the layer's output. For RNNs the same holds with $t^2$ terms per sample
# (notebook 4).
