# %% [markdown]
# # 8. Beyond the paper: the cross-entropy Hessian, and outliers tied to the classes
#
# The paper's loss is the squared error. Classification is taught with a softmax and the
# cross-entropy, and `hessian_core` takes `loss="cross_entropy"`: the last level's outputs
# $\mathbf{z}^{(l)}$ are the logits of a softmax over the $M$ classes and the targets are class
# probabilities (one-hot rows for labels),
# $$\mathcal{E} = -\frac{1}{r}\sum_{p=1}^r \sum_{i=1}^M z^*_{p,i}\,\log \pi_{p,i}, \qquad \boldsymbol{\pi}_p = \mathrm{softmax}(\mathbf{z}^{(l)}_p).$$
# The softmax belongs to the loss, so the output level is linear (`output_activation="identity"`).
# Conventions as in notebooks 1 and 2: 1-based levels, samples in rows, row-major
# $\mathrm{vec}(W)$.

# %% [markdown]
# ## The claim
#
# For one sample, with $\boldsymbol{\pi} = \mathrm{softmax}(\mathbf{z})$ and targets that sum to 1,
# $$\frac{\partial \mathcal{E}}{\partial \mathbf{z}^{(l)}} = \frac{1}{r}(\boldsymbol{\pi} - \mathbf{z}^*), \qquad Q^{(l)} = \frac{\partial^2 \mathcal{E}}{\partial \mathbf{z}^{(l)}\partial \mathbf{z}^{(l)}} = \frac{1}{r}\left(\mathrm{diag}(\boldsymbol{\pi}) - \boldsymbol{\pi}\boldsymbol{\pi}^T\right).$$
# This matrix replaces the squared loss's $Q^{(l)} = I/r$ as the seed of the Hessian recursion of
# notebook 2 (Theorem 1, as corrected in `hessian_core.fnn`):
# $M^{(k)} = Q^{(k)} \circ F^{(k)} + D^{(k)}$, $Q^{(k-1)} = W^{(k)T} M^{(k)} W^{(k)}$,
# $H_w^{(k)} = \sum_p M_p^{(k)} \otimes \mathbf{z}_p^{(k-1)}\mathbf{z}_p^{(k-1)T}$.
# (In the paper's seed $C^{(l)} = I \circ F^{(l)}$, eq. (32), the identity is this matrix for the
# squared loss; `formula="paper"` exists for that loss only, see `docs/errata.md`.)
#
# **Rank $\le M - 1$.** $(\mathrm{diag}(\boldsymbol{\pi}) - \boldsymbol{\pi}\boldsymbol{\pi}^T)\mathbf{1} = \boldsymbol{\pi} - \boldsymbol{\pi}(\mathbf{1}^T\boldsymbol{\pi}) = 0$:
# adding the same number to every logit leaves the softmax unchanged. And
# $\mathbf{x}^T(\mathrm{diag}(\boldsymbol{\pi}) - \boldsymbol{\pi}\boldsymbol{\pi}^T)\mathbf{x} = \sum_i \pi_i x_i^2 - (\sum_i \pi_i x_i)^2$
# is the variance of $\mathbf{x}$ under $\boldsymbol{\pi}$: the matrix is positive semidefinite, with
# rank exactly $M - 1$ when every $\pi_i > 0$.
#
# At the output level ($f$ the identity, so $M_p^{(l)} = Q_p^{(l)}$) the layer Hessian
# $H_w^{(l)} = \sum_p Q_p^{(l)} \otimes \mathbf{z}_p^{(l-1)}\mathbf{z}_p^{(l-1)T}$ inherits the null
# vector: $\mathbf{1} \otimes \mathbf{x}$ (the same row $\mathbf{x}$ added to every row of $W^{(l)}$) is
# in its kernel for every $\mathbf{x}$, so $\mathrm{rank}\,H_w^{(l)} \le (M - 1)\min(r, n)$.
#
# **What is reported for trained classifiers.** Sagun et al. (2017, arXiv:1706.04454) and
# Papyan (2019, arXiv:1901.08244) find the Hessian of a trained classifier to be a bulk of
# eigenvalues near zero plus a few outliers tied to the classes: about $M$ of them (or $M - 1$).
# The last part of this notebook measures that on a small task, for $M = 2, \dots, 5$.

# %%
import holoviews as hv
import ipywidgets as widgets
import numpy as np

from hessian_core import FNN, numerical_rank

from nbhelpers import LEGEND_BELOW, ROW_WIDTH, check_table, column_widths, inline_panel_stylesheets

hv.extension("bokeh", inline=True)  # BokehJS from the installed package: the plots work offline
inline_panel_stylesheets()  # and Panel's stylesheets too (nbhelpers)

