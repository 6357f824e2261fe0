# ruff: noqa: E501  (the cells below keep the line lengths of notebook prose and code)
"""Write the notebooks of this folder, without outputs: ``python notebooks/generate.py``.

This script is the source of the ``.ipynb`` files: edit a notebook here, run the script and
commit both. ``tests/test_notebooks.py`` checks that the committed notebooks carry no outputs
and match what this script writes, then executes each one from top to bottom.

Each notebook is one short story about one result of M. Naumov, "Feedforward and Recurrent
Neural Networks Backward Propagation and Hessian in Matrix Form" (arXiv:1709.06080): the claim
in the paper's notation, the code that computes it with ``hessian_core``, a picture, a check
against central finite differences of the loss, and ipywidgets controls to play with.
"""

from __future__ import annotations

import sys
from pathlib import Path
from textwrap import dedent

import nbformat

HERE = Path(__file__).resolve().parent

# Shared opening and finite-difference cells. Each notebook carries its own copy of the
# finite-difference helper so that it stands alone (no import from the test tree).
SETUP = """\
import holoviews as hv
import ipywidgets as widgets
import numpy as np

hv.extension("bokeh", inline=True)  # BokehJS from the installed package: the plots work offline
"""

FINITE_DIFFERENCES = '''\
def central_difference_gradient(loss, w, h=1e-6):
    """d loss / d w by central differences: (loss(w + h e_i) - loss(w - h e_i)) / 2h."""
    gradient = np.empty(w.size)
    for i in range(w.size):
        step = np.zeros(w.size)
        step[i] = h
        gradient[i] = (loss(w + step) - loss(w - step)) / (2 * h)
    return gradient


def central_difference_hessian(loss, w, h=1e-3):
    """d^2 loss / dw_i dw_j from the loss alone: four-point central differences with steps h and
    2h, combined by Richardson extrapolation (4 H_h - H_2h) / 3, error O(h^4) + O(eps / h^2)."""
    n = w.size

    def four_point(step):
        e = np.eye(n) * step
        hessian = np.empty((n, n))
        for i in range(n):
            for j in range(i, n):
                hessian[i, j] = hessian[j, i] = (
                    loss(w + e[i] + e[j]) - loss(w + e[i] - e[j])
                    - loss(w - e[i] + e[j]) + loss(w - e[i] - e[j])
                ) / (4 * step * step)
        return hessian

    return (4 * four_point(h) - four_point(2 * h)) / 3


def check_table(rows):
    """A two-column table of named checks, shown beside the pictures."""
    return hv.Table([(name, str(value)) for name, value in rows], kdims=["check"], vdims=["value"]).opts(
        width=420, height=28 * (len(rows) + 1)
    )
'''

MATRIX_PICTURE = '''\
def matrix_picture(matrix, title, block=None, width=300, height=280):
    """A matrix as an image (row 0 at the top, symmetric colours), with a grid every block=(rows, cols)."""
    matrix = np.asarray(matrix, dtype=float)
    rows, cols = matrix.shape
    picture = hv.Image(matrix, bounds=(0, 0, cols, rows), kdims=["column", "row"], vdims=["value"]).opts(
        cmap="RdBu_r", symmetric=True, colorbar=True, xaxis=None, yaxis=None, tools=["hover"],
        width=width, height=height, axiswise=True,
    )
    if block is not None:
        every_row, every_col = block
        lines = hv.VLines(list(range(every_col, cols, every_col))) * hv.HLines(
            [rows - i for i in range(every_row, rows, every_row)])
        picture = picture * lines.opts(hv.opts.VLines(color="black", line_width=0.7, alpha=0.5),
                                       hv.opts.HLines(color="black", line_width=0.7, alpha=0.5))
    return picture.opts(title=title)
'''

FNN_LAYER_LOSS = '''\
def layer_loss(net, X, Z_target, layer):
    """E as a function of vec(W^(layer)) (row-major), every other parameter held fixed."""
    def loss(w):
        weights = list(net.weights)
        weights[layer - 1] = w.reshape(weights[layer - 1].shape)
        return FNN(weights, net.biases, net.activation, net.output_activation).loss(X, Z_target)
    return loss
'''

RNN_LAYER_LOSS = '''\
def layer_loss(rnn, X, Z_target, layer, t, wrt="W"):
    """E^(t) as a function of vec(W^(layer)) or vec(U^(layer)), the rest held fixed."""
    def loss(w):
        weights, recurrent = list(rnn.weights), list(rnn.recurrent)
        chosen = weights if wrt == "W" else recurrent
        chosen[layer - 1] = w.reshape(chosen[layer - 1].shape)
        return RNN(weights, recurrent, rnn.biases, rnn.activation, rnn.output_activation).loss(
            X, Z_target, t=t
        )
    return loss
'''


# ---------------------------------------------------------------------------------------
# 1. FNN back-propagation
# ---------------------------------------------------------------------------------------
NB1 = [
    ("md", r"""
# 1. FNN back-propagation in matrix form: the gradient is rank 1 per sample

Naumov (2017), Section 3.2, Lemma 1 and Corollary 1. The claim: the gradient of the loss with
respect to the weights of one level is an outer product of two vectors, so it has rank 1 for one
sample and rank at most $r$ for a mini-batch of $r$ samples.

Conventions of `hessian_core` (and of this notebook): levels are 1-based as in the paper
(`layer=k` is $W^{(k)}$, stored in `weights[k-1]` with shape $m \times n$); samples are **rows**
(`X` is $r \times N$, the transpose of the paper's $X^*$); the loss is the paper's scaled loss
averaged over the batch, $\mathcal{E} = \frac{1}{2r}\sum_{p=1}^r \|\mathbf{z}^*_p - \mathbf{z}^{(l)}_p\|_2^2$,
so every $\mathbf{v}$ below carries a factor $1/r$.
"""),
    ("md", r"""
## The claim

Forward propagation, eq. (10)-(11): $\mathbf{z}^{(k)} = \mathbf{f}(\mathbf{y}^{(k)})$,
$\mathbf{y}^{(k)} = W^{(k)}\mathbf{z}^{(k-1)} + \mathbf{b}^{(k)}$, $\mathbf{z}^{(0)} = \mathbf{x}^*$.

**Lemma 1.** For one sample,
$$G_w^{(k)} = \mathbf{v}^{(k)}\mathbf{z}^{(k-1)T} \quad\text{(rank-1 matrix)} \qquad (16) \qquad\qquad G_b^{(k)} = \mathbf{v}^{(k)} \qquad (17)$$
with the error propagated backwards,
$$\mathbf{v}^{(l)} = -(\mathbf{z}^* - \mathbf{z}^{(l)}) \circ \mathbf{f}'(\mathbf{y}^{(l)}) \qquad (18) \qquad\qquad \mathbf{v}^{(k-1)} = (W^{(k)T}\mathbf{v}^{(k)}) \circ \mathbf{f}'(\mathbf{y}^{(k-1)}) \qquad (19)$$

**Corollary 1.** For a mini-batch of $r$ samples the update is
$$\Delta W^{(k)} = V^{(k)} Z^{(k-1)T}, \qquad V^{(k)} = [\mathbf{v}^{(k)}_1, \dots, \mathbf{v}^{(k)}_r],\ Z^{(k-1)} = [\mathbf{z}^{(k-1)}_1, \dots, \mathbf{z}^{(k-1)}_r] \qquad (26)$$
a product through an inner dimension $r$: its rank is at most $\min(r, m, n)$.
"""),
    ("code", SETUP + """
from hessian_core import FNN, numerical_rank, singular_values
""" + "\n\n" + MATRIX_PICTURE),
    ("md", r"""
## One sample: $\mathbf{v}$ and $\mathbf{z}$

A network with $N = 6$ inputs, two hidden levels of width 8 and $M = 3$ outputs. We look at
level $k = 2$, whose weight matrix $W^{(2)}$ is $8 \times 8$. `gradient.factors()` returns the
two factors of eq. (16)/(26): `V` holds the $\mathbf{v}$'s and `Z` the $\mathbf{z}$'s as columns.
"""),
    ("code", """
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
"""),
    ("md", r"""
The same vector $\mathbf{v}^{(2)}$ by hand, straight from eq. (18)-(19), with
$\tanh'(y) = 1 - \tanh^2(y)$. `forward.pre_activations` is $[\mathbf{y}^{(1)}, \dots, \mathbf{y}^{(l)}]$
and `forward.activations` is $[\mathbf{z}^{(0)}, \dots, \mathbf{z}^{(l)}]$.
"""),
    ("code", """
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
"""),
    ("md", r"""
## Check against finite differences

The reference uses nothing but the loss: each entry of $G_w^{(2)}$ is a central difference
$(\mathcal{E}(w + h e_i) - \mathcal{E}(w - h e_i)) / 2h$ in the row-major order of
$\mathrm{vec}(W^{(2)})$ (entry $i n + j$ is $w_{ij}$).
"""),
    ("code", FINITE_DIFFERENCES + "\n\n" + FNN_LAYER_LOSS + """

G_fd = central_difference_gradient(layer_loss(net, x, z_target, k), net.weights[k - 1].reshape(-1))
error = np.abs(G_fd - gradient.W.reshape(-1)).max()
print(f"max |G - G_fd| = {error:.2e}")
assert error < 1e-7
"""),
    ("md", r"""
## A mini-batch: rank $r$ (Corollary 1)

For the first $r$ samples of a batch, the singular values of $G_w^{(2)} = V Z^T$: exactly $r$ of
them are above round-off while $r \le \min(m, n) = 8$; from then on the rank stays at 8. The
numerical rank counts singular values above $\max(m, n)\,\varepsilon\,\sigma_{\max}$, the dashed line.
The function below draws the whole story for any network and batch; the explorer at the end
calls it again with your settings.
"""),
    ("code", """
def rank_story(net, X, Z_target, layer):
    \"\"\"Singular values and rank of G_W^(layer) for the first r samples, r = 1..len(X).\"\"\"
    m, n = net.weights[layer - 1].shape
    points, ranks, tolerances = [], [], []
    for r in range(1, len(X) + 1):
        G = net.gradient(X[:r], Z_target[:r], layer=layer).W
        sigma = singular_values(G)
        points += [(r, max(s, 1e-18), i + 1) for i, s in enumerate(sigma)]
        ranks.append((r, numerical_rank(G), min(r, m, n)))
        tolerances.append((r, max(m, n) * np.finfo(float).eps * sigma[0]))

    spectrum = hv.Scatter(points, "batch size r", ["singular value", "index"]).opts(
        logy=True, color="index", cmap="viridis", size=7, width=380, height=300, tools=["hover"],
    ) * hv.Curve(tolerances, "batch size r", "singular value").opts(line_dash="dashed", color="gray")
    spectrum = spectrum.opts(title=f"singular values of G_W^({layer}), {m} x {n}", show_legend=False)
    rank = (
        hv.Curve([(r, q) for r, q, _ in ranks], "batch size r", "rank", label="numerical rank").opts(
            color="black", line_width=3
        )
        * hv.Curve([(r, b) for r, _, b in ranks], "batch size r", "rank", label="min(r, m, n)").opts(
            color="orange", line_dash="dashed", line_width=2
        )
    ).opts(width=330, height=300, title="rank of the batch gradient", legend_position="bottom_right")

    G = net.gradient(X, Z_target, layer=layer).W
    G_fd = central_difference_gradient(layer_loss(net, X, Z_target, layer), net.weights[layer - 1].reshape(-1))
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
"""),
    ("md", r"""
## Explore

Every control rebuilds the network and the batch and redraws: the **width** of the hidden levels
sets $m = n$ of $W^{(2)}$ (where the rank saturates), **batch** the largest $r$, **activation**
the function $f$ (ReLU zeroes rows of $V$ for inactive units, which can lower the rank below $r$),
and **seed** the weights and data.
"""),
    ("code", """
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
"""),
    ("md", r"""
**What to take away.** Back-propagation never needs the $m \times n$ gradient as such: it is
$V Z^T$ with $r$ columns each, and that is what a rank-$r$ update means (eq. 26). Notebook 3 shows
the same for RNNs, where each sample contributes one column per time step.
"""),
]


