"""Tables of chapter 3, "Nonlinearity, linear separability and probes".

Each function returns ``(headers, rows)`` of MyST cells for
:func:`hiddenunits.book.notebook.show_table`.
"""

from __future__ import annotations

from hiddenunits import probes
from hiddenunits import xor as X
from hiddenunits.data import xor

Table = tuple[list[str], list[list[str]]]


def article_outputs() -> Table:
    """The article network's outputs at the four corners, in both readings of its weights."""
    _, y = xor()
    rows = [[point, str(int(target)), f"{float(o1):.6f}", f"{float(o2):.6f}"]
            for point, target, o1, o2 in zip(["(0,0)", "(0,1)", "(1,0)", "(1,1)"], y,
                                             X.article_outputs_exact("out_in"),
                                             X.article_outputs_exact("in_out"), strict=True)]
    return (["input", "XOR", "output, `(out, in)` reading", "output, `(in, out)` reading"],
            rows)


def probe_speed(speed: dict) -> Table:
    """Iterations, objective and test accuracy per layer of both probe fits.

    ``speed`` is the result of :func:`hiddenunits.probes.compare_with_sklearn`.
    """
    headers = ["layer", "$D$", "it. sklearn", "it. ours", "$F$ sklearn", "$F$ ours",
               "acc. sklearn", "acc. ours"]
    rows = [[name, str(speed["widths"][i]), str(speed["iter_sklearn"][i]),
             str(speed["iter_torch"][i]), f"{speed['obj_sklearn'][i]:.5f}",
             f"{speed['obj_torch'][i]:.5f}", f"{speed['acc_sklearn'][i]:.3f}",
             f"{speed['acc_torch'][i]:.3f}"]
            for i, name in enumerate(speed["names"])]
    return headers, rows


def _pct(v: float) -> str:
    return f"{100 * float(v):.1f}%"


def published_comparison(curves: dict[str, probes.ProbeCurve]) -> Table:
    """Published findings (typed from the cited papers) against ours (measured).

    ``curves``: the label probe curves of ``probes.MODELS``, by the same names.
    """
    mlp1, cnn0, cnn1 = curves["MLP trained"], curves["CNN at init"], curves["CNN trained"]
    m_mlp = probes.trained_model(probes.TRAINED_MLP)
    m_cnn = probes.trained_model(probes.TRAINED_CNN)
    rows = [
        ["MNIST-1D, logistic regression on the input {cite:p}`greydanus2020mnist1d`", "32%",
         _pct(mlp1.test_acc[0]) + " (input probe)", "same kind of model"],
        ["MNIST-1D, MLP test accuracy {cite:p}`greydanus2020mnist1d`", "68%",
         _pct(m_mlp.test_acc), "our MLP is trained for only a few epochs"],
        ["MNIST-1D, CNN test accuracy {cite:p}`greydanus2020mnist1d`", "94%",
         _pct(m_cnn.test_acc), "our CNN is smaller and trained briefly"],
        ["Probe error decreases with depth in trained convnets {cite:p}`alain2016probes`",
         "qualitative",
         f"probe error {_pct(cnn1.test_error[0])} to {_pct(cnn1.test_error.min())} "
         "(trained CNN)",
         "reproduced, up to steps within the error bars"],
        ["Some layers already help probes at initialisation {cite:p}`alain2016probes`",
         "qualitative (not re-checked)",
         f"probe error {_pct(cnn0.test_error[0])} to {_pct(cnn0.test_error[1])} "
         "(CNN at init, first layer)",
         "reproduced for the first layer; deeper random layers help the CNN a little, "
         "hurt the MLP"],
        ["Simple concepts linear early, complex ones late {cite:p}`jin2024concept`",
         "qualitative", "see the concept-depth figure", "reproduced in a small analogue"],
    ]
    return ["Finding (published)", "Published", "Reproduced here", "Comment"], rows