# %% [markdown]
# ## One sample: the loss Hessian with respect to the logits
#
# $M = 4$ logits and a one-hot target. The reference is independent of `hessian_core`: the loss
# written here in two lines of NumPy, differentiated twice by central differences. Then the same
# matrix from `hessian_core`: for one sample ($r = 1$) at the output level,
# $H_w^{(l)} = Q^{(l)} \otimes \mathbf{z}^{(l-1)}\mathbf{z}^{(l-1)T}$.

# %%
from nbhelpers import central_difference_hessian


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def cross_entropy(z, target):
    """-sum_i z*_i log softmax(z)_i, with log softmax(z) = z - max z - log sum exp(z - max z)."""
    shifted = z - z.max()
    return -float(target @ (shifted - np.log(np.exp(shifted).sum())))


M = 4
rng = np.random.default_rng(0)
logits = rng.standard_normal(M)
target = np.eye(M)[2]
pi = softmax(logits)
S = np.diag(pi) - np.outer(pi, pi)                   # d^2 E / dz dz for r = 1
S_fd = central_difference_hessian(lambda z: cross_entropy(z, target), logits)
eigenvalues = np.linalg.eigvalsh(S)
print("pi =", np.round(pi, 4))
print(f"max |S - S_fd| = {np.abs(S - S_fd).max():.1e}")
print("S @ 1 =", S @ np.ones(M))
print("eigenvalues of S:", np.round(eigenvalues, 6), " rank", numerical_rank(S), "= M - 1 =", M - 1)
assert np.abs(S - S_fd).max() < 1e-8 and numerical_rank(S) == M - 1 and eigenvalues.min() > -1e-15

net = FNN.random((3, 5, M), activation="tanh", output_activation="identity", loss="cross_entropy", seed=0)
x = rng.standard_normal((1, 3))
z_hidden = net.forward(x).activations[1][0]          # z^(l-1)
pi_net = softmax(net.forward(x).output[0])
Q = np.diag(pi_net) - np.outer(pi_net, pi_net)
H = net.hessian(x, target[None, :], layer=2).dense()
print(f"max |H_W^(2) - Q kron z z^T| = {np.abs(H - np.kron(Q, np.outer(z_hidden, z_hidden))).max():.1e}")
assert np.allclose(H, np.kron(Q, np.outer(z_hidden, z_hidden)), rtol=0, atol=1e-14)

# %% [markdown]
# ## Every level of a network, against finite differences
#
# A tanh network $3 \to 5 \to 4 \to 3$ with a linear output and the cross-entropy, a batch of
# $r = 6$ samples with random labels. For each level: the exact Hessian of `hessian_core` against
# the four-point central differences of the loss alone (`nbhelpers`, as in notebooks 2 and 5);
# its eigenvalues from the Kronecker factors against those of the dense matrix; and, at the
# output level, the rank against the bound $(M - 1)\min(r, n)$. The paper's formula is refused for
# this loss.

# %%
from nbhelpers import fd_fnn_hessian

net = FNN.random((3, 5, 4, 3), activation="tanh", output_activation="identity", loss="cross_entropy", seed=1)
X = rng.standard_normal((6, 3))
Z_target = np.eye(3)[rng.integers(0, 3, size=6)]
rows = []
for k in (1, 2, 3):
    hessian = net.hessian(X, Z_target, layer=k)
    H, H_fd = hessian.dense(), fd_fnn_hessian(net, X, Z_target, k)
    error = np.abs(H - H_fd).max() / np.abs(H).max()
    eig_error = np.abs(hessian.eigvalsh() - np.linalg.eigvalsh(H)).max() / np.abs(H).max()
    rows += [(f"level {k}: max |H - H_fd| / max |H|", f"{error:.1e}"),
             (f"level {k}: eigvalsh() against eig(dense)", f"{eig_error:.1e}")]
    assert error < 1e-6 and eig_error < 1e-12
m, n = net.weights[2].shape
bound = (m - 1) * min(len(X), n)
rank = numerical_rank(net.hessian(X, Z_target, layer=3).dense())
rows.append((f"rank H_W^(3) ({m * n} x {m * n})", f"{rank}  (bound (M-1) min(r, n) = {bound})"))
assert rank <= bound
try:
    net.hessian(X, Z_target, layer=3, formula="paper")
except ValueError as error:
    rows.append(('formula="paper"', f"ValueError: {str(error)[:60]}..."))
check_table(rows).opts(width=620)

