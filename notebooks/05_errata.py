# %% [markdown]
# # 5. Where the paper is wrong: each erratum, reproduced
#
# The Kronecker *structure* of the paper's Hessians is right, but several of the equations that
# fill in the small matrices are not. `docs/errata.md` lists them; this notebook reproduces each
# one numerically, with the paper's form beside the exact one and the finite-difference Hessian of
# the loss as the referee.
#
# | eq. | the paper says | exact | holds when |
# | --- | --- | --- | --- |
# | (32) | $C^{(l)} = I \circ F^{(l)}$, then $A^{(l)} = C^{(l)} \circ F^{(l)} + D^{(l)}$ | $A^{(l)} = I \circ F^{(l)} + D^{(l)}$: $f'^2$, not $f'^4$ | $f' \in \{0, 1\}$ at the output |
# | (34)-(35) | $\mathbf{v}^{(k-1)} = (W^{(k)T}\mathbf{v}^{(k)}) \circ \mathbf{f}''(\mathbf{y}^{(k-1)})$ | $D^{(k)} = \mathrm{diag}(\mathbf{a}^{(k)} \circ \mathbf{f}''(\mathbf{y}^{(k)}))$, $\mathbf{a}^{(k)} = \partial\mathcal{E}/\partial\mathbf{z}^{(k)}$ from the first-order pass | $f'' = 0$ at hidden levels, or one level |
# | (77) | $\tilde C^{(k,t,s,\zeta)} = P_s^T A^{(k,t)} P_\zeta$ | also $f''(\mathbf{y}^{(k,h)})$ terms of the steps $h = s, \dots, t-1$ | piecewise-linear $f$, or $t = 1$ |
# | (82) | $C^{(k-1,t)} = W^{(k)T}A^{(k,t)}W^{(k)} + U^{(k-1)T}A^{(k-1,t+1)}U^{(k-1)}$ | also the paths that climb to level $k$ before $t$ and travel in time there | one level, the top level, or $t = 1$ |
# | (75) | $H_u^{(k,t)} = \sum_{s,\zeta}\tilde C^{(k,t,s,\zeta)} \otimes \mathbf{z}^{(k,s-1)}\mathbf{z}^{(k,\zeta-1)T}$ | plus terms from $\mathbf{z}^{(k,s-1)}$ depending on $U^{(k)}$ itself: not a Kronecker sum | $t = 1$ only |
#
# `formula="paper"` evaluates the printed equations, `formula="exact"` the true Hessian, and
# `hessian_core.errata.measure_fnn` / `measure_rnn` measure each erratum alone (the other equations
# replaced by their exact forms), as relative Frobenius errors
# $\|H_{\text{paper}} - H_{\text{exact}}\|_F / \|H_{\text{exact}}\|_F$.

# %%
import holoviews as hv
import ipywidgets as widgets
import numpy as np

from hessian_core import FNN, RNN
from hessian_core.errata import measure_fnn, measure_rnn

from nbhelpers import (
    LEGEND_BELOW,
    ROW_WIDTH,
    column_widths,
    inline_panel_stylesheets,
    matrix_picture,
)

hv.extension("bokeh", inline=True)  # BokehJS from the installed package: the plots work offline
inline_panel_stylesheets()  # and Panel's stylesheets too (nbhelpers)

# %% [markdown]
# The referee: Hessians from central differences of the loss alone, for any parameter block of any
# level. `relative(A, B)` is $\|A - B\|_F / \|B\|_F$.

# %%
from nbhelpers import fd_fnn_hessian, fd_rnn_hessian, relative

# %% [markdown]
# ## Eq. (32): the output seed applies $F^{(l)}$ twice
#
# At the output level the loss Hessian with respect to $\mathbf{z}^{(l)}$ is $I$ (eq. 39), so the
# Hessian with respect to $\mathbf{y}^{(l)}$ is
# $\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(l)}))\,I\,\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(l)})) + D^{(l)} = I \circ F^{(l)} + D^{(l)}$.
# The paper seeds $C^{(l)} = I \circ F^{(l)}$ (32) *and* multiplies by $F^{(l)}$ again in (28):
# $A^{(l)} = I \circ F^{(l)} \circ F^{(l)} + D^{(l)}$, a diagonal of $f'^4$ instead of $f'^2$. With one
# sample ($r = 1$) and a sigmoid FNN $3 \to 4 \to 3 \to 2$, at the top level $l = 3$:

# %%
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

# %% [markdown]
# ## Eq. (34)-(35): the curvature term propagates through $f''$ instead of $f'$
#
# In (37) the diagonal term is $\frac{\partial\mathcal{E}}{\partial z_i^{(k)}} f''(y_i^{(k)})$, with the
# *first-order* derivative $\mathbf{a}^{(k)} = \partial\mathcal{E}/\partial\mathbf{z}^{(k)}$, which
# back-propagates through $f'$: $\mathbf{a}^{(k-1)} = W^{(k)T}(\mathbf{a}^{(k)} \circ \mathbf{f}'(\mathbf{y}^{(k)}))$.
# The paper's vector (34)-(35) propagates through $f''$ instead. At level $k = l - 1 = 2$ of the
# same network: the exact diagonal of $D^{(2)}$ by hand, the same read off `hessian_core`
# ($M^{(2)} - (W^{(3)T}M^{(3)}W^{(3)}) \circ F^{(2)}$, eq. 33), and the paper's $\mathbf{v}^{(2)}$.

# %%
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
).opts(width=460, height=330, color="form", cmap="Category10", multi_level=False, **LEGEND_BELOW,
       title=f"diagonal of D^({k}): exact against eq. (35)", tools=["hover"])

# %%
measured = {item.equation: item for item in measure_fnn(net, x, z_target)}
paper_k = net.hessian(x, z_target, layer=k, formula="paper").dense()
exact_k = net.hessian(x, z_target, layer=k).dense()
H_fd = fd_fnn_hessian(net, x, z_target, k)
print(f"(34)-(35) alone (with the exact seed): relative error {measured['(34)-(35)'].relative_error:.2f}")
print(f"level {k} against finite differences: paper (both errata) {relative(paper_k, H_fd):.2f},"
      f" exact {relative(exact_k, H_fd):.1e}")
assert relative(exact_k, H_fd) < 1e-4


# %% [markdown]
# ## Eq. (77): second-order terms of the earlier time steps are missing
#
# For an RNN, a perturbation of $\mathbf{y}^{(k,s)}$ reaches the output at time $t$ through the
# nonlinearity at every step $h = s, \dots, t-1$. The product
# $P_s = \prod_{h=s}^{t-1} U^{(k)}\mathrm{diag}(\mathbf{f}'(\mathbf{y}^{(k,h)}))$ in (77) carries only the
# first-order part; each of those steps also contributes a curvature term
# $\frac{\partial\mathcal{E}}{\partial z^{(k,h)}} f''(y^{(k,h)})$. Below, $\tilde C = P_s^T A P_\zeta$ is built
# by hand from the **exact** $A^{(1,t)}$ (the $s = \zeta = t$ block, so that only (77) is tested),
# for a one-level tanh RNN at $t = 4$, against the exact blocks $M_{s,\zeta}$.

# %%
def eq77_blocks(rnn, X, Z_target, t):
    """C~_(s,zeta) = P_s^T A P_zeta of eq. (77) for sample 1, with the exact A^(1,t)."""
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


THIRD = ROW_WIDTH // 3  # three pictures side by side fit the notebook's width


def block_grid(blocks, title):
    T, m = blocks.shape[0], blocks.shape[1]
    return matrix_picture(blocks.reshape(T * m, T * m), title, block=(m, m), width=THIRD, height=260)


(
    block_grid(exact.blocks[0], "exact M_(s,zeta)")
    + block_grid(paper_blocks, "eq. (77) with the exact A")
    + block_grid(exact.blocks[0] - paper_blocks, "exact - (77)")
)

# %% [markdown]
# The difference vanishes in the $s = \zeta = t$ block (the anchor) and grows with the number of
# steps between $s$ or $\zeta$ and $t$. For ReLU $f'' = 0$, and (77) is exact:

# %%
relu_rnn = RNN.random((2, 3), activation="relu", seed=0, recurrent_scale=0.9)
relu_exact, relu_blocks = eq77_blocks(relu_rnn, X, Z_target, t)
error = relative(kronecker_sum(relu_blocks, relu_exact.inputs[0]), relu_exact.dense())
print(f"relu: (77) relative error {error:.1e}")
assert error < 1e-12

