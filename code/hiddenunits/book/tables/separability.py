"""Tables of chapter 3, "Nonlinearity, linear separability and probes".

Each table function returns ``(headers, rows)`` of MyST cells, for
:func:`hiddenunits.book.notebook.show_table`, which displays them with a numbered caption.
"""

from __future__ import annotations

from collections.abc import Sequence

from hiddenunits import probes
from hiddenunits import xor as xor_nets
from hiddenunits.data import xor

Table = tuple[list[str], list[list[str]]]


def _pct(v: float) -> str:
    return f"${100 * float(v):.1f}\\%$"


def _num(v: float, digits: int = 3) -> str:
    return f"${float(v):.{digits}f}$"


def _signed(v: float) -> str:
    return f"${100 * float(v):+.1f}$"


def article_outputs() -> Table:
    """The article network's outputs at the four corners, in both readings of its weights."""
    _, y = xor()
    rows = [[f"${point}$", f"${int(target)}$", _num(o1, 6), _num(o2, 6)]
            for point, target, o1, o2 in zip(["(0,0)", "(0,1)", "(1,0)", "(1,1)"], y,
                                             xor_nets.article_outputs_exact("out_in"),
                                             xor_nets.article_outputs_exact("in_out"),
                                             strict=True)]
    return (["input", "XOR", "output, `(out, in)` reading", "output, `(in, out)` reading"],
            rows)


def split_confound(models: Sequence[probes.ModelConfig] = (probes.TRAINED_MLP,
                                                           probes.TRAINED_CNN)) -> Table:
    """Label probes fitted on the network's own training examples or on held-out ones.

    One row per site of each trained model: probe accuracy on the examples it was fitted
    to and on the test examples, for both choices, and the test-accuracy difference.
    """
    rows = []
    for model in models:
        own = probes.probe_curve(model, "label", fit_on="network")
        held = probes.probe_curve(model, "label", fit_on="probe")
        arch = model.arch.upper()
        for i, site in enumerate(own.site_names):
            rows.append([f"{arch} {site}", f"${own.widths[i]}$",
                         _pct(own.train_acc[i]), _pct(own.test_acc[i]),
                         _pct(held.train_acc[i]), _pct(held.test_acc[i]),
                         _signed(own.test_acc[i] - held.test_acc[i])])
    return (["site", "$D_\\ell$", "fitted on the network's examples: fit", "test",
             "fitted on held-out examples: fit", "test", "test difference (points)"], rows)


def selectivity(models: Sequence[probes.ModelConfig] = (probes.TRAINED_MLP,
                                                        probes.TRAINED_CNN)) -> Table:
    """Probe test accuracy on the digits and on the control task, and their difference."""
    rows = []
    for model in models:
        task = probes.probe_curve(model, "label")
        control = probes.probe_curve(model, "control")
        arch = model.arch.upper()
        for i, site in enumerate(task.site_names):
            rows.append([f"{arch} {site}", f"${task.widths[i]}$", _pct(task.test_acc[i]),
                         _pct(control.test_acc[i]), _pct(control.train_acc[i]),
                         _signed(task.test_acc[i] - control.test_acc[i])])
    return (["site", "$D_\\ell$", "digit: test", "control: test", "control: fit",
             "selectivity (points)"], rows)


def concept_depths(slacks: Sequence[float], concepts: Sequence[str],
                   models: Sequence[tuple[str, probes.ModelConfig]]) -> Table:
    """Concept depth of each property in each model for several slacks (in points)."""
    headers = ["model", "property"] + [f"slack ${100 * s:g}$" for s in slacks]
    rows = []
    for arch, model in models:
        for concept in concepts:
            curve = probes.probe_curve(model, concept)
            depths = [probes.concept_depth(curve.test_acc, s) for s in slacks]
            rows.append([arch, concept] + [f"${d}$ ({curve.site_names[d]})" for d in depths])
    return headers, rows


def published_comparison(curves: dict[str, probes.ProbeCurve]) -> Table:
    """Published findings (quoted from the cited papers) against ours (measured).

    ``curves``: the label probe curves of ``probes.MODELS``, by the same names.
    """
    mlp1, cnn1 = curves["MLP trained"], curves["CNN trained"]
    m_mlp = probes.trained_model(probes.TRAINED_MLP)
    m_cnn = probes.trained_model(probes.TRAINED_CNN)
    ups = [(int((c.test_error[1:] > c.test_error[:-1]).sum()), len(c.test_error) - 1)
           for c in (mlp1, cnn1)]
    return (["Published finding", "Published", "Here", "Comment"], [
        ["MNIST-1D, linear model {cite:p}`greydanus2020mnist1d`", "$32\\%$",
         _pct(mlp1.test_acc[0]), "probe on the input (a logistic regression)"],
        ["MNIST-1D, nonlinear model {cite:p}`greydanus2020mnist1d`", "$68\\%$",
         _pct(m_mlp.test.model_acc), "our MLP, trained on half the training set"],
        ["MNIST-1D, convolutional model {cite:p}`greydanus2020mnist1d`", "$94\\%$",
         _pct(m_cnn.test.model_acc), "our CNN, smaller, trained on half the training set"],
        ["Linear separability of features increases monotonically along the depth of the "
         "model (Inception v3, ResNet-50) {cite:p}`alain2016probes`", "qualitative",
         f"probe test error rises in ${ups[0][0]}$ of ${ups[0][1]}$ steps from one site to "
         f"the next (MLP), in ${ups[1][0]}$ of ${ups[1][1]}$ (CNN)",
         "reproduced up to rises smaller than two paired standard errors"],
        ["Simple concepts become linearly decodable in shallow layers, complex ones in "
         "deeper layers {cite:p}`jin2024concept`", "qualitative",
         "see the concept depths", "a small analogue, with our own depth rule"],
    ])


def probe_speed(speed: dict) -> Table:
    """Iterations, objective and test accuracy per layer of both probe fits.

    ``speed`` is the result of :func:`hiddenunits.probes.compare_with_sklearn`.
    """
    headers = ["layer", "$D_\\ell$", "iterations, scikit-learn", "iterations, ours",
               "$F_\\ell$, scikit-learn", "$F_\\ell$, ours", "test acc., scikit-learn",
               "test acc., ours"]
    rows = [[name, f"${speed['widths'][i]}$", f"${speed['iter_sklearn'][i]}$",
             f"${speed['iter_torch'][i]}$", _num(speed["obj_sklearn"][i], 5),
             _num(speed["obj_torch"][i], 5), _num(speed["acc_sklearn"][i]),
             _num(speed["acc_torch"][i])]
            for i, name in enumerate(speed["names"])]
    return headers, rows