# ---------------------------------------------------------------------------------------
# 2. FNN Hessian
# ---------------------------------------------------------------------------------------
NB2 = [
    ("md", r"""
# 2. The FNN Hessian as a Kronecker product

Naumov (2017), Section 3.3: Theorem 1, Corollary 2 and eq. (45)-(46). The claim: the Hessian of
the loss with respect to $\mathrm{vec}(W^{(k)})$ is a Kronecker product of a small $m \times m$
matrix with the rank-1 matrix $\mathbf{z}\mathbf{z}^T$, so its $mn$ eigenvalues follow from the
$m$ eigenvalues of the small matrix.

Conventions: $\mathrm{vec}(W)$ is row-major (`W.reshape(-1)`, entry $i n + j$ is $w_{ij}$), the
order in which $C \otimes (\mathbf{z}\mathbf{z}^T)$ is the Hessian exactly as written; the loss
is $\mathcal{E} = \frac{1}{2r}\sum_p \|\mathbf{z}^*_p - \mathbf{z}^{(l)}_p\|^2$, so the small
matrices carry a factor $1/r$.
"""),
    ("md", r"""
## The claim

**Theorem 1.** For one sample
$$H_w^{(k)} = \left(C^{(k)} \circ F^{(k)} + D^{(k)}\right) \otimes \left(\mathbf{z}^{(k-1)}\mathbf{z}^{(k-1)T}\right) \qquad (28) \qquad\qquad H_b^{(k)} = C^{(k)} \circ F^{(k)} + D^{(k)} \qquad (29)$$
with $F^{(k)} = \mathbf{f}'(\mathbf{y}^{(k)})\mathbf{f}'(\mathbf{y}^{(k)})^T$ (30), $D^{(k)} = \mathrm{diag}(\mathbf{v}^{(k)})$ (31),
$C^{(l)} = I \circ F^{(l)}$ (32) and $C^{(k-1)} = W^{(k)T}\left(C^{(k)} \circ F^{(k)} + D^{(k)}\right)W^{(k)}$ (33).

**What `hessian_core` computes** (`formula="exact"`): the same Kronecker structure, with the
small matrix $M^{(k)} = \partial^2\mathcal{E}/\partial\mathbf{y}^{(k)}\partial\mathbf{y}^{(k)}$:
$$Q^{(l)} = I/r,\quad M^{(k)} = Q^{(k)} \circ F^{(k)} + \mathrm{diag}\!\left(\mathbf{a}^{(k)} \circ \mathbf{f}''(\mathbf{y}^{(k)})\right),\quad Q^{(k-1)} = W^{(k)T} M^{(k)} W^{(k)},\quad H_w^{(k)} = \sum_{p=1}^r M^{(k)}_p \otimes \mathbf{z}^{(k-1)}_p\mathbf{z}^{(k-1)T}_p$$
with $\mathbf{a}^{(k)} = \partial\mathcal{E}/\partial\mathbf{z}^{(k)}$. It differs from eq. (32) and
(34)-(35) for smooth activations (notebook 5); `formula="paper"` evaluates the paper literally.

**Corollary 2 (ReLU).** $f'' = 0$ and $f' \in \{0, 1\}$, and both forms reduce to
$H_w^{(k)} = \tilde C^{(k)} \otimes \mathbf{z}^{(k-1)}\mathbf{z}^{(k-1)T}$ (43) with
$\tilde C^{(k-1)} = W^{(k)T}\tilde C^{(k)}W^{(k)} \circ F^{(k-1)}$ (44).

**Eigenvalues**, from $\lambda(A \otimes B) = \lambda_i(A)\lambda_j(B)$ (45) and the single nonzero
eigenvalue $\|\mathbf{z}\|^2$ of $\mathbf{z}\mathbf{z}^T$:
$$\lambda_q(H_w^{(k)}) = \left\{0,\ \|\mathbf{z}^{(k-1)}\|_2^2\,\lambda_i(\tilde C^{(k)})\right\}, \quad \text{with 0 of multiplicity } (n-1)m. \qquad (46)$$
"""),
    ("code", SETUP + """
from hessian_core import FNN
""" + "\n\n" + MATRIX_PICTURE),
    ("md", r"""
## One sample: the Kronecker product

Level $k = 1$ of a network $4 \to 5 \to 3$ with sigmoid activations: $W^{(1)}$ is $5 \times 4$,
so the Hessian is $20 \times 20$. `hessian.blocks[p, 0, :, 0, :]` is the small matrix of sample $p$
and `hessian.inputs[p, 0]` its vector $\mathbf{z}^{(0)}_p$.
"""),
    ("code", """
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
"""),
    ("md", r"""
## Check against finite differences

Each entry of the Hessian from four loss evaluations,
$H_h = \left[\mathcal{E}(w + h e_i + h e_j) - \mathcal{E}(w + h e_i - h e_j) - \mathcal{E}(w - h e_i + h e_j) + \mathcal{E}(w - h e_i - h e_j)\right] / 4h^2$,
at $h = 10^{-3}$ and $2h$, combined as $(4H_h - H_{2h})/3$ (Richardson extrapolation), which
cancels the $O(h^2)$ error: about seven correct digits here.
The paper's literal formula is checked the same way: for sigmoid it misses (notebook 5 says
why); for ReLU (Corollary 2) it is exact.
"""),
    ("code", FINITE_DIFFERENCES + "\n\n" + FNN_LAYER_LOSS + """

def fd_hessian(net, X, Z_target, layer):
    return central_difference_hessian(layer_loss(net, X, Z_target, layer), net.weights[layer - 1].reshape(-1))


H_fd = fd_hessian(net, x, z_target, k)
H_paper = net.hessian(x, z_target, layer=k, formula="paper").dense()
print(f"sigmoid: max |H_exact - H_fd| = {np.abs(H - H_fd).max():.1e},"
      f"  max |H_paper - H_fd| = {np.abs(H_paper - H_fd).max():.1e}  (max |H| = {np.abs(H).max():.1e})")
assert np.abs(H - H_fd).max() < 1e-4 * np.abs(H).max()

relu_net = FNN.random((4, 5, 3), activation="relu", seed=0)
relu_exact = relu_net.hessian(x, z_target, layer=k).dense()
relu_paper = relu_net.hessian(x, z_target, layer=k, formula="paper").dense()
relu_fd = fd_hessian(relu_net, x, z_target, k)
print(f"relu:    max |H_exact - H_fd| = {np.abs(relu_exact - relu_fd).max():.1e},"
      f"  max |H_paper - H_exact| = {np.abs(relu_paper - relu_exact).max():.1e}")
assert np.abs(relu_exact - relu_fd).max() < 1e-4 * np.abs(relu_exact).max() and np.abs(relu_paper - relu_exact).max() < 1e-12
"""),
    ("md", r"""
## Eigenvalues from the small matrix (eq. 46)

The $(n-1)m = 15$ zero eigenvalues and the $m = 5$ others, $\|\mathbf{z}\|^2\lambda_i(C)$, against
the eigenvalues of the dense $20 \times 20$ matrix. `hessian.eigvalsh()` gets them the same way,
from the factors, without forming $H$.
"""),
    ("code", """
eq46 = np.sort(np.concatenate([np.zeros((n - 1) * m), z @ z * np.linalg.eigvalsh(C)]))
dense = np.linalg.eigvalsh(H)
print("max |eq. (46) - eig(H)| =", np.abs(eq46 - dense).max())
print("max |hessian.eigvalsh() - eig(H)| =", np.abs(hessian.eigvalsh() - dense).max())
print("zero eigenvalues:", int(np.sum(np.abs(dense) < 1e-12 * np.abs(dense).max())), " (n-1)m =", (n - 1) * m)
"""),
    ("md", r"""
## A mini-batch

With $r$ samples $H_w^{(k)} = \sum_p M_p \otimes \mathbf{z}_p\mathbf{z}_p^T$ is no longer a single
Kronecker product, but its nonzero eigenvalues still come from a small matrix of size
$m\min(r, n)$ (the Gram reduction of `hessian_core.spectra`), and $m(n - \min(r, n))$ eigenvalues
are exactly zero. The picture: $H$ with its $m \times m$ grid of $n \times n$ blocks
(block $(i, g)$ is $\sum_p (M_p)_{ig}\,\mathbf{z}_p\mathbf{z}_p^T$), the small matrix of the first
sample, and the spectrum three ways.
"""),
    ("code", """
def hessian_story(net, X, Z_target, layer):
    \"\"\"H_W^(layer) as an image, its first small matrix, its spectrum and the checks.\"\"\"
    hessian = net.hessian(X, Z_target, layer=layer)
    H = hessian.dense()
    m, n = net.weights[layer - 1].shape
    r = len(X)
    dense = np.linalg.eigvalsh(H)
    factored = hessian.eigvalsh()
    H_fd = fd_hessian(net, X, Z_target, layer)
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
    ).opts(width=380, height=300, legend_position="top_left", title="sorted eigenvalues")
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
"""),
    ("md", r"""
## Explore

**width** is $m$, the number of units of level 1 ($W^{(1)}$ is $m \times 4$); **batch** is $r$
(from $r \ge n = 4$ on there are no zero eigenvalues left); **activation** switches $f$ (ReLU makes
the paper's formula exact, sigmoid and tanh do not); **seed** draws new weights and data.
"""),
    ("code", """
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
"""),
    ("md", r"""
**What to take away.** The $mn \times mn$ Hessian of a layer is carried by $r$ small $m \times m$
matrices and $r$ vectors: whether it is positive definite, and how curved it is, can be read off
matrices the size of the layer's output. For RNNs the same holds with $t^2$ terms per sample
(notebook 4).
"""),
]


