"""PyTorch models and tensors through the core (``FNN.from_torch``, ``torch_bridge``).

A ``torch.nn.Sequential`` is converted, and its gradients, layer Hessians and whole Hessian
(dense, top eigenvalue, Gauss-Newton part) are compared with two independent routes:

- torch itself: ``torch.func.hessian`` and ``torch.autograd.grad`` of the model's own loss,
  written here from the model (``torch.func.functional_call``) and the loss conventions of
  ``hessian_core.losses`` (E = 1/(2r) sum ||z* - z||^2, or -1/r sum z* . log softmax(z), plus
  lam/2 sum ||W||^2), with the parameters stacked in the contract's order;
- NumPy: the same network built from NumPy copies of the model's arrays.

Results must come back as torch tensors of the model's dtype and device. CUDA runs where a GPU
is visible, and is skipped with the reason where it is not. The whole module is skipped only
if torch cannot be imported (it is in the test extra, pinned to 2.13.0).
"""

from __future__ import annotations

import numpy as np
import pytest
from core_checks import EIGENVALUE_RTOL, ROUNDOFF_RTOL, assert_close

from hessian_core import FNN, to_numpy

torch = pytest.importorskip(
    "torch", reason="torch cannot be imported (the test extra pins torch==2.13.0)"
)
nn = torch.nn

# torch.func's forward mode (inside torch.func.hessian) scripts its own decompositions on first
# use, and torch 2.13 warns that torch.jit.script is deprecated: torch's internals, not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(
            not torch.cuda.is_available(), reason="no CUDA device visible to torch"
        ),
    ),
]


def _model(name: str) -> nn.Sequential:
    """Seeded float64 models of every supported kind."""
    torch.manual_seed(0)
    builders = {
        "tanh-l2": lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)),
        "sigmoid-l3-sigmoid-out": lambda: nn.Sequential(
            nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 3), nn.Sigmoid(), nn.Linear(3, 2),
            nn.Sigmoid(),
        ),
        "relu-l3": lambda: nn.Sequential(
            nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3),
            nn.Identity(),
        ),
        "softplus-l2-tanh-out": lambda: nn.Sequential(
            nn.Linear(2, 4), nn.Softplus(), nn.Linear(4, 2), nn.Tanh()
        ),
        "linear-l2": lambda: nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2)),
        "tanh-l2-no-bias": lambda: nn.Sequential(
            nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 2)
        ),
        "one-level": lambda: nn.Sequential(nn.Linear(4, 3)),
    }
    return builders[name]().double()


#: (model, loss, weight decay, batch size)
CASES = {
    "tanh-l2-mse": ("tanh-l2", "mse", 0.0, 5),
    "sigmoid-l3-mse-decay": ("sigmoid-l3-sigmoid-out", "mse", 0.05, 4),
    "relu-l3-ce": ("relu-l3", "cross_entropy", 0.0, 6),
    "softplus-l2-mse": ("softplus-l2-tanh-out", "mse", 0.0, 3),
    "linear-l2-ce-decay": ("linear-l2", "cross_entropy", 0.1, 4),
    "no-bias-mse": ("tanh-l2-no-bias", "mse", 0.0, 5),
    "one-level-ce": ("one-level", "cross_entropy", 0.0, 3),
}

EXPECTED_ACTIVATIONS = {
    "tanh-l2": ("tanh", "identity"),
    "sigmoid-l3-sigmoid-out": ("sigmoid", "sigmoid"),
    "relu-l3": ("relu", "identity"),
    "softplus-l2-tanh-out": ("softplus", "tanh"),
    "linear-l2": ("identity", "identity"),
    "tanh-l2-no-bias": ("tanh", "identity"),
    "one-level": ("identity", "identity"),
}


