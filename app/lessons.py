"""Lessons: one per result of the paper. Choosing one sets the controls and explains.

Each lesson is plain data: the settings it applies (any :class:`app.settings.Settings`
parameter), a short explanation in Markdown and the equation in LaTeX.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    settings: dict = field(default_factory=dict)
    text: str = ""
    equation: str = ""


FNN_BASE = dict(model="fnn", activation="relu", output_activation="identity", dataset="xor",
                formula="exact", sparse="none")
RNN_BASE = dict(model="rnn", activation="tanh", output_activation="identity", task="sine",
                levels=1, hidden_width=8, tau=8, output_from=1, formula="exact", wrt="W",
                sparse="none")

LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "rank-1", "Lemma 1: one sample gives a rank-1 gradient",
        dict(FNN_BASE, architecture="2-8-8-1", view="rank", scope="sample", layer=2),
        "Back-propagation builds the gradient of level k from two vectors: the error signal "
        "**v** (eq. 18-19) and the level's input **z**. Their outer product has rank 1, "
        "whatever the width of the layer. Look at the singular values: one is large, every "
        "other one sits at round-off.",
        r"G_W^{(k)} = \mathbf{v}^{(k)}\,\mathbf{z}^{(k-1)T} \qquad (16)",
    ),
    Lesson(
        "rank-r", "Corollary 1: a mini-batch of r gives rank r",
        dict(FNN_BASE, architecture="2-16-16-1", view="rank", scope="batch", batch_size=4, layer=2),
        "A mini-batch sums one rank-1 term per sample, so the update has rank at most r "
        "(here r = 4) even though G is 16×16. Change the batch size and watch the gap move.",
        r"\Delta W^{(k)} = V^{(k)} Z^{(k-1)T},\quad "
        r"V = [\mathbf{v}_1,\dots,\mathbf{v}_r] \qquad (26)",
    ),
    Lesson(
        "rank-t", "Lemma 2: rank t through time",
        dict(RNN_BASE, hidden_width=16, view="rank", scope="sample", time_step=4),
        "In an RNN the loss at time t reaches W through every earlier step s ≤ t, one rank-1 "
        "term per step: the gradient of E^(t) has rank at most t (here t = 4).",
        r"G_W^{(k,t)} = \sum_{s=1}^{t} \tilde{\mathbf{v}}^{(k,t,s)}\,"
        r"\mathbf{z}^{(k-1,s)T} \qquad (55)",
    ),
    Lesson(
        "rank-rt", "Corollary 3: rank r·t for a batch through time",
        dict(RNN_BASE, hidden_width=16, view="rank", scope="batch", batch_size=2, time_step=3),
        "With r sequences and output time t the update is a sum of r·t outer products "
        "(here 2·3 = 6), for W and for the feedback matrix U alike.",
        r"\Delta W^{(k)} = \sum_{s=1}^{t} \tilde{V}^{(k,s)} Z^{(k-1,s)T} \qquad (71)",
    ),
    Lesson(
        "kronecker", "Theorem 1 and Corollary 2: the Hessian is a Kronecker product",
        dict(FNN_BASE, architecture="2-4-4-1", view="kronecker", scope="sample", layer=2),
        "For one sample the Hessian with respect to W^(k) is an m×m grid of n×n blocks, and "
        "block (i, g) is c_ig times the same rank-1 matrix z zᵀ. The grid lines in the image "
        "are the block boundaries; the small images are the two factors.",
        r"H_W^{(k)} = \tilde{C}^{(k)} \otimes "
        r"\big(\mathbf{z}^{(k-1)}\mathbf{z}^{(k-1)T}\big),\quad "
        r"\tilde{C}^{(k-1)} = W^{(k)T}\tilde{C}^{(k)}W^{(k)} \circ F^{(k-1)} \qquad (43\text{-}44)",
    ),
    Lesson(
        "relu-masks", "ReLU: the binary masks F^(k)",
        dict(FNN_BASE, architecture="2-16-16-1", view="masks", scope="batch", layer=1),
        "For ReLU, f' is 0 or 1 and f'' = 0, so the Hessian recursion only masks: "
        "F = f' f'ᵀ keeps the entries of units that are active for this sample. Dead units "
        "(never active) drop out of the gradient and the Hessian entirely.",
        r"F^{(k)} = \mathbf{f}'(\mathbf{y}^{(k)})\,\mathbf{f}'(\mathbf{y}^{(k)})^T "
        r"\in \{0,1\}^{m\times m} \qquad (30)",
    ),
    Lesson(
        "eq46", "Eq. (46): eigenvalues from an m×m matrix",
        dict(FNN_BASE, activation="tanh", architecture="2-8-8-1", view="spectrum",
             scope="sample", layer=2),
        "Since z zᵀ has one nonzero eigenvalue ‖z‖², the mn eigenvalues of H are (n−1)m zeros "
        "and ‖z‖² times the m eigenvalues of C. The crosses (prediction) sit on the dots "
        "(exact). With tanh, C has eigenvalues of both signs: H is indefinite, and the m×m "
        "matrix alone says so. (With ReLU and one output, C has rank 1.)",
        r"\lambda_q(H_W^{(k)}) = \big\{0,\ "
        r"\|\mathbf{z}^{(k-1)}\|_2^2\,\lambda_i(\tilde{C}^{(k)})\big\} \qquad (46)",
    ),
    Lesson(
        "rnn-hessian", "Theorem 2: the RNN Hessian, t² Kronecker terms",
        dict(RNN_BASE, levels=2, hidden_width=4, tau=6, view="kronecker", scope="sample",
             time_step=4, layer=2),
        "Through time the Hessian of E^(t) is a sum over all pairs of steps (s, ζ): a t×t "
        "grid of m×m matrices C̃, each multiplied by z_s z_ζᵀ. The middle image shows that "
        "grid, the lower one the t input vectors.",
        r"H_W^{(k,t)} = \sum_{s=1}^{t}\sum_{\zeta=1}^{t} \tilde{C}^{(k,t,s,\zeta)} \otimes "
        r"\big(\mathbf{z}^{(k-1,s)}\mathbf{z}^{(k-1,\zeta)T}\big) \qquad (74)",
    ),
    Lesson(
        "weyl", "Weyl's theorem: bounds for sums of terms",
        dict(FNN_BASE, architecture="2-8-8-1", view="spectrum", scope="batch", batch_size=8,
             layer=2),
        "A batch (or the terms through time) adds Kronecker products, and eq. (46) no longer "
        "gives the eigenvalues. Weyl's inequality still traps each one between the spectrum "
        "of one term plus the extreme eigenvalues of the rest: the shaded band.",
        r"\lambda_q(A) + \lambda_1(B) \le \lambda_q(A+B) \le "
        r"\lambda_q(A) + \lambda_n(B) \qquad (101)",
    ),
    Lesson(
        "errata", "Where the paper slips: paper vs exact",
        dict(FNN_BASE, activation="sigmoid", output_activation="sigmoid", architecture="2-8-8-1",
             view="errata", scope="batch", formula="paper"),
        "The paper's Theorem 1 seeds the recursion with C^(l) = I∘F^(l) and builds D from "
        "f'' alone. For ReLU these slips vanish, but for smooth activations they do not. The "
        "bars measure each printed equation against the exact Hessian at the current weights.",
        r"\text{paper: } C^{(l)} = I \circ F^{(l)}\ (32) \qquad \text{exact: } Q^{(l)} = I,\ "
        r"M^{(k)} = Q^{(k)} \circ F^{(k)} + \operatorname{diag}\big(\mathbf{a}^{(k)} \circ "
        r"\mathbf{f}''(\mathbf{y}^{(k)})\big)",
    ),
    Lesson(
        "meprop", "meProp: back-propagate only the top-k entries of v",
        dict(FNN_BASE, architecture="2-16-16-1", dataset="circles", view="sparse",
             scope="batch", layer=2, sparse="topk", topk="0.05"),
        "meProp keeps, in the backward pass, only the k largest entries of each error vector "
        "**v** (here 5 %, which for a width of 16 is one entry per sample) and zeroes the "
        "rest; the sparse vector is what travels further down. In the matrix form the "
        "gradient is still V Zᵀ, but V is sparse, so the update touches only the rows of the "
        "kept units. A twin trained with full back-propagation from the same weights on the "
        "same batches runs beside it: compare the loss curves, the cosine similarity of the "
        "two gradients, and their singular values. Try k = 0.25 or 3, or a wider net.",
        r"G_W^{(k)} = V^{(k)} Z^{(k-1)T},\quad V^{(k)} = ig[\operatorname{top}_k(\mathbf{v}_1),"
        r"\dots,\operatorname{top}_k(\mathbf{v}_r)ig] \qquad (26)",
    ),
    Lesson(
        "truncated-bptt", "Truncated and selected BPTT: keeping some of the t terms",
        dict(RNN_BASE, task="echo", delay=4, hidden_width=16, view="sparse", scope="sample",
             time_step=8, wrt="U", layer=1, sparse="truncate", truncate=2),
        "Through time the gradient of E^(t) is a sum of t rank-1 terms, one per step s ≤ t "
        "(eq. 55). Truncated BPTT holds the hidden state K steps back constant and keeps only "
        "the last K terms, so for one sample the rank drops to K (here 2): compare the red and "
        "black singular values. The echo task needs the input 4 steps back, which a window of "
        "K = 2 cannot see: watch the loss curves part. Selected steps (sparse attentive "
        "backtracking) keep a chosen set S of terms instead, e.g. largest:2 or 1,4,8.",
        r"G_W^{(k,t)} = \sum_{s=1}^{t} 	ilde{\mathbf{v}}^{(k,t,s)}\mathbf{z}^{(k-1,s)T}"
        r"\ \longrightarrow\ \sum_{s=t-K+1}^{t} \cdots \ 	ext{ or }\ \sum_{s\in S} \cdots"
        r" \qquad (55)",
    ),
)

BY_KEY = {lesson.key: lesson for lesson in LESSONS}