# ---------------------------------------------------------------------------------------
# 3. RNN back-propagation through time
# ---------------------------------------------------------------------------------------
NB3 = [
    ("md", r"""
# 3. RNNs: back-propagation through time and the rank-$t$ gradient

Naumov (2017), Section 4.2, Lemma 2 and Corollary 3. The claim: for the loss at output time $t$,
the weight gradient is a sum of $t$ outer products (one per time step), so it has rank at most $t$
for one sample and at most $rt$ for a mini-batch.

Conventions: inputs are `X` of shape $(r, \tau, N)$ (samples, time steps, features); times are
1-based, $1 \le t \le \tau$; the loss at output time $t$ is
$\mathcal{E}^{(t)} = \frac{1}{2r}\sum_p \|\mathbf{z}^*_{p,t} - \mathbf{z}^{(l,t)}_p\|^2$ (eq. 49).
"""),
    ("md", r"""
## The claim

Forward propagation, eq. (47)-(48):
$\mathbf{z}^{(k,s)} = \mathbf{f}(\mathbf{y}^{(k,s)})$,
$\mathbf{y}^{(k,s)} = W^{(k)}\mathbf{z}^{(k-1,s)} + U^{(k)}\mathbf{z}^{(k,s-1)} + \mathbf{b}^{(k)}$, with
$\mathbf{z}^{(k,0)} = \mathbf{0}$.

**Lemma 2.**
$$G_w^{(k,t)} = \sum_{s=1}^t \tilde{\mathbf{v}}^{(k,t,s)}\mathbf{z}^{(k-1,s)T} \quad (55) \qquad G_u^{(k,t)} = \sum_{s=1}^t \tilde{\mathbf{v}}^{(k,t,s)}\mathbf{z}^{(k,s-1)T} \quad (56) \qquad G_b^{(k,t)} = \sum_{s=1}^t \tilde{\mathbf{v}}^{(k,t,s)} \quad (57)$$
$$\tilde{\mathbf{v}}^{(k,t,s)} = \Big(\prod_{h=s}^{t-1} U^{(k)}\,\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(k,h)}))\Big)^T \mathbf{v}^{(k,t)} \qquad (58)$$
with $\mathbf{v}^{(k,t)}$ propagated down the levels and back in time by (59)-(60).

**Corollary 3.** For $r$ samples,
$\Delta W^{(k)} = \sum_{s=1}^t \tilde V^{(k,s)} Z^{(k-1,s)T}$ (71) and
$\Delta U^{(k)} = \sum_{s=1}^t \tilde V^{(k,s)} Z^{(k,s-1)T}$ (72): $rt$ outer products, rank $\le rt$.

One detail the figures below show: since $\mathbf{z}^{(k,0)} = \mathbf{0}$, the $s = 1$ term of
(56) vanishes, so $G_u^{(k,t)}$ has rank at most $r(t-1)$.
"""),
    ("code", SETUP + """
from hessian_core import RNN, numerical_rank, singular_values
"""),
    ("md", r"""
## One sample, output time $t = 4$

A two-level RNN with sizes $(N, m_1, M) = (8, 10, 3)$: we study level 1, whose $W^{(1)}$ is
$10 \times 8$ and $U^{(1)}$ is $10 \times 10$; level 2 produces the output. `gradient.factors("W")`
returns the exact BPTT adjoints $V = [\mathbf{g}^{(1,1)}, \dots, \mathbf{g}^{(1,t)}]$,
$\mathbf{g}^{(1,s)} = \partial\mathcal{E}^{(t)}/\partial\mathbf{y}^{(1,s)}$ (the $\tilde{\mathbf{v}}^{(1,t,s)}$ of
(58), with the paths through level 2's feedback included, see notebook 5) and
$Z = [\mathbf{z}^{(0,1)}, \dots, \mathbf{z}^{(0,t)}]$: $t$ columns each.
"""),
    ("code", """
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
"""),
    ("md", r"""
## Check against finite differences

$G_w^{(1,t)}$ and $G_u^{(1,t)}$ from central differences of $\mathcal{E}^{(t)}$ alone.
"""),
    ("code", FINITE_DIFFERENCES + "\n\n" + RNN_LAYER_LOSS + """

for wrt, G in (("W", gradient.W), ("U", gradient.U)):
    start = (rnn.weights if wrt == "W" else rnn.recurrent)[k - 1].reshape(-1)
    G_fd = central_difference_gradient(layer_loss(rnn, X, Z_target, k, t, wrt), start)
    error = np.abs(G_fd - G.reshape(-1)).max()
    print(f"max |G_{wrt} - G_fd| = {error:.1e}")
    assert error < 1e-7
"""),
    ("md", r"""
## Rank as $t$ grows, and what truncation does

Left: the rank of $G_w^{(1,t)}$ and $G_u^{(1,t)}$ for $t = 1, \dots, \tau$ against $\min(rt, m, n)$.
Middle: the singular values of $G_w$. Right: **truncated** BPTT with window $K$
(`rnn.gradient(..., truncate=K)`) holds the states $K$ steps before the output time constant, so
only the time steps $s = t-K+1, \dots, t$ receive an adjoint and eq. (55) keeps its last $K$ terms:
a gradient of rank at most $rK$ whose relative error is what the dropped, earlier time steps
contributed. While the products $U\,\mathrm{diag}(\mathbf{f}')$ in (58) shrink vectors, the error
decays geometrically in $K$; at $K = t$ it is zero.
"""),
    ("code", """
def bptt_story(rnn, X, Z_target, layer):
    \"\"\"Rank of G_W, G_U for t = 1..tau, singular values, and truncated BPTT at t = tau.\"\"\"
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
    ).opts(width=330, height=300, legend_position="top_left", title=f"rank, r = {r}", padding=0.05)
    spectrum = hv.Scatter(points, "output time t", ["singular value", "index"]).opts(
        logy=True, color="index", cmap="viridis", size=7, width=330, height=300,
        title=f"singular values of G_W^({layer},t)", tools=["hover"])
    dropped = [(K, e) for K, e, _ in truncation[:-1]]     # K = tau keeps every term: error 0
    truncated = (
        hv.Curve(dropped, "kept time steps K", "relative error")
        * hv.Scatter(dropped, "kept time steps K", "relative error").opts(size=7)
    ).opts(hv.opts.Curve(line_width=2), hv.opts.Overlay(
        logy=True, width=330, height=300, padding=0.05, title=f"truncated BPTT at t = {tau} (K < t)"))

    G_fd = central_difference_gradient(
        layer_loss(rnn, X, Z_target, layer, tau), rnn.weights[layer - 1].reshape(-1))
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
"""),
    ("md", r"""
## Explore

**width** is $m$ of level 1 ($W^{(1)}$ is $m \times 8$: the rank saturates at $\min(m, 8)$);
**batch** is $r$ (the rank grows by $r$ per time step); **time steps** is $\tau$, the last output
time; **activation** and **seed** change $f$ and the draw. ReLU can lower the rank: a unit inactive
at every step contributes a zero row.
"""),
    ("code", """
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
"""),
    ("md", r"""
**What to take away.** Through time, each sample contributes one rank-1 term per step, and the
gradient of a mini-batch is a product through an inner dimension $rt$ (eq. 71-72). Truncating BPTT
drops the oldest terms; how much that costs depends on how fast the products of
$U\,\mathrm{diag}(\mathbf{f}')$ in eq. (58) decay.
"""),
]


# ---------------------------------------------------------------------------------------
# 4. RNN Hessian and Weyl bounds
# ---------------------------------------------------------------------------------------
NB4 = [
    ("md", r"""
# 4. The RNN Hessian: $t^2$ Kronecker terms and the Weyl bounds

Naumov (2017), Section 4.3: Theorem 2, Corollary 4 and eq. (101)-(108). The claim: for the loss
at output time $t$, the Hessian with respect to $\mathrm{vec}(W^{(k)})$ is a sum of $t^2$
Kronecker products, one per pair of time steps $(s, \zeta)$, and its eigenvalues lie within
bounds built from the small matrices of those terms.

Conventions: `X` is $(r, \tau, N)$, times are 1-based, $\mathrm{vec}$ is row-major, and
`hessian.blocks[p, s-1, :, zeta-1, :]` is the $m \times m$ matrix of the pair $(s, \zeta)$ of
sample $p$, `hessian.inputs[p, s-1]` the vector $\mathbf{z}^{(k-1,s)}_p$.
"""),
    ("md", r"""
## The claim

**Theorem 2.**
$$H_w^{(k,t)} = \sum_{s=1}^t\sum_{\zeta=1}^t \tilde C^{(k,t,s,\zeta)} \otimes \left(\mathbf{z}^{(k-1,s)}\mathbf{z}^{(k-1,\zeta)T}\right) \qquad (74)$$
$$\tilde C^{(k,t,s,\zeta)} = \Big(\prod_{h=s}^{t-1} U^{(k)}\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(k,h)}))\Big)^T A^{(k,t)} \Big(\prod_{h=\zeta}^{t-1} U^{(k)}\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(k,h)}))\Big) \qquad (77)$$
with $A^{(k,t)} = C^{(k,t)} \circ F^{(k,t)} + D^{(k,t)}$ (78). `hessian_core` keeps the Kronecker form
(74), which is exact for $W$, with the exact small matrices
$M_{s,\zeta} = \partial^2\mathcal{E}^{(t)}/\partial\mathbf{y}^{(k,s)}\partial\mathbf{y}^{(k,\zeta)}$
in place of $\tilde C$ (where (77) is not exact, notebook 5).

**Weyl bounds.** For Hermitian $A, B$: $\lambda_q(A) + \lambda_1(B) \le \lambda_q(A+B) \le \lambda_q(A) + \lambda_n(B)$ (101).
Anchored at the $s = \zeta = t$ term $B^{(k,t)}$, whose eigenvalues are
$\{0, \|\mathbf{z}^{(k-1,t)}\|^2\lambda_i(A^{(k,t)})\}$ (105), and adding the other diagonal terms and
the symmetric pairs $B^{(k,t,s,\zeta)}$ of (104) one at a time:
$$\lambda_q(B^{(k,t)}) + \sum \lambda_1(B^{(k,t,s,\zeta)}) \;\le\; \lambda_q(H_w^{(k,t)}) \;\le\; \lambda_q(B^{(k,t)}) + \sum \lambda_n(B^{(k,t,s,\zeta)}) \qquad (103)$$
`weyl_bounds(form="terms")` is (103) with each term's extreme eigenvalues;
`weyl_bounds(form="norm")` replaces them by the singular-value estimate (107), as in (108).
"""),
    ("code", SETUP + """
from hessian_core import RNN
""" + "\n\n" + MATRIX_PICTURE),
    ("md", r"""
## One sample, $t = 3$: nine Kronecker terms

Sizes $(N, m, M) = (3, 4, 2)$: $W^{(1)}$ is $4 \times 3$, $H_w^{(1,t)}$ is $12 \times 12$.
"""),
    ("code", """
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
"""),
    ("md", r"""
## Check against finite differences

The dense Hessian against four-point central differences of $\mathcal{E}^{(t)}$.
"""),
    ("code", FINITE_DIFFERENCES + "\n\n" + RNN_LAYER_LOSS + """

def fd_hessian(rnn, X, Z_target, layer, t):
    return central_difference_hessian(
        layer_loss(rnn, X, Z_target, layer, t), rnn.weights[layer - 1].reshape(-1))


H_fd = fd_hessian(rnn, X, Z_target, k, t)
error = np.abs(H - H_fd).max()
print(f"max |H - H_fd| = {error:.1e}   (max |H| = {np.abs(H).max():.1e})")
assert error < 1e-4 * np.abs(H).max()
"""),
    ("md", r"""
## The bounds against the exact spectrum, as $t$ grows

Left: the $t \times t$ grid of $m \times m$ matrices $M_{s,\zeta}$ for the chosen $t$. Middle: the
sorted eigenvalues of $H_w^{(1,t)}$ inside the band of (103). Right: the widest gap between upper
and lower bound for $t = 1, \dots, \tau$, for both forms, beside the spread of the spectrum itself.
At $t = 1$ (one sample) there is a single term and the bounds are the eigenvalues; every extra time step adds
$2t - 1$ terms, and the band widens with them.
"""),
    ("code", """
def weyl_story(rnn, X, Z_target, layer, t):
    \"\"\"Blocks at time t, the spectrum inside the Weyl band, band width for t = 1..tau.\"\"\"
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
    H_fd = fd_hessian(rnn, X, Z_target, layer, t)

    T = hessian.blocks.shape[1]
    blocks = hessian.blocks[0].reshape(T * m, T * m)
    grid = matrix_picture(blocks, f"M_(s,zeta) of sample 1, t = {t}", block=(m, m), width=320, height=300)
    q = np.arange(1, eigenvalues.size + 1)
    band = (
        hv.Area((q, lower, upper), "q", ["eigenvalue", "upper"], label="Weyl band (103)").opts(
            alpha=0.3, color="orange")
        * hv.Scatter((q, eigenvalues), "q", "eigenvalue", label="eigenvalues").opts(size=6, color="black")
    ).opts(width=340, height=300, legend_position="top_left", title=f"spectrum of H_W^({layer},{t})", padding=0.05)
    growth = (
        hv.Curve([(a, b) for a, b, _, _ in widths], "output time t", "width", label="terms (103)")
        * hv.Curve([(a, c) for a, _, c, _ in widths], "output time t", "width", label="norm (107)-(108)")
        * hv.Curve([(a, d) for a, _, _, d in widths], "output time t", "width", label="spread of the spectrum").opts(
            line_dash="dashed", color="gray")
    ).opts(hv.opts.Curve(line_width=2), hv.opts.Overlay(
        width=340, height=300, legend_position="top_left", title="max(upper - lower)"))
    checks = check_table([
        ("r, tau, t", (r, tau, t)),
        ("Kronecker terms per sample", t * t),
        ("eigenvalues inside the bounds", inside),
        ("max |H - H_fd|", f"{np.abs(hessian.dense() - H_fd).max():.1e}"),
        ("band width at t (terms)", f"{np.max(upper - lower):.3g}"),
    ])
    return (grid + band + growth + checks).cols(2).opts(shared_axes=False)


weyl_story(rnn, X, Z_target, layer=1, t=3)
"""),
    ("md", r"""
## Explore

**width** is $m$ ($W^{(1)}$ is $m \times 3$), **batch** is $r$ (the bounds then run over every
sample's terms), **time steps** is the output time $t$ drawn in the first two panels
($\tau = 6$ in the third), **activation** and **seed** change $f$ and the draw.
"""),
    ("code", """
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
"""),
    ("md", r"""
**What to take away.** The RNN weight Hessian keeps the Kronecker form, with $t^2$ terms per
sample instead of one. The bound of (103) is cheap (it needs only the $m \times m$ matrices and
the norms of the inputs) but it loosens as terms accumulate with $t$; the norm form (108) is
looser still.
"""),
]