def _data(model: nn.Sequential, loss: str, r: int, device: str):
    generator = torch.Generator().manual_seed(1)
    N, M = model[0].in_features, [m for m in model if isinstance(m, nn.Linear)][-1].out_features
    X = torch.randn(r, N, generator=generator, dtype=torch.float64)
    if loss == "mse":
        Z = torch.randn(r, M, generator=generator, dtype=torch.float64)
    else:  # class probabilities, as the core requires for cross-entropy
        Z = torch.softmax(2.0 * torch.randn(r, M, generator=generator, dtype=torch.float64), 1)
    return X.to(device), Z.to(device)


def _parameters_in_contract_order(model: nn.Sequential) -> list[tuple[str, str]]:
    """(torch name, kind) of the model's parameters, for k = 1..l: W^(k), then b^(k)."""
    names = []
    for index, module in enumerate(model):
        if isinstance(module, nn.Linear):
            names.append((f"{index}.weight", "W"))
            if module.bias is not None:
                names.append((f"{index}.bias", "b"))
    return names


def _torch_loss(model: nn.Sequential, X, Z, loss: str, lam: float):
    """E(theta) of the model, theta its parameters stacked in the contract's order."""
    names = _parameters_in_contract_order(model)
    shapes = [dict(model.named_parameters())[name].shape for name, _ in names]

    def E(theta):
        params, start = {}, 0
        for (name, _), shape in zip(names, shapes, strict=True):
            size = int(np.prod(shape))
            params[name] = theta[start : start + size].reshape(shape)
            start += size
        output = torch.func.functional_call(model, params, (X,))
        r = X.shape[0]
        if loss == "mse":
            value = 0.5 * torch.sum((Z - output) ** 2) / r
        else:
            value = -torch.sum(Z * torch.log_softmax(output, dim=1)) / r
        decay = sum(torch.sum(params[name] ** 2) for name, kind in names if kind == "W")
        return value + 0.5 * lam * decay

    theta = torch.cat([dict(model.named_parameters())[name].detach().reshape(-1)
                       for name, _ in names])
    return E, theta