# %% [markdown]
# ## Outliers against the number of classes
#
# **The task.** $M$ Gaussian blobs in the plane (centres on a circle of radius 2, standard
# deviation 1, so that neighbouring classes overlap), 50 samples per class; a tanh network
# $2 \to 16 \to 16 \to M$ with a linear output and the cross-entropy, trained by full-batch
# gradient descent with momentum (300 steps, step 0.2, momentum 0.9). Seeds 0, 1, 2 draw the
# data and the initial weights.
#
# **What is measured.** The exact spectrum (`eigvalsh()`, from the Kronecker factors) of the
# hidden level's Hessian $H_w^{(2)}$ (256 weights) and of the output level's $H_w^{(3)}$
# ($16M$ weights), at the initial weights and after training, on the training batch.
# **Outliers** are counted by a rule fixed before looking: sort the eigenvalues
# $\lambda_1 \ge \lambda_2 \ge \dots$; among the 12 largest, the widest relative gap
# $\lambda_i / \lambda_{i+1}$ separates the outliers ($\lambda_1, \dots, \lambda_i$) from the bulk.
# The count is only as good as the gap is clear, so the table also gives the gap and the largest
# eigenvalues relative to $\lambda_1$.

# %%
CLASSES = [2, 3, 4, 5]
SEEDS = [0, 1, 2]
WIDTH = 16


def blobs(classes, seed, per_class=50, radius=2.0, spread=1.0):
    """`classes` Gaussian blobs in the plane, centres on a circle; one-hot targets."""
    draw = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(classes) / classes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = np.repeat(np.arange(classes), per_class)
    return centres[labels] + spread * draw.standard_normal((len(labels), 2)), np.eye(classes)[labels]


def train(classes, seed, steps=300, learning_rate=0.2, momentum=0.9):
    """Full-batch gradient descent with momentum; the network before and after, and the data."""
    X, Z_target = blobs(classes, seed)
    net = FNN.random((2, WIDTH, WIDTH, classes), activation="tanh", output_activation="identity",
                     loss="cross_entropy", seed=seed)
    initial = FNN([W.copy() for W in net.weights], [b.copy() for b in net.biases], activation="tanh",
                  output_activation="identity", loss="cross_entropy")
    parameters = [p for pair in zip(net.weights, net.biases, strict=True) for p in pair]
    velocity = [np.zeros_like(p) for p in parameters]
    for _ in range(steps):
        gradients = [a for g in net.gradients(X, Z_target) for a in (g.W, g.b)]
        for p, v, g in zip(parameters, velocity, gradients, strict=True):
            v *= momentum
            v -= learning_rate * g
            p += v      # in place: net.weights and net.biases hold these arrays
    return initial, net, X, Z_target


def accuracy(net, X, Z_target):
    return float(np.mean(net.forward(X).output.argmax(axis=1) == Z_target.argmax(axis=1)))


def outliers(eigenvalues, top=12):
    """(count, gap): the widest ratio lambda_i / lambda_(i+1) among the `top` largest."""
    largest = np.sort(eigenvalues)[::-1][: top + 1]
    largest = np.maximum(largest, np.finfo(float).tiny)
    ratios = largest[:-1] / largest[1:]
    count = int(np.argmax(ratios)) + 1
    return count, float(ratios[count - 1])


spectra, results = {}, []
for classes in CLASSES:
    for seed in SEEDS:
        initial, net, X, Z_target = train(classes, seed)
        for level in (2, 3):
            for state, network in (("initial", initial), ("trained", net)):
                eigenvalues = network.hessian(X, Z_target, layer=level).eigvalsh()
                spectra[classes, seed, level, state] = eigenvalues
                count, gap = outliers(eigenvalues)
                results.append(dict(M=classes, seed=seed, level=level, state=state, count=count, gap=gap,
                                    loss=network.loss(X, Z_target), accuracy=accuracy(network, X, Z_target),
                                    top=np.sort(eigenvalues)[::-1][:8]))

table = hv.Table(
    [(r["M"], r["seed"], r["level"], r["state"], f"{r['loss']:.3f}", f"{r['accuracy']:.2f}", r["count"],
      f"{r['gap']:.1f}", f"{r['top'][0]:.2e}", " ".join(f"{v / r['top'][0]:.2f}" for v in r["top"][1:]))
     for r in results],
    ["M", "seed", "level", "weights"],
    ["loss", "accuracy", "outliers", "gap", "lambda_1", "lambda_2..8 / lambda_1"],
).opts(width=ROW_WIDTH, height=420, hooks=[column_widths(35, 40, 45, 65, 55, 75, 65, 45, 75, 300)])
table

# %% [markdown]
# The counts side by side: for each $M$ and level, the outlier count of each seed after training
# and at the initial weights, against the reference lines $M$ and $M - 1$.

# %%
summary = []
for classes in CLASSES:
    for level in (2, 3):
        for state in ("trained", "initial"):
            counts = [r["count"] for r in results
                      if (r["M"], r["level"], r["state"]) == (classes, level, state)]
            summary.append((classes, level, state, " ".join(map(str, counts)), f"{np.mean(counts):.1f}"))