# ---------------------------------------------------------------------------------------
# 5. Errata
# ---------------------------------------------------------------------------------------
ERRATA_HELPERS = '''\
def fnn_layer_loss(net, X, Z_target, layer):
    """E as a function of vec(W^(layer)), every other parameter held fixed."""
    def loss(w):
        weights = list(net.weights)
        weights[layer - 1] = w.reshape(weights[layer - 1].shape)
        return FNN(weights, net.biases, net.activation, net.output_activation).loss(X, Z_target)
    return loss


def rnn_layer_loss(rnn, X, Z_target, layer, t, wrt="W"):
    """E^(t) as a function of vec(W^(layer)) or vec(U^(layer)), the rest held fixed."""
    def loss(w):
        weights, recurrent = list(rnn.weights), list(rnn.recurrent)
        chosen = weights if wrt == "W" else recurrent
        chosen[layer - 1] = w.reshape(chosen[layer - 1].shape)
        return RNN(weights, recurrent, rnn.biases, rnn.activation, rnn.output_activation).loss(
            X, Z_target, t=t
        )
    return loss


def fd_fnn_hessian(net, X, Z_target, layer):
    start = net.weights[layer - 1].reshape(-1)
    return central_difference_hessian(fnn_layer_loss(net, X, Z_target, layer), start)


def fd_rnn_hessian(rnn, X, Z_target, layer, t, wrt="W"):
    start = (rnn.weights if wrt == "W" else rnn.recurrent)[layer - 1].reshape(-1)
    return central_difference_hessian(rnn_layer_loss(rnn, X, Z_target, layer, t, wrt), start)


def relative(A, B):
    """||A - B||_F / ||B||_F (or ||A - B||_F where B = 0, as for a dead ReLU layer)"""
    return float(np.linalg.norm(A - B) / (np.linalg.norm(B) or 1.0))
'''