def _torch_indices(net: FNN, model: nn.Sequential) -> list[int]:
    """Indices of net.parameter_vector() that are parameters of the torch model (all of them,
    but the zero biases of a Linear without bias)."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    indices, start = [], 0
    for k, kind, shape in net.parameter_layout():
        size = int(np.prod(shape))
        if kind == "W" or linears[k - 1].bias is not None:
            indices += range(start, start + size)
        start += size
    return indices


def _numpy_twin(net: FNN) -> FNN:
    return FNN(
        [to_numpy(W) for W in net.weights],
        [to_numpy(b) for b in net.biases],
        activation=net.activation,
        output_activation=net.output_activation,
        loss=net.loss_name,
        weight_decay=net.weight_decay,
    )


def _assert_torch(x, device: str, what: str, dtype=None) -> None:
    dtype = torch.float64 if dtype is None else dtype
    assert isinstance(x, torch.Tensor), f"{what}: expected a torch.Tensor, got {type(x)}"
    assert x.dtype == dtype and x.device.type == device, (
        f"{what}: {x.dtype} on {x.device}, expected {dtype} on {device}"
    )
    assert x.grad_fn is None, f"{what}: carries an autograd graph"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES)
def test_from_torch_matches_torch_func_and_numpy(case, device):
    model_name, loss, lam, r = CASES[case]
    model = _model(model_name).to(device)
    X, Z = _data(model, loss, r, device)
    net = FNN.from_torch(model, loss=loss, weight_decay=lam)
    assert (net.activation, net.output_activation) == EXPECTED_ACTIVATIONS[model_name]
    twin = _numpy_twin(net)
    Xn, Zn = to_numpy(X), to_numpy(Z)

    E, theta = _torch_loss(model, X, Z, loss, lam)
    reference = torch.func.hessian(E)(theta).cpu().numpy()
    reference_gradient = torch.func.grad(E)(theta).cpu().numpy()
    keep = _torch_indices(net, model)

    assert net.loss(X, Z) == pytest.approx(float(E(theta)), rel=1e-13, abs=1e-15)
    H = net.whole_hessian(X, Z)
    dense = H.dense()
    _assert_torch(dense, device, "whole_hessian().dense()")
    assert_close(to_numpy(dense)[np.ix_(keep, keep)], reference, ROUNDOFF_RTOL,
                 f"{case}: whole Hessian vs torch.func.hessian")
    assert_close(to_numpy(dense), twin.whole_hessian(Xn, Zn).dense(), ROUNDOFF_RTOL,
                 f"{case}: whole Hessian, torch vs NumPy")

    top = H.top_eigenvalues(1)
    _assert_torch(top, device, "top_eigenvalues(1)")
    scale = max(1.0, float(np.max(np.abs(np.linalg.eigvalsh(reference)))))
    exact_top = np.linalg.eigvalsh(to_numpy(dense))[-1]
    if len(keep) == H.size:  # the torch model's own sharpness
        assert_close(to_numpy(top), np.linalg.eigvalsh(reference)[-1:], EIGENVALUE_RTOL,
                     f"{case}: top eigenvalue vs torch", scale=scale)
    assert_close(to_numpy(top), [exact_top], EIGENVALUE_RTOL, f"{case}: top eigenvalue",
                 scale=scale)
    assert_close(to_numpy(top), twin.whole_hessian(Xn, Zn).top_eigenvalues(1), EIGENVALUE_RTOL,
                 f"{case}: top eigenvalue, torch vs NumPy", scale=scale)

    GGN = H.gauss_newton().dense()
    _assert_torch(GGN, device, "gauss_newton().dense()")
    assert_close(to_numpy(GGN), twin.whole_hessian(Xn, Zn).gauss_newton().dense(),
                 ROUNDOFF_RTOL, f"{case}: Gauss-Newton part, torch vs NumPy")

    gradient = torch.cat([
        torch.cat([g.W.reshape(-1), g.b]) for g in
        (net.gradient(X, Z, layer=k) for k in range(1, net.n_layers + 1))
    ])
    _assert_torch(gradient, device, "gradient")
    assert_close(to_numpy(gradient)[keep], reference_gradient, ROUNDOFF_RTOL,
                 f"{case}: gradient vs torch.func.grad")

    start = 0
    for k, kind, shape in net.parameter_layout():
        size = int(np.prod(shape))
        if kind == "W":
            block = net.hessian(X, Z, layer=k)
            _assert_torch(block.dense(), device, f"hessian(layer={k}).dense()")
            _assert_torch(block.eigvalsh(), device, f"hessian(layer={k}).eigvalsh()")
            assert_close(to_numpy(block.dense()), to_numpy(dense)[start : start + size,
                         start : start + size], ROUNDOFF_RTOL, f"{case}: H_W^({k}) in H")
            assert_close(to_numpy(block.dense()), twin.hessian(Xn, Zn, layer=k).dense(),
                         ROUNDOFF_RTOL, f"{case}: H_W^({k}), torch vs NumPy")
            assert_close(to_numpy(block.eigvalsh()),
                         np.linalg.eigvalsh(to_numpy(block.dense())), EIGENVALUE_RTOL,
                         f"{case}: H_W^({k}) eigenvalues", scale=scale)
        start += size


def test_layer_block_equals_torch_autograd_second_derivative():
    """H_W^(1) of a tanh network, row by row from torch.autograd.grad (double backward of the
    model's own forward pass and nn.MSELoss: E = MSELoss(sum) / (2r))."""
    model = _model("tanh-l2")
    X, Z = _data(model, "mse", 5, "cpu")
    r = X.shape[0]
    weight = model[0].weight
    E = nn.MSELoss(reduction="sum")(model(X), Z) / (2 * r)
    (gradient,) = torch.autograd.grad(E, weight, create_graph=True)
    rows = [torch.autograd.grad(g, weight, retain_graph=True)[0].reshape(-1)
            for g in gradient.reshape(-1)]
    reference = torch.stack(rows).detach().numpy()
    block = FNN.from_torch(model).hessian(X, Z, layer=1).dense()
    assert_close(to_numpy(block), reference, ROUNDOFF_RTOL, "H_W^(1) vs torch.autograd")


def test_arrays_are_copies_in_the_models_dtype():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))  # float32
    net = FNN.from_torch(model)
    assert net.weights[0].dtype == torch.float32
    assert not net.weights[0].requires_grad
    with torch.no_grad():
        model[0].weight.add_(1.0)  # a later step of the torch model
    assert not torch.equal(net.weights[0], model[0].weight.detach())
    X = torch.randn(4, 3)
    _assert_torch(net.whole_hessian(X, torch.zeros(4, 2)).dense(), "cpu", "float32 H",
                  dtype=torch.float32)


