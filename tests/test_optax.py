"""optax's optimizers in our driver (optimizers.from_optax): every alias optax
exports runs or is refused with its reason; trajectories against optax's own loops
and our Adam; hyperparameters as run-time data; register_optax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import bench
import optimizers
import problems
from bench import driver
from bench.status import label
from optimizers import from_optax

ROSEN = problems.get("rosenbrock")
X0 = np.array([-1.2, 1.0])


def _optax_loop(tx, steps):
    """A bare optax loop on Rosenbrock: f after each step and the last x."""

    def body(c, _):
        x, s = c
        u, s = tx.update(ROSEN.grad(x), s, x)
        x = optax.apply_updates(x, u)
        return (x, s), ROSEN.f(x)

    def loop(x0):
        return jax.lax.scan(body, (x0, tx.init(x0)), None, length=steps)

    (x, _), fs = jax.jit(loop)(jnp.asarray(X0))
    return np.asarray(fs), np.asarray(x)


def test_aliases_are_optax_own_optimizers():
    found = from_optax.aliases()
    named = "adam adamw lion lamb rmsprop adagrad sgd yogi novograd noisy_sgd sm3"
    assert {*named.split(), "fromage", "lbfgs"} <= set(found)
    assert not {"chain", "scale_by_adam", "scale_by_learning_rate", "clip"} & set(found)
    assert all(fn is getattr(optax, n) for n, fn in found.items())


def test_every_alias_takes_ten_steps_or_is_refused_with_its_reason():
    """The driver's init and step of each alias, 10 steps on Rosenbrock from
    (-1.2, 1): one compiled program holding every alias's loop (a program per
    alias would cost ~30 compiles)."""
    built, refused = {}, {}
    for method in from_optax.aliases():
        try:
            built[method] = optimizers.get(f"optax:{method}", lr=1e-3)
        except ValueError as exc:
            refused[method] = str(exc)
    oracles = ROSEN.oracles(ROSEN.data)

    def ten(opt, hp):
        def body(_, carry):
            s, njev = carry
            s, info = opt.step(oracles, s, hp)
            return s, njev + info.njev

        s0 = opt.init(oracles, jnp.asarray(X0), hp)
        s, njev = jax.lax.fori_loop(0, 10, body, (s0, 1))
        return s.x, s.f, njev

    every = jax.jit(lambda hps: {m: ten(built[m], hps[m]) for m in built})
    out = every({m: opt.hp() for m, opt in built.items()})
    for method, (x, f, njev) in out.items():
        assert np.all(np.isfinite(x)) and np.isfinite(f), method
        assert not np.array_equal(x, X0), method  # it moved
        assert njev == 11, method  # the start and one value_and_grad per step
        assert built[method].params["learning_rate"] == 1e-3
    assert set(refused) == {"lbfgs"}, refused
    assert "needs more than (updates, state, params)" in refused["lbfgs"]
    assert "value_fn" in refused["lbfgs"] and "\n" not in refused["lbfgs"]


def test_optax_adam_equals_our_adam():
    steps = 200
    ours = bench.solve(ROSEN, optimizers.get("adam", lr=1e-2), X0, num_steps=steps,
                       gtol=0.0)  # fmt: skip
    theirs = bench.solve(ROSEN, optimizers.get("optax:adam", lr=1e-2), X0,
                         num_steps=steps, gtol=0.0)  # fmt: skip
    np.testing.assert_allclose(theirs.f, ours.f, rtol=1e-12)
    np.testing.assert_allclose(theirs.x, ours.x, rtol=1e-12)
    np.testing.assert_array_equal(theirs.nfev, ours.nfev)
    np.testing.assert_array_equal(theirs.njev, np.arange(1, steps + 2))


def test_optax_lion_equals_a_handwritten_optax_loop():
    steps = 100
    hp = {"learning_rate": 3e-3, "b1": 0.8, "b2": 0.95, "weight_decay": 0.01}
    tr = bench.solve(ROSEN, optimizers.get("optax:lion", **hp), X0, num_steps=steps,
                     gtol=0.0)  # fmt: skip
    fs, x = _optax_loop(optax.lion(**hp), steps)
    assert int(tr.n_steps) == steps and tr.status == driver.Status.MAX_STEPS
    np.testing.assert_allclose(tr.f[1:], fs, rtol=1e-12)
    np.testing.assert_allclose(tr.x, x, rtol=1e-12)
    np.testing.assert_allclose(tr.step_size[1:], 3e-3, rtol=0)


def test_floats_are_run_time_data_and_structure_is_not():
    a = optimizers.get("optax:adamw", lr=0.1, b1=0.5, weight_decay=0.0)
    b = optimizers.get("optax:adamw")
    assert (a.init, a.step) == (b.init, b.step)  # one program for every float value
    assert a.hyper == ("learning_rate", "b1", "b2", "eps", "eps_root", "weight_decay")
    assert a.params["b1"] == 0.5 and a.label.startswith("optax:adamw[b1=0.5,")
    c = optimizers.get("optax:adamw", nesterov=True)
    assert (c.init, c.step) != (b.init, b.step)  # a bool selects another program
    key = driver.program_key(ROSEN, a, 10, 1, False, False)
    assert key == driver.program_key(ROSEN, b, 10, 1, False, False)


def test_optax_defaults_and_names():
    sgd = optimizers.get("optax:sgd")
    # optax's sgd has no momentum by default (ours, before, had 0.9)
    assert sgd.label == "optax:sgd[learning_rate=0.001,nesterov=False]"
    assert optimizers.defaults("optax:sgd")["momentum"] is None
    with_momentum = optimizers.get("optax:sgd", learning_rate=2e-4, momentum=0.5)
    fs, x = _optax_loop(optax.sgd(2e-4, momentum=0.5), 50)
    tr = bench.solve(ROSEN, with_momentum, X0, num_steps=50, gtol=0.0)
    np.testing.assert_allclose(tr.f[1:], fs, rtol=1e-12)
    assert optimizers.get("optax:adam", lr=0.5) is optimizers.get(
        "optax:adam", learning_rate=0.5
    )


BAD = [
    ("optax:no_such_alias", {}, "unknown optax optimizer 'optax:no_such_alias'"),
    ("optax:adam", {"beta": 0.9}, "has no hyperparameter beta; accepted: learning"),
    ("optax:adam", {"lr": 0.0}, "learning_rate must be > 0"),
    ("optax:adam", {"lr": 1e-3, "learning_rate": 1e-3}, "not both"),
    ("optax:adam", {"b1": "x"}, "b1 must be a finite number"),
    ("optax:adam", {"nesterov": 1}, "nesterov must be true or false"),
    ("optax:sgd", {"momentum": "abc"}, "optax:sgd.*momentum=abc.* does not build"),
]


@pytest.mark.parametrize("name, params, match", BAD)
def test_bad_names_and_values_are_one_line_errors(name, params, match):
    with pytest.raises(ValueError, match=match) as err:
        optimizers.get(name, **params)
    assert "\n" not in str(err.value)


def test_optax_divergence_is_flagged_and_counted():
    tr = bench.solve(ROSEN, optimizers.get("optax:sgd", lr=0.1), X0, num_steps=100)
    k = int(tr.n_steps)
    assert label(tr.status) == "diverged" and k < 100
    assert np.all(np.isfinite(tr.f)) and tr.nfev[k] == k + 1


def test_register_optax_runs_a_users_transformation_in_our_driver():
    def signed_adam(learning_rate=1e-2, b1=0.9):
        return optax.chain(optax.scale_by_adam(b1=b1), optax.scale_by_sign(),
                           optax.scale(-learning_rate))  # fmt: skip

    optimizers.register_optax("test_signed_adam", signed_adam)
    try:
        opt = optimizers.get("test_signed_adam", lr=2e-3)
        assert opt.params == {"learning_rate": 2e-3, "b1": 0.9}
        tr = bench.solve(ROSEN, opt, X0, num_steps=30, gtol=0.0)
        fs, _ = _optax_loop(signed_adam(2e-3), 30)
        np.testing.assert_allclose(tr.f[1:], fs, rtol=1e-12)
        from bench.cells import prepare
        from bench.suites import CellSpec

        (cell,) = prepare([CellSpec("rosenbrock", {}, "test_signed_adam", {})])
        assert cell.source == "optax"
    finally:
        optimizers.unregister("test_signed_adam")