NB5 = [
    ("md", r"""
# 5. Where the paper is wrong: each erratum, reproduced

The Kronecker *structure* of the paper's Hessians is right, but several of the equations that
fill in the small matrices are not. `docs/errata.md` lists them; this notebook reproduces each
one numerically, with the paper's form beside the exact one and the finite-difference Hessian of
the loss as the referee.

| eq. | the paper says | exact | holds when |
| --- | --- | --- | --- |
| (32) | $C^{(l)} = I \circ F^{(l)}$, then $A^{(l)} = C^{(l)} \circ F^{(l)} + D^{(l)}$ | $A^{(l)} = I \circ F^{(l)} + D^{(l)}$: $f'^2$, not $f'^4$ | $f' \in \{0, 1\}$ at the output |
| (34)-(35) | $\mathbf{v}^{(k-1)} = (W^{(k)T}\mathbf{v}^{(k)}) \circ \mathbf{f}''(\mathbf{y}^{(k-1)})$ | $D^{(k)} = \mathrm{diag}(\mathbf{a}^{(k)} \circ \mathbf{f}''(\mathbf{y}^{(k)}))$, $\mathbf{a}^{(k)} = \partial\mathcal{E}/\partial\mathbf{z}^{(k)}$ from the first-order pass | $f'' = 0$ at hidden levels, or one level |
| (77) | $\tilde C^{(k,t,s,\zeta)} = P_s^T A^{(k,t)} P_\zeta$ | also $f''(\mathbf{y}^{(k,h)})$ terms of the steps $h = s, \dots, t-1$ | piecewise-linear $f$, or $t = 1$ |
| (82) | $C^{(k-1,t)} = W^{(k)T}A^{(k,t)}W^{(k)} + U^{(k-1)T}A^{(k-1,t+1)}U^{(k-1)}$ | also the paths that climb to level $k$ before $t$ and travel in time there | one level, the top level, or $t = 1$ |
| (75) | $H_u^{(k,t)} = \sum_{s,\zeta}\tilde C^{(k,t,s,\zeta)} \otimes \mathbf{z}^{(k,s-1)}\mathbf{z}^{(k,\zeta-1)T}$ | plus terms from $\mathbf{z}^{(k,s-1)}$ depending on $U^{(k)}$ itself: not a Kronecker sum | $t = 1$ only |

`formula="paper"` evaluates the printed equations, `formula="exact"` the true Hessian, and
`hessian_core.errata.measure_fnn` / `measure_rnn` measure each erratum alone (the other equations
replaced by their exact forms), as relative Frobenius errors
$\|H_{\text{paper}} - H_{\text{exact}}\|_F / \|H_{\text{exact}}\|_F$.
"""),
    ("code", SETUP + """
from hessian_core import FNN, RNN
from hessian_core.errata import measure_fnn, measure_rnn
""" + "\n\n" + MATRIX_PICTURE),
    ("md", r"""
The referee: Hessians from central differences of the loss alone, for any parameter block of any
level. `relative(A, B)` is $\|A - B\|_F / \|B\|_F$.
"""),
    ("code", FINITE_DIFFERENCES + "\n\n" + ERRATA_HELPERS),
    ("md", r"""
## Eq. (32): the output seed applies $F^{(l)}$ twice

At the output level the loss Hessian with respect to $\mathbf{z}^{(l)}$ is $I$ (eq. 39), so the
Hessian with respect to $\mathbf{y}^{(l)}$ is
$\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(l)}))\,I\,\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(l)})) + D^{(l)} = I \circ F^{(l)} + D^{(l)}$.
The paper seeds $C^{(l)} = I \circ F^{(l)}$ (32) *and* multiplies by $F^{(l)}$ again in (28):
$A^{(l)} = I \circ F^{(l)} \circ F^{(l)} + D^{(l)}$, a diagonal of $f'^4$ instead of $f'^2$. With one
sample ($r = 1$) and a sigmoid FNN $3 \to 4 \to 3 \to 2$, at the top level $l = 3$:
"""),
    ("code", """
net = FNN.random((3, 4, 3, 2), activation="sigmoid", seed=0)
rng = np.random.default_rng(0)
x = rng.standard_normal((1, 3))
z_target = rng.standard_normal((1, 2))
l = net.n_layers

forward = net.forward(x)
y_l, z_l = forward.pre_activations[l - 1][0], forward.activations[l][0]
f = net.activation_of(l)
fp, fpp = f.df(np, y_l), f.d2f(np, y_l)
a_l = z_l - z_target[0]                      # dE/dz^(l) for r = 1
exact_l = net.hessian(x, z_target, layer=l)
paper_l = net.hessian(x, z_target, layer=l, formula="paper")
print("diag A^(l), exact f'^2 + a f'':", fp**2 + a_l * fpp, " hessian_core:", np.diag(exact_l.blocks[0, 0, :, 0, :]))
print("diag A^(l), paper f'^4 + a f'':", fp**4 + a_l * fpp, " hessian_core:", np.diag(paper_l.blocks[0, 0, :, 0, :]))

H_fd = fd_fnn_hessian(net, x, z_target, l)
print(f"relative error against finite differences: paper {relative(paper_l.dense(), H_fd):.2f},"
      f" exact {relative(exact_l.dense(), H_fd):.1e}")
assert relative(exact_l.dense(), H_fd) < 1e-4 < relative(paper_l.dense(), H_fd)
"""),
    ("md", r"""
## Eq. (34)-(35): the curvature term propagates through $f''$ instead of $f'$

In (37) the diagonal term is $\frac{\partial\mathcal{E}}{\partial z_i^{(k)}} f''(y_i^{(k)})$, with the
*first-order* derivative $\mathbf{a}^{(k)} = \partial\mathcal{E}/\partial\mathbf{z}^{(k)}$, which
back-propagates through $f'$: $\mathbf{a}^{(k-1)} = W^{(k)T}(\mathbf{a}^{(k)} \circ \mathbf{f}'(\mathbf{y}^{(k)}))$.
The paper's vector (34)-(35) propagates through $f''$ instead. At level $k = l - 1 = 2$ of the
same network: the exact diagonal of $D^{(2)}$ by hand, the same read off `hessian_core`
($M^{(2)} - (W^{(3)T}M^{(3)}W^{(3)}) \circ F^{(2)}$, eq. 33), and the paper's $\mathbf{v}^{(2)}$.
"""),
    ("code", """
k = l - 1
W = net.weights[l - 1]                                 # W^(l)
y_k = forward.pre_activations[k - 1][0]
g = net.activation_of(k)
exact_D = (W.T @ (a_l * fp)) * g.d2f(np, y_k)          # a^(k) o f''(y^(k))
v_l = -(z_target[0] - z_l) * fpp                       # eq. (34)
paper_D = (W.T @ v_l) * g.d2f(np, y_k)                 # eq. (35)

M_l = exact_l.blocks[0, 0, :, 0, :]
M_k = net.hessian(x, z_target, layer=k).blocks[0, 0, :, 0, :]
F_k = np.outer(g.df(np, y_k), g.df(np, y_k))
core_D = np.diag(M_k - (W.T @ M_l @ W) * F_k)
print("max |exact D by hand - D from hessian_core| =", np.abs(exact_D - core_D).max())

units = [str(i + 1) for i in range(exact_D.size)]
hv.Bars(
    [(u, "exact a o f''", d) for u, d in zip(units, exact_D, strict=True)]
    + [(u, "paper v (35)", d) for u, d in zip(units, paper_D, strict=True)],
    ["unit i", "form"], "D_ii",
).opts(width=460, height=280, color="form", cmap="Category10", multi_level=False, legend_position="bottom_left",
       title=f"diagonal of D^({k}): exact against eq. (35)", tools=["hover"])
"""),
    ("code", """
measured = {item.equation: item for item in measure_fnn(net, x, z_target)}
paper_k = net.hessian(x, z_target, layer=k, formula="paper").dense()
exact_k = net.hessian(x, z_target, layer=k).dense()
H_fd = fd_fnn_hessian(net, x, z_target, k)
print(f"(34)-(35) alone (with the exact seed): relative error {measured['(34)-(35)'].relative_error:.2f}")
print(f"level {k} against finite differences: paper (both errata) {relative(paper_k, H_fd):.2f},"
      f" exact {relative(exact_k, H_fd):.1e}")
assert relative(exact_k, H_fd) < 1e-4
"""),
    ("md", r"""
## Eq. (77): second-order terms of the earlier time steps are missing

For an RNN, a perturbation of $\mathbf{y}^{(k,s)}$ reaches the output at time $t$ through the
nonlinearity at every step $h = s, \dots, t-1$. The product
$P_s = \prod_{h=s}^{t-1} U^{(k)}\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(k,h)}))$ in (77) carries only the
first-order part; each of those steps also contributes a curvature term
$\frac{\partial\mathcal{E}}{\partial z^{(k,h)}} f''(y^{(k,h)})$. Below, $\tilde C = P_s^T A P_\zeta$ is built
by hand from the **exact** $A^{(1,t)}$ (the $s = \zeta = t$ block, so that only (77) is tested),
for a one-level tanh RNN at $t = 4$, against the exact blocks $M_{s,\zeta}$.
"""),
    ("code", """
def eq77_blocks(rnn, X, Z_target, t):
    \"\"\"C~_(s,zeta) = P_s^T A P_zeta of eq. (77) for sample 1, with the exact A^(1,t).\"\"\"
    exact = rnn.hessian(X, Z_target, layer=1, t=t)
    A = exact.blocks[0, t - 1, :, t - 1, :]
    U = rnn.recurrent[0]
    y = rnn.forward(X).pre_activations[0][0]           # (tau, m): y^(1,s) in row s-1
    df = rnn.activation_of(1).df
    P = {t: np.eye(U.shape[0])}
    for s in range(t - 1, 0, -1):                      # P_s = P_(s+1) U diag(f'(y^(1,s)))
        P[s] = P[s + 1] @ U @ np.diag(df(np, y[s - 1]))
    paper = np.array([[P[s].T @ A @ P[zeta] for zeta in range(1, t + 1)] for s in range(1, t + 1)])
    return exact, paper.transpose(0, 2, 1, 3)          # (s, i, zeta, j), like exact.blocks[0]


def kronecker_sum(blocks, inputs):
    T = blocks.shape[0]
    return sum(np.kron(blocks[s, :, zeta, :], np.outer(inputs[s], inputs[zeta]))
               for s in range(T) for zeta in range(T))


rnn = RNN.random((2, 3), activation="tanh", seed=0, recurrent_scale=0.9)
X = rng.standard_normal((1, 5, 2))
Z_target = rng.standard_normal((1, 5, 3))
t = 4
exact, paper_blocks = eq77_blocks(rnn, X, Z_target, t)
H_paper = kronecker_sum(paper_blocks, exact.inputs[0])
H_fd = fd_rnn_hessian(rnn, X, Z_target, 1, t)
m = paper_blocks.shape[1]
print(f"(77) by hand: relative error {relative(H_paper, exact.dense()):.3f};"
      f" hessian_core.errata.measure_rnn: {measure_rnn(rnn, X, Z_target, t)[0].relative_error:.3f}")
print(f"against finite differences: (77) {relative(H_paper, H_fd):.3f}, exact {relative(exact.dense(), H_fd):.1e}")
assert relative(exact.dense(), H_fd) < 1e-4


def block_grid(blocks, title):
    T, m = blocks.shape[0], blocks.shape[1]
    return matrix_picture(blocks.reshape(T * m, T * m), title, block=(m, m))


(
    block_grid(exact.blocks[0], "exact M_(s,zeta)")
    + block_grid(paper_blocks, "eq. (77) with the exact A")
    + block_grid(exact.blocks[0] - paper_blocks, "exact - (77)")
)
"""),
    ("md", r"""
The difference vanishes in the $s = \zeta = t$ block (the anchor) and grows with the number of
steps between $s$ or $\zeta$ and $t$. For ReLU $f'' = 0$, and (77) is exact:
"""),
    ("code", """
relu_rnn = RNN.random((2, 3), activation="relu", seed=0, recurrent_scale=0.9)
relu_exact, relu_blocks = eq77_blocks(relu_rnn, X, Z_target, t)
error = relative(kronecker_sum(relu_blocks, relu_exact.inputs[0]), relu_exact.dense())
print(f"relu: (77) relative error {error:.1e}")
assert error < 1e-12
"""),
    ("md", r"""
## Eq. (82): paths through the upper level's feedback are missing

Below the top level, a perturbation of $\mathbf{y}^{(k-1,s)}$ can climb to level $k$ at any step
between $s$ and $t$ and then travel in time through $U^{(k)}$. Eq. (82) only lets it climb at
time $t$. This is wrong **even for ReLU**. Level 1 of a two-level RNN $2 \to 3 \to 2$:
"""),
    ("code", """
Z_two = rng.standard_normal((1, 5, 2))
for activation in ("tanh", "relu"):
    two_level = RNN.random((2, 3, 2), activation=activation, seed=0, recurrent_scale=0.9)
    paper = two_level.hessian(X, Z_two, layer=1, t=t, formula="paper").dense()
    exact = two_level.hessian(X, Z_two, layer=1, t=t).dense()
    H_fd = fd_rnn_hessian(two_level, X, Z_two, 1, t)
    (eq82,) = [item for item in measure_rnn(two_level, X, Z_two, t) if item.equation == "(82)"]
    print(f"{activation:5s}: paper against FD {relative(paper, H_fd):.2f}, exact against FD {relative(exact, H_fd):.1e},"
          f" (82) measured alone {eq82.relative_error:.2f}")
    assert relative(exact, H_fd) < 1e-4
"""),
    ("md", r"""
## Eq. (75): the recurrent Hessian is not a Kronecker sum

In (75) the factor $\mathbf{z}^{(k,s-1)}$ is treated like the input $\mathbf{z}^{(k-1,s)}$ of (74),
but it is the level's own earlier state and depends on $U^{(k)}$. Differentiating it gives extra
terms $\mathbf{g}_y^{(k,s)}\,(\partial\mathbf{z}^{(k,s-1)}/\partial U)^T$ that are not of Kronecker form.
`hessian_core` returns the exact $H_u$ as a Kronecker sum with the exact $M$ (`kronecker_part()`)
plus a dense `remainder`. Wrong **even for ReLU**, except at $t = 1$ where $\mathbf{z}^{(k,0)} = \mathbf{0}$.
"""),
    ("code", """
for activation in ("tanh", "relu"):
    one_level = RNN.random((2, 3), activation=activation, seed=0, recurrent_scale=0.9)
    exact = one_level.hessian(X, Z_target, layer=1, t=t, wrt="U")
    paper = one_level.hessian(X, Z_target, layer=1, t=t, wrt="U", formula="paper").dense()
    H_fd = fd_rnn_hessian(one_level, X, Z_target, 1, t, wrt="U")
    H = exact.dense()
    print(f"{activation:5s}: |remainder| / |H_U| = {np.linalg.norm(exact.remainder) / np.linalg.norm(H):.2f};"
          f" paper against FD {relative(paper, H_fd):.2f}, exact against FD {relative(H, H_fd):.1e}")
    assert relative(H, H_fd) < 1e-4

(
    matrix_picture(H, "exact H_U (ReLU)")
    + matrix_picture(exact.kronecker_part(), "its Kronecker part")
    + matrix_picture(exact.remainder, "the remainder (75) misses")
)
"""),
    ("md", r"""
## All of them, for any network

`errata_story` measures every erratum at once on three networks built from the settings: an FNN
$3 \to m \to 3 \to 2$ for (32) and (34)-(35), a one-level RNN $2 \to m$ for (77) and (75), and a
two-level RNN $2 \to m \to 2$ for (82) and the gradient erratum (58)-(60) of Lemma 2
(`docs/errata.md`). Each row gives the erratum measured alone, then the whole `formula="paper"`
Hessian of the affected layer and the exact one, both against finite differences. The bars are on
a log scale: round-off ($\sim 10^{-16}$) means the equation holds at these settings.
"""),
    ("code", """
def errata_story(width=3, batch=1, time_steps=4, activation="tanh", seed=0):
    data = np.random.default_rng(seed)
    tau = time_steps
    net = FNN.random((3, width, 3, 2), activation=activation, seed=seed)
    X_f, Z_f = data.standard_normal((batch, 3)), data.standard_normal((batch, 2))
    one = RNN.random((2, width), activation=activation, seed=seed, recurrent_scale=0.9)
    two = RNN.random((2, width, 2), activation=activation, seed=seed, recurrent_scale=0.9)
    X_r = data.standard_normal((batch, tau, 2))
    Z_one, Z_two = data.standard_normal((batch, tau, width)), data.standard_normal((batch, tau, 2))

    def against_fd(model, X, Z, layer, fd, **where):
        paper = model.hessian(X, Z, layer=layer, formula="paper", **where).dense()
        exact = model.hessian(X, Z, layer=layer, **where).dense()
        return relative(paper, fd), relative(exact, fd)

    l = net.n_layers
    fd_errors = {
        "(32)": against_fd(net, X_f, Z_f, l, fd_fnn_hessian(net, X_f, Z_f, l)),
        "(34)-(35)": against_fd(net, X_f, Z_f, l - 1, fd_fnn_hessian(net, X_f, Z_f, l - 1)),
        "(77)": against_fd(one, X_r, Z_one, 1, fd_rnn_hessian(one, X_r, Z_one, 1, tau), t=tau),
        "(82)": against_fd(two, X_r, Z_two, 1, fd_rnn_hessian(two, X_r, Z_two, 1, tau), t=tau),
        "(75)": against_fd(one, X_r, Z_one, 1, fd_rnn_hessian(one, X_r, Z_one, 1, tau, "U"), t=tau, wrt="U"),
    }
    measurements = (
        measure_fnn(net, X_f, Z_f)
        + [item for item in measure_rnn(one, X_r, Z_one, tau) if item.equation in ("(77)", "(75)")]
        + [item for item in measure_rnn(two, X_r, Z_two, tau) if item.equation in ("(82)", "(58)-(60)")]
    )

    rows, dots = [], []
    for item in measurements:
        paper_fd, exact_fd = fd_errors.get(item.equation, (None, None))
        rows.append((
            item.equation,
            "n/a" if item.relative_error is None else f"{item.relative_error:.2e}",
            "-" if paper_fd is None else f"{paper_fd:.2e}",
            "-" if exact_fd is None else f"{exact_fd:.1e}",
            item.case,
        ))
        position = len(rows) - 1
        if item.relative_error is not None:
            dots.append(("paper vs exact, alone", position - 0.15, max(item.relative_error, 1e-17)))
        if paper_fd is not None:
            dots.append(("paper vs FD", position, max(paper_fd, 1e-17)))
            dots.append(("exact vs FD", position + 0.15, max(exact_fd, 1e-17)))
    table = hv.Table(rows, ["eq."], ["alone", "paper vs FD", "exact vs FD", "case"]).opts(width=870, height=230)
    chart = hv.Overlay([
        hv.Scatter([(x, e) for name, x, e in dots if name == comparison], "erratum", "relative error",
                   label=comparison).opts(size=11, color=color)
        for comparison, color in (("paper vs exact, alone", "crimson"), ("paper vs FD", "orange"),
                                  ("exact vs FD", "seagreen"))
    ]).opts(
        logy=True, ylim=(1e-17, 10), xlim=(-0.5, len(rows) - 0.5), width=680, height=320,
        xticks=[(i, row[0]) for i, row in enumerate(rows)], legend_position="right",
        title=f"{activation}, width {width}, r = {batch}, t = {tau}",
    )
    return (chart + table).cols(1).opts(shared_axes=False)


errata_story()
"""),
    ("md", r"""
## Explore

**activation**: ReLU and identity make (32), (34)-(35) and (77) hold, but not (82) or (75);
**time steps** is $t = \tau$ (at $t = 1$ the RNN errata disappear); **width** is $m$ of the
hidden levels, **batch** is $r$, **seed** draws new weights and data.
"""),
    ("code", """
explorer = widgets.interactive(
    errata_story,
    {"auto_display": True},  # show what errata_story returns, as widgets.interact does
    width=widgets.IntSlider(value=3, min=1, max=5, description="width m", continuous_update=False),
    batch=widgets.IntSlider(value=1, min=1, max=3, description="batch r", continuous_update=False),
    time_steps=widgets.IntSlider(value=4, min=1, max=6, description="time steps", continuous_update=False),
    activation=widgets.Dropdown(options=["tanh", "sigmoid", "softplus", "relu", "identity"], value="tanh",
                                description="activation"),
    seed=widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False),
)
explorer
"""),
    ("md", r"""
**What to take away.** Every weight Hessian in the paper keeps its Kronecker form; what goes wrong
is the bookkeeping of second-order terms inside the small matrices (a doubled $F$, an $f''$ where
an $f'$ belongs, curvature at intermediate time steps, paths through the upper level's feedback)
and, for $U$, the form itself. For ReLU FNNs and one-level ReLU RNNs the $W$ formulas hold; the
RNN errata (82) and (75) do not go away with ReLU.
"""),
]