print(f"{'M':>2} {'level':>5} {'weights':>8}  outliers (seeds {SEEDS})  mean")
for classes, level, state, counts, mean in summary:
    print(f"{classes:>2} {level:>5} {state:>8}  {counts:>22}  {mean:>4}")

points = hv.Overlay([
    hv.Scatter([(r["M"] + (0.08 if r["level"] == 3 else -0.08), r["count"]) for r in results
                if r["state"] == "trained" and r["level"] == level], "classes M", "outliers",
               label=f"level {level}, trained").opts(size=9, marker="o" if level == 2 else "s")
    for level in (2, 3)
] + [hv.Curve([(c, c) for c in CLASSES], label="M").opts(color="black", line_dash="dashed"),
     hv.Curve([(c, c - 1) for c in CLASSES], label="M - 1").opts(color="gray", line_dash="dotted")])
points.opts(width=420, height=390, title="outliers per seed after training", **LEGEND_BELOW)


# %% [markdown]
# Why the output level has $2(M - 1)$ outliers at the initial weights: its Hessian is
# $\sum_p Q_p \otimes \mathbf{z}_p^{(2)}\mathbf{z}_p^{(2)T}$, and each direction along which the
# features $\mathbf{z}^{(2)}$ vary strongly carries $M - 1$ eigenvalues. The singular values of
# $Z^{(2)}$ (samples in rows) at the initial weights, relative to the largest (seed 0):

# %%
for classes in CLASSES:
    initial, _, X, _ = train(classes, 0, steps=0)
    singular = np.linalg.svd(initial.forward(X).activations[2], compute_uv=False)
    print(f"M = {classes}:", np.round(singular[:5] / singular[0], 3))

# %% [markdown]
# **What this run shows** (seeds 0-2, as printed above; the table is the record).
#
# - *Output level, initial weights:* the clearest outliers of all, exactly $2(M - 1)$ for every $M$
#   and seed, with gaps of 7 to 31. That is the rank structure above, not the classes: the
#   untrained features $\mathbf{z}^{(2)}$ vary along two strong directions (the singular values of
#   $Z^{(2)}$ fall below a fifth of the largest after the second), each carrying $M - 1$ eigenvalues.
# - *Output level, trained:* the rule counts about $M$ (3, 3, 4 at $M = 3$; 5, 4, 4 at $M = 4$;
#   5, 5, 5 at $M = 5$), closer to $M$ than to $M - 1$, but the gaps are only 2.3 to 4.7: a shoulder
#   above the bulk rather than a clean separation (for $M \ge 3$). At $M = 2$ the training loss goes
#   to nearly zero (0.000 to 0.022), the Hessian shrinks with it, and the counts scatter (5, 2, 3)
#   although the gaps are wide.
# - *Hidden level:* no clean separation after training (gaps below 2.5 in 8 of the 12 runs), and
#   counts of 1 to 5 that do not follow $M$.
#
# So on this two-dimensional toy task the trained output-level Hessian has roughly $M$ eigenvalues
# standing out, in line with Sagun et al.'s count, but weakly; the sharp bulk-plus-outliers picture
# reported for larger networks and datasets is not reproduced here at the hidden level.

# %% [markdown]
# ### Explore
#
# **classes** is $M$, **seed** draws the data and the initial weights, **level** picks the layer
# Hessian. Each change trains a fresh network (as above) and draws the 40 largest eigenvalues of its
# spectrum after training and at the initial weights, with the counted outliers marked.

# %%
def explore(classes=4, seed=0, level=3):
    initial, net, X, Z_target = train(classes, seed)
    curves = []
    for state, network, colour in (("trained", net, "#1f77b4"), ("initial", initial, "#aaaaaa")):
        eigenvalues = np.sort(network.hessian(X, Z_target, layer=level).eigvalsh())[::-1][:40]
        count, gap = outliers(eigenvalues)
        shown = np.maximum(eigenvalues, 1e-12)
        curves.append(hv.Scatter((np.arange(1, len(shown) + 1), shown), "index i", "lambda_i",
                                 label=f"{state}: {count} outliers (gap {gap:.1f})").opts(color=colour, size=6))
        curves.append(hv.VLine(count + 0.5).opts(color=colour, line_dash="dashed"))
    title = f"H_W^({level}), M = {classes}, seed {seed}, accuracy {accuracy(net, X, Z_target):.2f}"
    return hv.Overlay(curves).opts(width=620, height=390, logy=True, title=title, **LEGEND_BELOW)


explorer = widgets.interactive(
    explore,
    {"auto_display": True},  # show what explore returns, as widgets.interact does
    classes=widgets.IntSlider(value=4, min=2, max=5, description="classes", continuous_update=False),
    seed=widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False),
    level=widgets.Dropdown(options=[("hidden W^(2)", 2), ("output W^(3)", 3)], value=3, description="level"),
)
explorer
