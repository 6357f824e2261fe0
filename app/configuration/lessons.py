"""Lessons: one per result of the paper. Choosing one sets the controls and explains.

Each lesson is plain data: the settings in which it differs from the defaults of
:class:`app.configuration.settings.Settings` (any parameter), an explanation in Markdown, the
equation in
LaTeX and one line saying what to look at. A lesson is a complete configuration:
``Settings.apply({"lesson": key})`` starts from the defaults, so it looks the same whatever
was open before (``app/configuration/settings.py``,
:func:`app.configuration.settings.lesson_configuration`).

Every lesson's settings are chosen so that its claim shows unmistakably in the numbers
(``tests/app/test_lessons.py`` checks each claim with hessian_core): the rank bound is below
the gradient's width, the Kronecker blocks are larger than 1x1, the paper's errors are large
where the lesson is about them. The claim must hold on the numbers the view shows, at step 0
and after some seconds of Play, or the text says when it stops holding
(``tests/app/test_lesson_claims.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    settings: dict = field(default_factory=dict)
    explanation: str = ""
    equation: str = ""
    look: str = ""  # one line: what to look at

    @property
    def text(self) -> str:
        """The explanation and, on its own line, what to look at (Markdown)."""
        return f"{self.explanation}\n\n**Look at:** {self.look}" if self.look else self.explanation


FNN = dict(model="fnn", formula="exact", sparse="none")
RNN = dict(model="rnn", activation="tanh", output_activation="identity", formula="exact",
           wrt="W", sparse="none")

LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "rank-1", "Lemma 1: one sample gives a rank-1 gradient",
        dict(FNN, activation="tanh", architecture="2-8-8-1", view="rank", scope="sample",
             layer=2),
        "Back-propagation builds the gradient of level k from two vectors: the error signal "
        "**v** (eq. 18-19) and the level's input **z**. Their outer product has rank 1, "
        "whatever the width of the layer: G_W⁽²⁾ here is 8×8.",
        r"G_W^{(k)} = \mathbf{v}^{(k)}\,\mathbf{z}^{(k-1)T} \qquad (16)",
        "the singular values of G_W⁽²⁾: one is large, the other seven sit at round-off.",
    ),
    Lesson(
        "rank-r", "Corollary 1: a mini-batch of r gives rank r",
        dict(FNN, activation="tanh", architecture="2-16-16-1", view="rank", scope="batch",
             batch_size=4, layer=2),
        "A mini-batch sums one rank-1 term per sample, so the update has rank at most r "
        "(here r = 4) even though G_W⁽²⁾ is 16×16. Change the batch size and watch the gap "
        "move with it.",
        r"\Delta W^{(k)} = V^{(k)} Z^{(k-1)T},\quad "
        r"V = [\mathbf{v}_1,\dots,\mathbf{v}_r] \qquad (26)",
        "G_W⁽²⁾: four singular values, then a drop of ten decades at the dashed line r = 4.",
    ),
    Lesson(
        "rank-t", "Lemma 2: rank t through time",
        dict(RNN, levels=2, hidden_width=16, view="rank", scope="sample", time_step=4,
             layer=2),
        "In an RNN the loss at time t reaches W through every earlier step s ≤ t, one rank-1 "
        "term per step: the gradient of E⁽ᵗ⁾ has rank at most t (here t = 4), although "
        "G_W⁽²⁾ of the second level is 16×16.",
        r"G_W^{(k,t)} = \sum_{s=1}^{t} \tilde{\mathbf{v}}^{(k,t,s)}\,"
        r"\mathbf{z}^{(k-1,s)T} \qquad (55)",
        "G_W⁽²⁾: exactly t = 4 singular values above round-off; move t and the count follows.",
    ),
    Lesson(
        "rank-rt", "Corollary 3: rank r·t for a batch through time",
        dict(RNN, levels=2, hidden_width=16, view="rank", scope="batch", batch_size=2,
             time_step=3, layer=2),
        "With r sequences and output time t the update is a sum of r·t outer products "
        "(here 2·3 = 6). The feedback matrix U multiplies the previous hidden state, which "
        "is 0 at the first step, so for G_U one term per sequence vanishes and its rank is at "
        "most r·(t − 1) = 4.",
        r"\Delta W^{(k)} = \sum_{s=1}^{t} \tilde{V}^{(k,s)} Z^{(k-1,s)T} \qquad (71)",
        "G_W⁽²⁾ (16×16): six singular values left of the dashed line r·t = 6, the rest at "
        "round-off.",
    ),
    Lesson(
        "kronecker", "Theorem 1 and Corollary 2: the Hessian is a Kronecker product",
        dict(FNN, activation="tanh", architecture="2-4-4-1", view="kronecker",
             scope="sample", layer=2),
        "For one sample the Hessian with respect to W⁽ᵏ⁾ is an m×m grid of n×n blocks, and "
        "block (i, g) is c_ig times the same rank-1 matrix z zᵀ. The images titled factor "
        "C⁽ᵏ⁾ and factor z zᵀ are the two factors; in the one titled Hessian H⁽ᵏ⁾ the grid "
        "lines are the block boundaries.",
        r"H_W^{(k)} = \tilde{C}^{(k)} \otimes "
        r"\big(\mathbf{z}^{(k-1)}\mathbf{z}^{(k-1)T}\big),\quad "
        r"\tilde{C}^{(k-1)} = W^{(k)T}\tilde{C}^{(k)}W^{(k)} \circ F^{(k-1)} "
        r"\qquad (43\text{-}44)",
        "every 4×4 block of H repeats the pattern of z zᵀ, scaled by one entry of C.",
    ),
    Lesson(
        "relu-masks", "ReLU: the binary masks F⁽ᵏ⁾",
        dict(FNN, activation="relu", architecture="2-16-16-1", view="masks", scope="batch",
             layer=1),
        "For ReLU, f' is 0 or 1 and f'' = 0, so the Hessian recursion only masks: "
        "F = f' f'ᵀ keeps the entries of units that are active for this sample. Inactive "
        "units drop out of the gradient and the Hessian entirely; units that are never "
        "active (dead) stay out.",
        r"F^{(k)} = \mathbf{f}'(\mathbf{y}^{(k)})\,\mathbf{f}'(\mathbf{y}^{(k)})^T "
        r"\in \{0,1\}^{m\times m} \qquad (30)",
        "the masks are only 0 or 1, and the samples switch off different sets of the 16 "
        "units (two nearby samples can share one).",
    ),
    Lesson(
        "eq46", "Eq. (46): eigenvalues from an m×m matrix",
        dict(FNN, activation="tanh", architecture="2-8-8-1", view="spectrum",
             scope="sample", layer=2),
        "Since z zᵀ has one nonzero eigenvalue ‖z‖², the mn eigenvalues of H are (n−1)m zeros "
        "and ‖z‖² times the m eigenvalues of C. With tanh, C has eigenvalues of both signs: "
        "H is indefinite, and the m×m matrix alone says so. (With ReLU and one output, C has "
        "rank 1.)",
        r"\lambda_q(H_W^{(k)}) = \big\{0,\ "
        r"\|\mathbf{z}^{(k-1)}\|_2^2\,\lambda_i(\tilde{C}^{(k)})\big\} \qquad (46)",
        "the crosses (eq. 46) sit on the dots (exact eigenvalues), some below zero, some above.",
    ),
    Lesson(
        "rnn-hessian", "Theorem 2: the RNN Hessian, t² Kronecker terms",
        dict(RNN, levels=2, hidden_width=4, tau=6, view="kronecker", scope="sample",
             time_step=4, layer=2),
        "Through time the Hessian of E⁽ᵗ⁾ is a sum over all pairs of steps (s, ζ): a t×t "
        "grid of m×m matrices C̃, each multiplied by z_s z_ζᵀ. The image titled C̃(s, ζ) "
        "shows that grid (here 4×4 blocks of 4×4), the one titled inputs z_s the t input "
        "vectors, the hidden states of the first level, and Hessian H⁽ᵏ⁾ their sum. As "
        "training goes on, the blocks of "
        "the early steps become much smaller than those of the last steps (what reaches the "
        "output from early steps fades): pale on the common colour scale, but not zero.",
        r"H_W^{(k,t)} = \sum_{s=1}^{t}\sum_{\zeta=1}^{t} \tilde{C}^{(k,t,s,\zeta)} \otimes "
        r"\big(\mathbf{z}^{(k-1,s)}\mathbf{z}^{(k-1,\zeta)T}\big) \qquad (74)",
        "the 4×4 grid of C̃(s, ζ): all t² = 16 blocks are filled, one per pair of steps "
        "(after training, the early steps' blocks are pale: small, not zero).",
    ),
    Lesson(
        "weyl", "Weyl's theorem: bounds for sums of terms",
        dict(FNN, activation="tanh", architecture="2-8-8-1", view="spectrum", scope="batch",
             batch_size=8, layer=2),
        "A batch (or the terms through time) adds Kronecker products, and eq. (46) no longer "
        "gives the eigenvalues. Weyl's inequality still traps each one between the spectrum "
        "of one term plus the extreme eigenvalues of the rest: the shaded band.",
        r"\lambda_q(A) + \lambda_1(B) \le \lambda_q(A+B) \le "
        r"\lambda_q(A) + \lambda_n(B) \qquad (101)",
        "every exact eigenvalue (dot) lies inside its shaded Weyl band.",
    ),
    Lesson(
        "errata", "Where the paper slips: paper vs exact",
        dict(FNN, activation="sigmoid", output_activation="sigmoid", architecture="2-8-8-1",
             view="errata", scope="batch", formula="paper"),
        "The paper's Theorem 1 seeds the recursion with C⁽ˡ⁾ = I∘F⁽ˡ⁾ and builds D from "
        "f'' alone. For ReLU these slips vanish, but for smooth activations they do not. The "
        "bars measure each printed equation against the exact Hessian at the current weights.",
        r"\text{paper: } C^{(l)} = I \circ F^{(l)}\ (32) \qquad \text{exact: } Q^{(l)} = I,\ "
        r"M^{(k)} = Q^{(k)} \circ F^{(k)} + \operatorname{diag}\big(\mathbf{a}^{(k)} \circ "
        r"\mathbf{f}''(\mathbf{y}^{(k)})\big)",
        "the bars: relative errors of 0.1 and more (above 1 at the start), far above "
        "round-off (1e-16).",
    ),
    Lesson(
        "meprop", "meProp: back-propagate only the top-k entries of v",
        dict(FNN, activation="tanh", architecture="2-16-16-1", dataset="circles",
             view="sparse", scope="batch", layer=2, sparse="topk", topk="0.05"),
        "meProp keeps, in the backward pass, only the k largest entries of each error vector "
        "**v** (here 5 %, which for a width of 16 is one entry per sample) and zeroes the "
        "rest; the sparse vector is what travels further down. In the matrix form the "
        "gradient is still V Zᵀ, but V is sparse, so the update touches only the rows of the "
        "kept units. A twin trained with full back-propagation from the same weights on the "
        "same batches runs beside it. Try k = 0.25 or 3, or a wider net.",
        r"G_W^{(k)} = V^{(k)} Z^{(k-1)T},\quad V^{(k)} = \big[\operatorname{top}_k"
        r"(\mathbf{v}_1),\dots,\operatorname{top}_k(\mathbf{v}_r)\big] \qquad (26)",
        "the cosine similarity of the two gradients, below 1, and the two loss curves.",
    ),
    Lesson(
        "truncated-bptt", "Truncated and selected BPTT: keeping some of the t terms",
        dict(RNN, task="echo", delay=4, hidden_width=16, view="sparse", scope="sample",
             time_step=8, wrt="U", layer=1, sparse="truncate", truncate=2),
        "Through time the gradient of E⁽ᵗ⁾ is a sum of t rank-1 terms, one per step s ≤ t "
        "(eq. 55). Truncated BPTT holds the hidden state K steps back constant and keeps only "
        "the last K terms, so for one sample the rank drops to K (here 2). The echo task "
        "needs the input 4 steps back, which a window of K = 2 cannot see. Selected steps "
        "(sparse attentive backtracking) keep a chosen set S of terms instead, e.g. largest:2 "
        "or 1,4,8.",
        r"G_W^{(k,t)} = \sum_{s=1}^{t} \tilde{\mathbf{v}}^{(k,t,s)}\mathbf{z}^{(k-1,s)T}"
        r"\ \longrightarrow\ \sum_{s=t-K+1}^{t} \cdots \ \text{ or }\ \sum_{s\in S} \cdots"
        r" \qquad (55)",
        "G_U⁽¹⁾: two singular values for truncated BPTT against seven for full BPTT; then "
        "the loss curves part.",
    ),
    Lesson(
        "softmax-hessian", "Beyond the paper: the softmax cross-entropy Hessian",
        dict(FNN, activation="tanh", output_activation="identity", architecture="2-8-3",
             dataset="blobs", classes=3, loss="cross_entropy", view="spectrum",
             scope="sample", layer=2),
        "Classification is trained with softmax cross-entropy, not the paper's squared "
        "loss. Only the seed of the backward recursion changes: for one sample the loss "
        "Hessian with respect to the M outputs is diag(**p**) − **p pᵀ** instead of I, "
        "with **p** the softmax probabilities. Its rows sum to zero, so its rank is at most "
        "M − 1 and it is positive semi-definite: at the last level the layer Hessian of "
        "one sample has at most M − 1 = 2 nonzero eigenvalues, none negative. Its other "
        "m(n − 1) + 1 = 22 eigenvalues are zero: 21 from z zᵀ (eq. 46) and one from "
        "diag(**p**) − **p pᵀ**. Switch the loss to squared and there are M = 3 nonzero, "
        "of both signs.",
        r"H_W^{(l)} = \big(\operatorname{diag}(\mathbf{p}) - \mathbf{p}\mathbf{p}^T\big)"
        r" \otimes \mathbf{z}^{(l-1)}\mathbf{z}^{(l-1)T},\quad "
        r"\big(\operatorname{diag}(\mathbf{p}) - \mathbf{p}\mathbf{p}^T\big)\mathbf{1} = 0",
        "two positive eigenvalues (M − 1 = 2), the other 22 at zero, none below.",
    ),
    Lesson(
        "weight-decay", "Beyond the paper: L2 weight decay shifts the spectrum",
        dict(FNN, activation="tanh", architecture="2-8-8-1", view="spectrum", scope="sample",
             layer=2, weight_decay=0.01),
        "Weight decay λ_wd adds λ_wd/2 ‖W‖² to the loss, hence λ_wd·I to every layer "
        "Hessian: each eigenvalue moves up by exactly λ_wd. For one sample eq. (46) puts "
        "m(n − 1) = 56 eigenvalues of the data term at zero, flat directions of the loss; "
        "with λ_wd = 0.01 they sit at 0.01, and negative eigenvalues above −λ_wd turn "
        "positive. As training goes on the decay may switch off hidden units whose weights "
        "the data do not hold up; each adds a zero of C̃, so more than 56 can sit at λ_wd. "
        "Set λ_wd to 0 and watch them drop back. Set it to 0.1 and within a thousand steps "
        "the decay shrinks every weight matrix to nothing: C̃ is then 0, all 64 eigenvalues "
        "sit at 0.1, and the network predicts one constant (its last bias), so the loss "
        "stops falling.",
        r"H_W^{(k)} = \tilde{C}^{(k)} \otimes \mathbf{z}\mathbf{z}^T + \lambda_{wd} I,"
        r"\quad \lambda_q(H_W^{(k)}) = \lambda_q^{(46)} + \lambda_{wd}",
        "at least 56 dots (and crosses) at 0.01 instead of zero; the text below the table "
        "counts them.",
    ),
    Lesson(
        "edge-of-stability", "Beyond the paper: the edge of stability",
        dict(FNN, activation="tanh", architecture="2-16-16-1", dataset="spirals", samples=64,
             batch_size=64, momentum=0.0, clip_norm=0.0, learning_rate=0.2, view="whole"),
        "Gradient descent with step α on a quadratic diverges along any direction whose "
        "curvature exceeds 2/α. The sharpness, the largest eigenvalue of the whole Hessian "
        "(all P = 337 parameters, the blocks between levels included), is what counts. Here "
        "training is full-batch gradient descent: the batch holds all 64 samples and the "
        "momentum is 0 (no clipping). The sharpness starts near 4.4 and reaches 2/α = 10 "
        "within some 300 steps. It then overshoots and falls back a few times, between about "
        "6.5 and 14.5 until step 1100 or so (each overshoot brings steps that raise the loss and "
        "move to a flatter place), and from about step 1200 hovers within a few per cent of "
        "2/α, while the loss keeps falling, though no longer at every step: many steps raise "
        "it. The line has one point per redraw, at most every 0.2 s: at 10 steps a frame "
        "that is every 50 steps or more, and the tops and bottoms of the swings can fall "
        "between two points; at 3 steps a frame or fewer the line shows them. Change α and "
        "the plateau moves to the new 2/α: at α = 0.5 the sharpness settles near 4 within a "
        "thousand steps, at α = 0.1 near 20.",
        r"\theta \leftarrow \theta - \alpha \nabla E(\theta),\quad "
        r"\lambda_{\max}\big(\nabla^2 E(\theta)\big) \to \frac{2}{\alpha}",
        "the sharpness line climbs to the dashed 2/α = 10, swings around it (6.5 to 14.5 at 3 "
        "steps a frame), then stays within a few per cent of it as the loss falls.",
    ),
)

BY_KEY = {lesson.key: lesson for lesson in LESSONS}