# ---------------------------------------------------------------------------------------
# 6. The dashboard in Jupyter
# ---------------------------------------------------------------------------------------
NB6 = [
    ("md", r"""
# 6. The dashboard inside Jupyter

The app that `make serve` starts is one object, `app.Dashboard`: the same controls, training
session and views (gradient rank, Kronecker structure, ReLU masks, spectrum with the Weyl band,
paper against exact), built here for this notebook alone. Panel renders it inline once
`pn.extension()` has run (with KaTeX for the formulas of its lessons).
"""),
    ("code", """
import panel as pn

from app import Dashboard

pn.extension("katex", inline=True)
"""),
    ("md", r"""
Small settings keep it quick: an FNN $2 \to 6 \to 1$ on the XOR data, mini-batches of $r = 8$.
Any setting of `app.settings.Settings` can be passed as a keyword; **Play** starts training, and
the view selector switches between the pictures of notebooks 1-5, now at the weights being trained.
"""),
    ("code", """
dashboard = Dashboard(architecture="2-6-1", samples=64, batch_size=8)
dashboard
"""),
]


# ---------------------------------------------------------------------------------------
# 7. Sparse and truncated back-propagation
# ---------------------------------------------------------------------------------------
NB7 = [
    ("md", r"""
# 7. Sparse and truncated back-propagation: how much of the gradient is needed?

Two related papers change the backward pass in ways the matrix form makes visible
(`../shared/paper/README.md` in the project; options of `hessian_core.sparse`).

**meProp** (Sun et al. 2017; Wei et al. 2017) keeps, in the backward pass, only the $k$
largest-magnitude entries of each back-propagated vector $\mathbf{v}^{(k)}$ of each sample and
zeroes the rest, and the sparse vector is what travels further down (`net.gradients(X, Z, topk=...)`).
In Corollary 1, $G_w^{(k)} = V^{(k)} Z^{(k-1)T}$ (26), this makes every column of $V$ hold at most
$k$ nonzeros, so a unit that no sample of the batch selects gives a zero row of $V$ and of $G$.
The authors report that about 5% of the entries suffice for full accuracy.

**Truncated BPTT and selected steps.** For an RNN, the gradient at output time $t$ is the rank-$t$
sum of eq. (55), $G_w^{(k,t)} = \sum_{s=1}^{t} \tilde{\mathbf{v}}^{(k,t,s)}\mathbf{z}^{(k-1,s)T}$.
Truncated BPTT with window $K$ (`truncate=K`) keeps its last $K$ terms: the states at $t-K$ are
held constant. Sparse attentive backtracking (Ke et al. 2017) argues that this is biased against
long-range dependencies and back-propagates through a few selected past steps instead;
`backtrack=` keeps the terms of a given set of steps, or of the $K$ steps with the largest
$\sum_p \|\tilde{\mathbf{v}}_p^{(k,t,s)}\|\,\|\mathbf{z}_p^{(k-1,s)}\|$ (`"largest:K"`), with the
exact adjoints $\tilde{\mathbf{v}}$. (So `backtrack` here is a model of the selection, not a
cheaper computation: it runs full BPTT and then drops terms; the paper selects by attention in
the forward pass.)

Part 1 trains a small FNN with meProp on a 2-D task; part 2 trains an RNN on a delayed-recall
task with each BPTT rule. Everything is measured here, with fixed seeds; the sizes are small so
that the notebook runs in well under a minute.
"""),
    ("code", SETUP + """
from hessian_core import FNN, RNN, numerical_rank, singular_values
from hessian_core.sparse import topk_count


def cosine(a, b):
    \"\"\"Cosine similarity of two gradients given as flat vectors (1 = same direction).\"\"\"
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def mean_std(values, form=".3f"):
    return f"{np.mean(values):{form}} ± {np.std(values):{form}}"


def table(rows, columns):
    \"\"\"A small HoloViews table of strings.\"\"\"
    return hv.Table([tuple(str(v) for v in row) for row in rows], kdims=columns[:1], vdims=columns[1:]).opts(
        width=min(1000, 150 * len(columns)), height=28 * (len(rows) + 1)
    )
"""),
    ("md", r"""
## Part 1. meProp on two spirals

**Task.** Two interleaved spirals in the plane (1.5 turns, Gaussian noise of standard deviation
0.2, labels $\pm 1$), 400 training and 200 test points, drawn with NumPy from the seed.
**Network.** $2 \to 32 \to 32 \to 1$, tanh at every level (the output too), the loss
$\mathcal{E} = \frac{1}{2r}\sum_p (z^*_p - z^{(3)}_p)^2$; a point is classified by the sign of the
output. **Training.** Mini-batches of $r = 32$, SGD with momentum 0.9 and learning rate 0.05,
2000 steps, the same for every rule: the weights $W^{(k)}$ and biases $\mathbf{b}^{(k)}$ are
updated with `net.gradients(X, Z, topk=...)`.

**What 5% means here.** `topk=0.05` keeps $\lceil 0.05 \cdot 32 \rceil = 2$ entries of each
32-long $\mathbf{v}^{(1)}$, $\mathbf{v}^{(2)}$, and the one entry of $\mathbf{v}^{(3)}$ (the output
level has width 1, so it is never sparsified). meProp's 5% was measured on layers of hundreds of
units; at width 32 the nearest we can get is 2 of 32 (6.25%).
"""),
    ("code", """
def two_spirals(n, seed, noise=0.2, turns=1.5):
    \"\"\"n points on two interleaved spirals of radius 2, labels -1 / +1 (a column).\"\"\"
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0, 1, n)) * turns * 2 * np.pi
    label = rng.integers(0, 2, n)
    radius, angle = 2 * t / (turns * 2 * np.pi), t + np.pi * label
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1) + noise * rng.standard_normal((n, 2))
    return X, (2.0 * label - 1)[:, None]


def flat(gradients):
    \"\"\"dE/dW^(k) and dE/db^(k) of every level as one vector.\"\"\"
    return np.concatenate([np.concatenate([g.W.ravel(), g.b.ravel()]) for g in gradients])


def accuracy(net, X, Z_target):
    return float(np.mean(np.sign(net.forward(X).output) == Z_target))


def train_fnn(topk, seed, steps=2000, batch=32, learning_rate=0.05, momentum=0.9, width=32, every=100):
    \"\"\"SGD + momentum with meProp gradients; the loss and the cosine to the full gradient every `every` steps.\"\"\"
    X, Z_target = two_spirals(600, seed)
    X_train, Z_train, X_test, Z_test = X[:400], Z_target[:400], X[400:], Z_target[400:]
    net = FNN.random((2, width, width, 1), activation="tanh", seed=seed)
    parameters = [p for pair in zip(net.weights, net.biases, strict=True) for p in pair]   # W1, b1, W2, b2, W3, b3
    velocity = [np.zeros_like(p) for p in parameters]
    draw = np.random.default_rng(seed + 100)
    losses, similarity = [], []
    for step in range(steps + 1):
        rows = draw.choice(len(X_train), batch, replace=False)
        gradients = net.gradients(X_train[rows], Z_train[rows], topk=topk)
        if step % every == 0:
            losses.append((step, net.loss(X_train, Z_train)))
            if topk is not None:     # the full gradient at the same weights and batch
                similarity.append((step, cosine(flat(gradients), flat(net.gradients(X_train[rows], Z_train[rows])))))
        if step == steps:
            break
        for p, v, g in zip(parameters, velocity, [a for gr in gradients for a in (gr.W, gr.b)], strict=True):
            v *= momentum
            v -= learning_rate * g
            p += v      # in place: net.weights and net.biases hold these arrays
    return {"net": net, "losses": losses, "similarity": similarity, "batch": (X_train[rows], Z_train[rows]),
            "train": accuracy(net, X_train, Z_train), "test": accuracy(net, X_test, Z_test)}
"""),
    ("md", r"""
### Accuracy over seeds

Full back-propagation (`topk=None`) against three fractions, each trained from the same weights
and batches for seeds 0, 1, 2 (the seed draws the data, the weights and the batches). The table
gives mean ± standard deviation over the seeds, the accuracy of each seed, and the mean cosine
similarity between the meProp gradient and the full gradient at the same weights and batch,
over the training run.
"""),
    ("code", """
FRACTIONS = [None, 0.05, 0.1, 0.25]
SEEDS = [0, 1, 2]
runs = {(topk, seed): train_fnn(topk, seed) for topk in FRACTIONS for seed in SEEDS}


def rule_name(topk, width=32):
    return "full" if topk is None else f"top {topk:.0%} ({topk_count(topk, width)} of {width})"


rows = []
for topk in FRACTIONS:
    test = [runs[topk, seed]["test"] for seed in SEEDS]
    train = [runs[topk, seed]["train"] for seed in SEEDS]
    similarity = [c for seed in SEEDS for _, c in runs[topk, seed]["similarity"]]
    rows.append((rule_name(topk), mean_std(test), mean_std(train), " ".join(f"{a:.3f}" for a in test),
                 "1" if topk is None else f"{np.mean(similarity):.3f}"))
    print(f"{rows[-1][0]:>16}: test {rows[-1][1]}, train {rows[-1][2]}, per seed {rows[-1][3]}, mean cosine {rows[-1][4]}")

full_test = [runs[None, seed]["test"] for seed in SEEDS]
five_test = [runs[0.05, seed]["test"] for seed in SEEDS]
gap = np.mean(five_test) - np.mean(full_test)
spread = max(np.std(full_test), np.std(five_test))
verdict = "reproduced" if gap >= -spread else "not reproduced"
print(f"top 5% minus full, mean test accuracy: {gap:+.3f} (seed spread {spread:.3f}): the 5% claim is {verdict} at this scale")
table(rows, ["rule", "test accuracy", "train accuracy", f"test, seeds {SEEDS}", "mean cosine to full"])
"""),
    ("md", r"""
The claim counts as reproduced when the mean test accuracy with 5% is no more than one seed
standard deviation below full back-propagation. Read the table with its caveats: three seeds,
one learning rate (the same for every rule), a fixed budget of 2000 steps. meProp's sparse
gradient is shorter than the full one, so at one learning rate it also takes smaller steps; where
top-$k$ does *better* than full back-propagation, as it may here, that is a statement about this
budget and step size, not evidence that dropping entries helps in general.

### Direction of the gradient, and the rank of $V Z^T$

Left: the training loss per rule (mean over seeds). Middle: the cosine similarity between the
meProp gradient and the full gradient at the same weights, along training: well below 1 with 2 of
32 entries, and yet training works, since what matters for SGD is that the direction is a descent
direction (cosine $> 0$). Right: at the end of seed 0's full run, the singular values of
$G_w^{(2)} = V Z^T$ ($32 \times 32$, $r = 32$) for the full $V$ and the row-sparse $V$ of each
fraction, on the same batch and weights.
"""),
    ("code", """
def mean_curve(key, topk):
    values = np.array([[v for _, v in runs[topk, seed][key]] for seed in SEEDS])
    return list(zip([s for s, _ in runs[topk, SEEDS[0]][key]], values.mean(axis=0), strict=True))


def rank_rows(net, X, Z_target, fractions, layer=2):
    \"\"\"Singular values and rank of G_W^(layer) = V Z^T for each fraction, and the nonzero rows of V.\"\"\"
    points, rows = [], []
    for topk in fractions:
        g = net.gradients(X, Z_target, topk=topk)[layer - 1]
        V, _ = g.factors()
        sigma = singular_values(g.W)
        points += [(i + 1, max(s, 1e-18), rule_name(topk)) for i, s in enumerate(sigma)]
        rows.append((rule_name(topk), int(np.count_nonzero(np.abs(V).sum(axis=1))),
                     int(np.count_nonzero(V, axis=0).max()), numerical_rank(g.W)))
    return points, rows


loss_plot = hv.Overlay([hv.Curve(mean_curve("losses", topk), "step", "training loss", label=rule_name(topk))
                        for topk in FRACTIONS]).opts(width=330, height=300, logy=True, title="training loss (mean of seeds)",
                                                     legend_position="top_right")
similarity_plot = hv.Overlay([hv.Curve(mean_curve("similarity", topk), "step", "cosine to full gradient",
                                       label=rule_name(topk)) for topk in FRACTIONS[1:]]).opts(
    width=330, height=300, ylim=(0, 1.02), title="cosine(meProp, full) at the same weights", legend_position="bottom_right")
net, (X_batch, Z_batch) = runs[None, 0]["net"], runs[None, 0]["batch"]
points, rank_table = rank_rows(net, X_batch, Z_batch, FRACTIONS)
spectrum_plot = hv.Scatter(points, "index", ["singular value", "rule"]).opts(
    color="rule", cmap="Category10", logy=True, size=6, width=330, height=300, tools=["hover"],
    title="singular values of G_W^(2) = V Z^T", show_legend=True, legend_position="bottom_left")
for row in rank_table:
    print(f"{row[0]:>16}: nonzero rows of V {row[1]:2d} of 32, nonzeros per column <= {row[2]:2d}, rank of G_W^(2) {row[3]}")
(loss_plot + similarity_plot + spectrum_plot
 + table(rank_table, ["rule", "nonzero rows of V", "max nonzeros per column", "rank of V Z^T"])).cols(3).opts(shared_axes=False)
"""),
    ("md", r"""
With $k$ entries per column, $V$ has at most $kr$ nonzeros; its nonzero rows are the units that
some sample of the batch selected, and the rank of $V Z^T$ is at most their number (the table).
After training, the same few units carry the largest entries for most samples, so far fewer rows
are nonzero than $kr$ would allow: the meProp update of $W^{(2)}$ has a much lower rank than the
full one, and it still trains the network as well on this task.

### Explore meProp

**fraction** is `topk` for the hidden levels, **seed** draws data, weights and batches; each change
retrains a shorter run (600 steps) of full and meProp back-propagation side by side.
"""),
    ("code", """
def explore_meprop(fraction=0.05, seed=0):
    full, sparse = train_fnn(None, seed, steps=600, every=50), train_fnn(fraction, seed, steps=600, every=50)
    loss = (hv.Curve(full["losses"], "step", "training loss", label="full")
            * hv.Curve(sparse["losses"], "step", "training loss", label=rule_name(fraction))).opts(
        width=330, height=300, logy=True, title=f"seed {seed}, 600 steps", legend_position="top_right")
    similarity = hv.Curve(sparse["similarity"], "step", "cosine to full gradient").opts(
        width=330, height=300, ylim=(0, 1.02), title=f"cosine({rule_name(fraction)}, full)")
    points, ranks = rank_rows(full["net"], *full["batch"], [None, fraction])
    spectrum = hv.Scatter(points, "index", ["singular value", "rule"]).opts(
        color="rule", cmap="Category10", logy=True, size=6, width=330, height=300, title="singular values of G_W^(2)")
    accuracies = table([("full", f"{full['test']:.3f}", ranks[0][3]),
                        (rule_name(fraction), f"{sparse['test']:.3f}", ranks[1][3])],
                       ["rule", "test accuracy", "rank of G_W^(2)"])
    return (loss + similarity + spectrum + accuracies).cols(3).opts(shared_axes=False)


meprop_explorer = widgets.interactive(
    explore_meprop,
    {"auto_display": True},  # show what explore_meprop returns, as widgets.interact does
    fraction=widgets.Dropdown(options=[("5% (2 of 32)", 0.05), ("10% (4 of 32)", 0.1), ("25% (8 of 32)", 0.25),
                                       ("50% (16 of 32)", 0.5)], value=0.05, description="fraction"),
    seed=widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False),
)
meprop_explorer
"""),
    ("md", r"""
## Part 2. Truncated BPTT on a delayed-recall task

**Task.** Sequences of $\tau = 8$ steps, one input per step, $x^{(s)} = \pm 1$ at random; the target
at the last step is the input $d = 5$ steps back, $z^{*(8)} = x^{(3)}$, and the loss is
$\mathcal{E}^{(8)}$ alone (`t=8`: no targets at other steps). **Network.** `RNN` with layer sizes
$(1, 16, 1)$: a recurrent hidden level of 16 tanh units and a recurrent output level (tanh),
$U^{(k)}$ scaled to spectral radius 0.9 at the start. **Training.** Mini-batches of 32 from 512
sequences, SGD with momentum 0.9, learning rate 0.1, 600 steps, on $W^{(k)}, U^{(k)}, \mathbf{b}^{(k)}$;
256 other sequences to test (accuracy: the sign of $z^{(2,8)}$ equals $x^{(3)}$; chance is 0.5).

**Rules.** full BPTT; `truncate=3` ($K = 3 < d$: the recall step $s = 3$ lies outside the window
$s = 6, 7, 8$); `truncate=6` (the window reaches $s = 3$: a control); `backtrack="largest:3"`
(the three steps with the largest terms, chosen anew at every update, the same steps for all
samples of the batch and for $W$, $U$ and $\mathbf{b}$ of a level); `backtrack={3, 8}` (a fixed set:
the recall step and the output step).
"""),
    ("code", """
from hessian_core.sparse import parse_backtrack, select_steps

TAU, DELAY = 8, 5
RECALL = TAU - DELAY       # the 1-based step whose input is recalled
RULES = {
    "full": {},
    "truncate=3": {"truncate": 3},
    "truncate=6": {"truncate": 6},
    "largest:3": {"backtrack": "largest:3"},
    "steps {3, 8}": {"backtrack": {RECALL, TAU}},
}


def recall_data(n, seed, tau=TAU, delay=DELAY):
    \"\"\"n sequences of +-1 inputs (n, tau, 1); the target at the last step is the input delay steps back.\"\"\"
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(n, tau, 1))
    Z_target = np.zeros((n, tau, 1))
    Z_target[:, -1, 0] = X[:, tau - 1 - delay, 0]     # only E^(tau) is used (t=tau)
    return X, Z_target


def new_rnn(seed):
    return RNN.random((1, 16, 1), activation="tanh", output_activation="tanh", seed=seed, recurrent_scale=0.9)


def flat_rnn(gradients):
    \"\"\"dE/dW^(k), dE/dU^(k), dE/db^(k) of every level as one vector.\"\"\"
    return np.concatenate([np.concatenate([g.W.ravel(), g.U.ravel(), g.b.ravel()]) for g in gradients])


def kept_adjoints(rnn, X, Z_target, rule):
    \"\"\"The level-1 adjoints v~^(1,t,s) a rule keeps, as (r, tau, m), zero at the steps it drops.

    The factor V has one column per (sample, kept step), sample-major; for backtrack the kept
    steps are those the core selects (recomputed here with the same function).
    \"\"\"
    V = rnn.gradients(X, Z_target, t=TAU, **rule)[0].V
    r, m = len(X), V.shape[0]
    steps = list(range(TAU))
    if "backtrack" in rule:
        exact = rnn.gradients(X, Z_target, t=TAU)[0].V.T.reshape(r, TAU, m)
        steps = select_steps(parse_backtrack(rule["backtrack"], TAU), exact, X)
    kept = np.zeros((r, TAU, m))
    kept[:, steps, :] = V.T.reshape(r, len(steps), m)
    return kept
"""),
    ("md", r"""
### Truncation cannot see the dependency: exact zeros

At the initial weights of seed 0 and one batch of 32, two measurements. First, the credit the loss
gives the recalled input, $\partial\mathcal{E}^{(8)}/\partial x^{(3)}_p = W^{(1)T}\tilde{\mathbf{v}}^{(1,8,3)}_p$,
from the level-1 factor $V$ of full BPTT and, independently, from central differences of the loss
alone: the dependency is there, and full BPTT sees it. Second, the level-1 adjoints each rule keeps,
step by step: `truncate=K` leaves every step $s \le t - K$ **exactly** zero (not small: zero), so
$x^{(3)}$ receives no credit and no update can depend on how it reached the state; the steps it
keeps equal the full ones, because with one output time the adjoints inside the window do not
depend on what lies before it.
"""),
    ("code", """
rnn = new_rnn(0)
X, Z_target = recall_data(32, seed=0)
r = len(X)
exact = kept_adjoints(rnn, X, Z_target, RULES["full"])


def loss_with_recalled_input(p, value):
    X_changed = X.copy()
    X_changed[p, RECALL - 1, 0] = value
    return rnn.loss(X_changed, Z_target, t=TAU)


credit = exact[:, RECALL - 1, :] @ rnn.weights[0]          # dE/dx^(3) per sample, (r, 1)
h = 1e-6
credit_fd = np.array([(loss_with_recalled_input(p, X[p, RECALL - 1, 0] + h)
                       - loss_with_recalled_input(p, X[p, RECALL - 1, 0] - h)) / (2 * h) for p in range(r)])
print(f"dE/dx^(3): max |BPTT - central differences| = {np.abs(credit[:, 0] - credit_fd).max():.1e}, "
      f"largest |dE/dx^(3)| = {np.abs(credit_fd).max():.1e}")
assert np.abs(credit[:, 0] - credit_fd).max() < 1e-8 and np.abs(credit_fd).max() > 1e-6

full_gradient = flat_rnn(rnn.gradients(X, Z_target, t=TAU))
check_rows, bars = [], []
for name, rule in RULES.items():
    kept = kept_adjoints(rnn, X, Z_target, rule)
    zero = [s + 1 for s in range(TAU) if np.count_nonzero(kept[:, s, :]) == 0]
    nonzero = [s for s in range(TAU) if s + 1 not in zero]
    recall_credit = np.abs(kept[:, RECALL - 1, :] @ rnn.weights[0]).max()
    check_rows.append((name, zero, f"{recall_credit:.1e}", np.abs(kept[:, nonzero] - exact[:, nonzero]).max(),
                       f"{cosine(flat_rnn(rnn.gradients(X, Z_target, t=TAU, **rule)), full_gradient):.3f}"))
    bars += [(str(s + 1), name, float(np.linalg.norm(kept[:, s, :]))) for s in range(TAU)]
    print(f"{name:>13}: steps exactly zero {zero}, max |dE/dx^(3)| seen {check_rows[-1][2]}, "
          f"kept steps differ from full by {check_rows[-1][3]:.1e}, cosine to full {check_rows[-1][4]}")
assert check_rows[1][1] == [1, 2, 3, 4, 5] and float(check_rows[1][2]) == 0.0 and check_rows[1][3] == 0.0

(hv.Bars(bars, ["step s", "rule"], "||v~^(1,8,s)|| kept").opts(
    width=700, height=300, xrotation=90, tools=["hover"], title="level-1 adjoints kept per step, at the initial weights")
 + table(check_rows, ["rule", "steps exactly zero", "max credit to x^(3)", "kept steps vs full", "cosine to full"])
 ).cols(1).opts(shared_axes=False)
"""),
    ("md", r"""
At the initial weights of seed 0, `largest:3` picks the last three steps, the same as `truncate=3`: the
adjoints shrink going back in time while $U\,\mathrm{diag}(\mathbf{f}')$ contracts (notebook 3). Whether
it ever picks the recall step depends on training.

### Training with each rule

Seeds 0, 1, 2 (the seed draws the data, the weights and the batches). The table gives the final
test loss $\mathcal{E}^{(8)}$ and accuracy (mean ± standard deviation over seeds, and per seed),
and the cosine similarity between each rule's gradient and the full BPTT gradient at the same
weights and batch, at the start and averaged along the rule's own training run.
"""),
    ("code", """
def train_rnn(rule, seed, steps=600, batch=32, learning_rate=0.1, momentum=0.9, every=30):
    \"\"\"SGD + momentum on W, U, b with the rule's gradients; loss and cosine to full every `every` steps.\"\"\"
    X_train, Z_train = recall_data(512, seed)
    X_test, Z_test = recall_data(256, seed + 1000)
    rnn = new_rnn(seed)
    parameters = [p for level in zip(rnn.weights, rnn.recurrent, rnn.biases, strict=True) for p in level]
    velocity = [np.zeros_like(p) for p in parameters]
    draw = np.random.default_rng(seed + 100)
    losses, similarity = [], []
    for step in range(steps + 1):
        rows = draw.choice(len(X_train), batch, replace=False)
        gradients = rnn.gradients(X_train[rows], Z_train[rows], t=TAU, **rule)
        if step % every == 0:
            losses.append((step, rnn.loss(X_test, Z_test, t=TAU)))
            full = gradients if not rule else rnn.gradients(X_train[rows], Z_train[rows], t=TAU)
            similarity.append((step, cosine(flat_rnn(gradients), flat_rnn(full))))
        if step == steps:
            break
        for p, v, g in zip(parameters, velocity, [a for gr in gradients for a in (gr.W, gr.U, gr.b)], strict=True):
            v *= momentum
            v -= learning_rate * g
            p += v      # in place: rnn.weights, rnn.recurrent and rnn.biases hold these arrays
    output = rnn.forward(X_test).output[:, -1, 0]
    return {"losses": losses, "similarity": similarity, "loss": losses[-1][1],
            "accuracy": float(np.mean(np.sign(output) == Z_test[:, -1, 0]))}


rnn_runs = {(name, seed): train_rnn(rule, seed) for name, rule in RULES.items() for seed in SEEDS}
rows = []
for name in RULES:
    results = [rnn_runs[name, seed] for seed in SEEDS]
    rows.append((name, mean_std([x["loss"] for x in results], ".1e"), mean_std([x["accuracy"] for x in results]),
                 " ".join(f"{x['accuracy']:.3f}" for x in results),
                 f"{np.mean([x['similarity'][0][1] for x in results]):.3f}",
                 f"{np.mean([c for x in results for _, c in x['similarity']]):.3f}"))
    print(f"{name:>13}: test loss {rows[-1][1]}, accuracy {rows[-1][2]} (seeds {rows[-1][3]}), "
          f"cosine to full at start {rows[-1][4]}, along training {rows[-1][5]}")
curves = hv.Overlay([hv.Curve([(s, np.mean([rnn_runs[name, seed]["losses"][i][1] for seed in SEEDS]))
                               for i, (s, _) in enumerate(rnn_runs[name, 0]["losses"])],
                              "step", "test loss E^(8)", label=name) for name in RULES]).opts(
    width=420, height=320, title="test loss (mean of seeds)", legend_position="bottom_left")
similarity = hv.Overlay([hv.Curve([(s, np.mean([rnn_runs[name, seed]["similarity"][i][1] for seed in SEEDS]))
                                   for i, (s, _) in enumerate(rnn_runs[name, 0]["similarity"])],
                                  "step", "cosine to full gradient", label=name) for name in list(RULES)[1:]]).opts(
    width=420, height=320, ylim=(-1.02, 1.02), title="cosine(rule, full) at the rule's weights", legend_position="bottom_left")
(curves + similarity + table(rows, ["rule", "test loss", "test accuracy", f"accuracy, seeds {SEEDS}",
                                    "cosine at start", "cosine along training"])).cols(2).opts(shared_axes=False)
"""),
    ("md", r"""
**Reading the results.** Truncation with $K = 3 < d$ cannot learn the recall: its gradient has no
term at the recall step, exactly, so the network is never told that $x^{(3)}$ matters and the
accuracy stays near chance, although its gradient is far from orthogonal to the full one (the
cosine in the table: most of the full gradient is about fitting the output, not about
remembering). With $K = 6$ the window reaches the recall step and the task is learned. A
selection rule that adapts (`largest:3`) can learn what a fixed window of the same size cannot.
A fixed set that contains the recall step but none of the steps between it and the output
(`{3, 8}`) keeps the credit for $x^{(3)}$ in $W^{(1)}$ and still fails; we have not isolated why.
A likely reason: it drops the terms of $U^{(1)}$ at steps 4-7, the ones that would teach the
network to hold the value until the output. These are measurements on one small task with
three seeds; the table above, not this paragraph, is the result.

### Explore truncation

**K** is the window of `truncate=K` and the size of `largest:K`; **seed** draws data, weights and
batches. Each change retrains a shorter run (400 steps) of full BPTT, `truncate=K` and `largest:K`.
The recall step is $s = 3$ of $\tau = 8$: `truncate=K` reaches it from $K = 6$ on.
"""),
    ("code", """
def explore_truncation(K=3, seed=0):
    rules = {"full": {}, f"truncate={K}": {"truncate": K}, f"largest:{K}": {"backtrack": f"largest:{K}"}}
    results = {name: train_rnn(rule, seed, steps=400, every=25) for name, rule in rules.items()}
    rnn, (X, Z_target) = new_rnn(seed), recall_data(32, seed)
    bars = [(str(s + 1), name, float(np.linalg.norm(kept_adjoints(rnn, X, Z_target, rule)[:, s, :])))
            for name, rule in rules.items() for s in range(TAU)]
    adjoints = hv.Bars(bars, ["step s", "rule"], "||v~^(1,8,s)|| kept").opts(
        width=520, height=300, xrotation=90, title=f"adjoints kept at the initial weights, seed {seed}")
    loss = hv.Overlay([hv.Curve(x["losses"], "step", "test loss E^(8)", label=name) for name, x in results.items()]).opts(
        width=360, height=300, title="400 steps", legend_position="bottom_left")
    summary = table([(name, f"{x['loss']:.1e}", f"{x['accuracy']:.3f}",
                      f"{np.mean([c for _, c in x['similarity']]):.3f}") for name, x in results.items()],
                    ["rule", "test loss", "test accuracy", "mean cosine to full"])
    return (adjoints + loss + summary).cols(2).opts(shared_axes=False)


truncation_explorer = widgets.interactive(
    explore_truncation,
    {"auto_display": True},  # show what explore_truncation returns, as widgets.interact does
    K=widgets.IntSlider(value=3, min=1, max=TAU - 1, description="K", continuous_update=False),
    seed=widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False),
)
truncation_explorer
"""),
    ("md", r"""
**What to take away.** In matrix form both ideas drop terms of the same sums: meProp empties
entries of the columns of $V$ in $G = V Z^T$, truncated BPTT and selected steps drop whole terms
$\tilde{\mathbf{v}}^{(k,t,s)}\mathbf{z}^{(k-1,s)T}$ of eq. (55). Dropping entries of $\mathbf{v}$ changed
the direction of the gradient a lot (cosine well below 1) and the outcome on the spirals little;
dropping the term of the one step that matters removes the dependency entirely, however similar the
rest of the gradient looks.
"""),
]


NOTEBOOKS = {
    "01_fnn_backprop.ipynb": NB1,
    "02_fnn_hessian.ipynb": NB2,
    "03_rnn_bptt.ipynb": NB3,
    "04_rnn_hessian_weyl.ipynb": NB4,
    "05_errata.ipynb": NB5,
    "06_dashboard.ipynb": NB6,
    "07_sparse_backprop.ipynb": NB7,
}


def build(cells: list[tuple[str, str]], stem: str) -> nbformat.NotebookNode:
    """A notebook without outputs, with deterministic cell ids (stable diffs)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for number, (kind, source) in enumerate(cells):
        source = dedent(source).strip("\n")
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        notebook.cells.append(make(source, id=f"{stem}-{number:02d}"))
    nbformat.validate(notebook)
    return notebook


def render(name: str) -> str:
    """The text of notebook ``name`` as this script writes it."""
    return nbformat.writes(build(NOTEBOOKS[name], name.split("_")[0]), version=4) + "\n"


def main(argv: list[str]) -> int:
    names = argv or list(NOTEBOOKS)
    for name in names:
        (HERE / name).write_text(render(name), encoding="utf-8")
        print("wrote", HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