# %% [markdown]
# ## Eq. (82): paths through the upper level's feedback are missing
#
# Below the top level, a perturbation of $\mathbf{y}^{(k-1,s)}$ can climb to level $k$ at any step
# between $s$ and $t$ and then travel in time through $U^{(k)}$. Eq. (82) only lets it climb at
# time $t$. This is wrong **even for ReLU**. Level 1 of a two-level RNN $2 \to 3 \to 2$:

# %%
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

# %% [markdown]
# ## Eq. (75): the recurrent Hessian is not a Kronecker sum
#
# In (75) the factor $\mathbf{z}^{(k,s-1)}$ is treated like the input $\mathbf{z}^{(k-1,s)}$ of (74),
# but it is the level's own earlier state and depends on $U^{(k)}$. Differentiating it gives extra
# terms $\mathbf{g}_y^{(k,s)}\,(\partial\mathbf{z}^{(k,s-1)}/\partial U)^T$ that are not of Kronecker form.
# `hessian_core` returns the exact $H_u$ as a Kronecker sum with the exact $M$ (`kronecker_part()`)
# plus a dense `remainder`. Wrong **even for ReLU**, except at $t = 1$ where $\mathbf{z}^{(k,0)} = \mathbf{0}$.

# %%
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
    matrix_picture(H, "exact H_U (ReLU)", width=THIRD, height=260)
    + matrix_picture(exact.kronecker_part(), "its Kronecker part", width=THIRD, height=260)
    + matrix_picture(exact.remainder, "the remainder (75) misses", width=THIRD, height=260)
)


# %% [markdown]
# ## All of them, for any network
#
# `errata_story` measures every erratum at once on three networks built from the settings: an FNN
# $3 \to m \to 3 \to 2$ for (32) and (34)-(35), a one-level RNN $2 \to m$ for (77) and (75), and a
# two-level RNN $2 \to m \to 2$ for (82) and the gradient erratum (58)-(60) of Lemma 2
# (`docs/errata.md`). Each row gives the erratum measured alone, then the whole `formula="paper"`
# Hessian of the affected layer and the exact one, both against finite differences. The bars are on
# a log scale: round-off ($\sim 10^{-16}$) means the equation holds at these settings.

# %%
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
    table = hv.Table(rows, ["eq."], ["alone", "paper vs FD", "exact vs FD", "case"]).opts(
        width=ROW_WIDTH, height=230, hooks=[column_widths(70, 80, 90, 90, 490)])
    chart = hv.Overlay([
        hv.Scatter([(x, e) for name, x, e in dots if name == comparison], "erratum", "relative error",
                   label=comparison).opts(size=11, color=color)
        for comparison, color in (("paper vs exact, alone", "crimson"), ("paper vs FD", "orange"),
                                  ("exact vs FD", "seagreen"))
    ]).opts(
        logy=True, ylim=(1e-17, 10), xlim=(-0.5, len(rows) - 0.5), width=ROW_WIDTH, height=320,
        xticks=[(i, row[0]) for i, row in enumerate(rows)], legend_position="right",
        title=f"{activation}, width {width}, r = {batch}, t = {tau}",
    )
    return (chart + table).cols(1).opts(shared_axes=False)


errata_story()

# %% [markdown]
# ## Explore
#
# **activation**: ReLU and identity make (32), (34)-(35) and (77) hold, but not (82) or (75);
# **time steps** is $t = \tau$ (at $t = 1$ the RNN errata disappear); **width** is $m$ of the
# hidden levels, **batch** is $r$, **seed** draws new weights and data.

# %%
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

# %% [markdown]
# **What to take away.** Every weight Hessian in the paper keeps its Kronecker form; what goes wrong
# is the bookkeeping of second-order terms inside the small matrices (a doubled $F$, an $f''$ where
# an $f'$ belongs, curvature at intermediate time steps, paths through the upper level's feedback)
# and, for $U$, the form itself. For ReLU FNNs and one-level ReLU RNNs the $W$ formulas hold; the
# RNN errata (82) and (75) do not go away with ReLU.
