# %% [markdown]
# # 6. The dashboard inside Jupyter
#
# The app that `make serve` starts is one object, `app.Dashboard`: the same controls, training
# session and views (gradient rank, Kronecker structure, ReLU masks, spectrum with the Weyl band,
# paper against exact), built here for this notebook alone. Panel renders it inline once
# `pn.extension()` has run (with KaTeX for the formulas of its lessons).

# %%
import panel as pn

from app import Dashboard

pn.extension("katex", inline=True)

# %% [markdown]
# Small settings keep it quick: an FNN $2 \to 6 \to 1$ on the XOR data, mini-batches of $r = 8$.
# Any setting of `app.configuration.settings.Settings` can be passed as a keyword; **Play** starts training, and
# the view selector switches between the pictures of notebooks 1-5, now at the weights being trained.

# %%
dashboard = Dashboard(architecture="2-6-1", samples=64, batch_size=8)
dashboard