def test_inputs_that_require_grad_are_detached():
    model = _model("tanh-l2")
    X, Z = _data(model, "mse", 4, "cpu")
    net = FNN.from_torch(model)
    X.requires_grad_(True)
    H = net.whole_hessian(X, Z)
    _assert_torch(H.dense(), "cpu", "H from X with requires_grad")
    _assert_torch(H.matvec(torch.ones(H.size, dtype=torch.float64, requires_grad=True)), "cpu",
                  "H @ v, v with requires_grad")


def test_other_libraries_inputs_are_refused():
    net = FNN.from_torch(_model("tanh-l2"))
    with pytest.raises(ValueError, match=r"X must be an array of the same library"):
        net.loss(np.ones((2, 3)), torch.zeros(2, 2, dtype=torch.float64))


REFUSED = {
    "dropout": (lambda: nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.1), nn.Linear(3, 1)),
                r"module 1 \(nn\.Dropout: .*\) is not supported; supported: nn\.Linear .*nn\.Tanh"),
    "layer norm": (lambda: nn.Sequential(nn.Linear(2, 3), nn.LayerNorm(3)),
                   r"module 1 \(nn\.LayerNorm: .*\) is not supported"),
    "gelu": (lambda: nn.Sequential(nn.Linear(2, 3), nn.GELU()),
             r"module 1 \(nn\.GELU: .*\) is not supported; supported: .*nn\.Softplus"),
    "nested": (lambda: nn.Sequential(nn.Sequential(nn.Linear(2, 3))),
               r"module 0 \(nn\.Sequential: .*\) is not supported"),
    "activation first": (lambda: nn.Sequential(nn.Tanh(), nn.Linear(2, 3)),
                         r"module 0 \(nn\.Tanh: .*\): the model must begin with an nn\.Linear"),
    "two activations": (lambda: nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.ReLU()),
                        r"module 2 \(nn\.ReLU: .*\): a second activation after one nn\.Linear"),
    "mixed hidden": (lambda: nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3),
                                           nn.ReLU(), nn.Linear(3, 1)),
                     r"same activation .* level 1: tanh, level 2: relu"),
    "softplus beta": (lambda: nn.Sequential(nn.Linear(2, 3), nn.Softplus(beta=2.0)),
                      r"module 1 \(nn\.Softplus: .*\): only nn\.Softplus with beta=1"),
    "softplus threshold": (lambda: nn.Sequential(nn.Linear(2, 3), nn.Softplus(threshold=1.0)),
                           r"module 1 \(nn\.Softplus: .*\): only nn\.Softplus with beta=1 and "
                           r"threshold >= 20"),
    "sequential subclass": (lambda: type("Shifted", (nn.Sequential,), {})(nn.Linear(2, 3)),
                            r"model must be a torch\.nn\.Sequential .*got .*Shifted"),
    "empty": (lambda: nn.Sequential(), r"at least one nn\.Linear"),
    "not sequential": (lambda: nn.Linear(2, 3), r"model must be a torch\.nn\.Sequential .*got "
                                                r"torch\.nn\.modules\.linear\.Linear"),
    "mixed dtype": (lambda: nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1).double()),
                    r"nn\.Linear 2 has dtype torch\.float64 on cpu, the first has "
                    r"torch\.float32.*\(model\.double\(\)"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_unsupported_models_are_refused_by_name(case):
    build, message = REFUSED[case]
    with pytest.raises(ValueError, match=message):
        FNN.from_torch(build())
