"""Selection specs (bench.spec), suites and configs (bench.suites): parsing, no runs."""

import math

import pytest

import optimizers
import problems
from bench import config, spec, suites
from bench.spec import SpecError, expand, format_spec, parse_spec, parse_value


@pytest.mark.parametrize(
    "text, value",
    [
        ("10", 10),
        ("-3", -3),
        ("1e-3", 1e-3),
        ("1E3", 1000.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("-2.5e-2", -0.025),
        ("true", True),
        ("False", False),
        ("log", "log"),
        ("L-BFGS-B", "L-BFGS-B"),
    ],
)
def test_parse_value(text, value):
    got = parse_value(text)
    assert got == value and type(got) is type(value)


def test_parse_value_nonfinite_is_a_float():
    # so that the registries answer "must be finite", not "must be a number"
    assert math.isinf(parse_value("inf")) and math.isnan(parse_value("nan"))


def test_plain_name():
    assert parse_spec("bfgs") == ("bfgs", {})
    assert parse_spec("  bfgs  ") == ("bfgs", {})
    assert parse_spec("adam[]") == ("adam", {})


def test_params_keep_their_order_and_types():
    name, params = parse_spec("quadratic[dim=20,kappa=1e2,spectrum=log,seed=-1]")
    assert name == "quadratic"
    assert list(params) == ["dim", "kappa", "spectrum", "seed"]
    assert params == {"dim": 20, "kappa": 100.0, "spectrum": "log", "seed": -1}
    assert isinstance(params["dim"], int) and isinstance(params["kappa"], float)


def test_bool_and_spaces():
    assert parse_spec("gd[ lr = 1 , armijo = true ]") == (
        "gd",
        {"lr": 1, "armijo": True},
    )


def test_quoted_string_keeps_delimiters():
    assert parse_spec("p[s='a,b[c]',t=\"x y\",u='10']") == (
        "p",
        {"s": "a,b[c]", "t": "x y", "u": "10"},
    )


def test_lists_stay_lists_in_parse():
    assert parse_spec("adam[lr=[1e-3,1e-2],b1=0.9]") == (
        "adam",
        {"lr": [1e-3, 1e-2], "b1": 0.9},
    )


def test_expand_is_the_cartesian_product_first_key_slowest():
    got = expand("adam[lr=[1e-3,1e-2],b1=[0.9,0.99]]")
    assert got == [
        ("adam", {"lr": 1e-3, "b1": 0.9}),
        ("adam", {"lr": 1e-3, "b1": 0.99}),
        ("adam", {"lr": 1e-2, "b1": 0.9}),
        ("adam", {"lr": 1e-2, "b1": 0.99}),
    ]


def test_expand_without_lists_is_one_and_drops_repeats():
    assert expand("rosenbrock[n=2]") == [("rosenbrock", {"n": 2})]
    assert expand("gd[lr=[1,1.0,2]]") == [("gd", {"lr": 1}), ("gd", {"lr": 2})]


@pytest.mark.parametrize(
    "text",
    ["scipy:L-BFGS-B", "scipy:BFGS", "optimistix:BFGS", "scipy:trust-exact"],
)
def test_peer_names(text):
    assert parse_spec(text) == (text, {})


def test_peer_with_params():
    assert expand("optax:adam[lr=[1e-2,1e-1]]") == [
        ("optax:adam", {"lr": 0.01}),
        ("optax:adam", {"lr": 0.1}),
    ]


@pytest.mark.parametrize(
    "text, says",
    [
        ("adam[lr=", "expected a value for 'lr' at the end"),
        ("adam[lr=1e-3", "expected ',' or ']' at the end"),
        ("adam[lr]", "expected '=' after 'lr'"),
        ("adam[=1]", "expected a parameter name"),
        ("adam[lr=1,lr=2]", "parameter 'lr' given twice"),
        ("adam[lr=[1,2]", "expected ',' or ']' at the end"),
        ("adam[lr=[]]", "expected a value for 'lr'"),
        ("adam[lr=[[1]]]", "nested list"),
        ("adam[lr=1]x", "unexpected text after the spec"),
        ("adam lr=1", "unexpected text after the spec"),
        ("[lr=1]", "expected a name"),
        ("1adam", "expected a name"),
        ("", "empty spec"),
        ("   ", "empty spec"),
        ("p[s='abc]", "unterminated quote"),
        ("adam[lr=1 2]", "expected ',' or ']'"),
    ],
)
def test_malformed_specs_say_what_and_where(text, says):
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    msg = str(info.value)
    assert says in msg
    assert "\n" not in msg
    assert repr(text) in msg or not text.strip()
    assert "NAME[k=v" in msg  # the accepted form
    assert isinstance(info.value, ValueError)


def test_error_position_is_one_based():
    with pytest.raises(SpecError, match=r"at position 6 \('='\)"):
        parse_spec("adam[=1]")


def test_format_spec_round_trips():
    params = {"lr": 0.001, "armijo": True, "name": "log", "n": 10, "s": "a b"}
    text = format_spec("gd", params)
    assert text == "gd[armijo=true,lr=0.001,n=10,name=log,s='a b']"
    assert parse_spec(text) == ("gd", dict(sorted(params.items())))
    assert format_spec("bfgs", {}) == "bfgs"
    assert format_spec("adam", {"lr": [0.1, 1]}) == "adam[lr=[0.1,1]]"


def test_canonical_ignores_int_float_and_order():
    assert spec.canonical("gd", {"lr": 1, "armijo": True}) == spec.canonical(
        "gd", {"armijo": True, "lr": 1.0}
    )
    assert spec.canonical("gd", {"lr": 1}) != spec.canonical("gd", {"lr": 2})


# --------------------------------------------------------------------------- suites


def test_group_crosses_problems_and_optimizers():
    g = suites.Group(("rosenbrock[n=[2,3]]",), ("bfgs", "gd[lr=[0.1,0.2]]"))
    cells = g.cells()
    assert len(cells) == 2 * 3
    assert cells[0] == suites.CellSpec("rosenbrock", {"n": 2}, "bfgs", {})
    assert cells[-1] == suites.CellSpec("rosenbrock", {"n": 3}, "gd", {"lr": 0.2})


def test_suite_cells_run_once_across_groups():
    s = suites.Suite(
        "t",
        (
            suites.Group(("rosenbrock", "beale"), ("bfgs",)),
            suites.Group(("rosenbrock",), ("bfgs", "newton")),
        ),
    )
    assert [(c.problem, c.optimizer) for c in s.cells()] == [
        ("rosenbrock", "bfgs"),
        ("beale", "bfgs"),
        ("rosenbrock", "newton"),
    ]


def _suite():
    return suites.Suite(
        "t",
        (
            suites.Group(("rosenbrock", "quadratic[kappa=10]"), ("bfgs",)),
            suites.Group(("quadratic[kappa=10]",), ("gd[lr=0.1]",)),
        ),
        starts=2,
    )


def test_override_both_replaces_the_selection():
    s = suites.override(_suite(), ["beale"], ["newton"], name="x")
    assert s.name == "x" and s.starts == 2
    assert [(c.problem, c.optimizer) for c in s.cells()] == [("beale", "newton")]


def test_override_optimizers_keeps_every_problem():
    s = suites.override(_suite(), None, ["newton"])
    assert [(c.problem, c.optimizer) for c in s.cells()] == [
        ("rosenbrock", "newton"),
        ("quadratic", "newton"),
    ]


def test_override_problems_keeps_the_optimizers_of_their_groups():
    s = suites.override(_suite(), ["quadratic[kappa=100]", "beale"], None)
    got = [(c.problem, c.problem_params, c.optimizer) for c in s.cells()]
    assert got == [
        ("quadratic", {"kappa": 100}, "bfgs"),
        ("quadratic", {"kappa": 100}, "gd"),  # its lr group follows it
        ("beale", {}, "bfgs"),  # not in the suite: the first group's optimizers
    ]


@pytest.mark.parametrize("name", suites.names())
def test_builtin_suites_name_registered_things_only(name):
    s = suites.get(name)
    cells = s.cells()
    assert cells, name
    try:
        from bench import peers
    except ImportError:  # pragma: no cover
        peers = None
    from optimizers.theory import resolve

    for c in cells:
        p = problems.get(c.problem, **c.problem_params)  # a known name, valid values
        if ":" in c.optimizer and not c.optimizer.startswith("optax:"):
            if peers is not None:
                assert c.optimizer in peers.PEER_NAMES, (name, c.optimizer)
                peers.check_peer(c.optimizer, c.optimizer_params)
        else:  # valid values (`theory` ones resolved from the problem)
            optimizers.get(c.optimizer, **resolve(c.optimizer, c.optimizer_params, p))


def test_default_suite_has_every_optimizer_a_peer_and_an_lr_sweep():
    cells = suites.get("default").cells()
    assert {c.optimizer for c in cells} >= set(optimizers.names())
    assert any(":" in c.optimizer for c in cells)
    assert any(c.optimizer == "gd" and c.optimizer_params.get("armijo") for c in cells)
    sweep = [c for c in cells if c.problem == "quadratic" and c.optimizer == "gd"]
    assert len({c.optimizer_params["lr"] for c in sweep}) >= 3
    # a cross-section, not a study: each family is a program compiled cold (~1-2 s
    # on the 2-core machine), and `make run` is what a new user waits for
    assert len(cells) <= 70


def test_smoke_is_small_and_mgh_is_complete():
    assert len(suites.get("smoke").cells()) <= 12
    from problems.mgh import MGH_NAMES

    assert {c.problem for c in suites.get("mgh").cells()} == set(MGH_NAMES)


def test_unknown_suite():
    with pytest.raises(ValueError, match="unknown suite 'nope'; valid suites: smoke"):
        suites.get("nope")


# --------------------------------------------------------------------------- configs


def test_config_with_selection_is_its_own_suite():
    cfg = config.parse_config(
        {
            "suite": "mine",
            "problems": ["rosenbrock[n=[2,10]]"],
            "optimizers": ["bfgs", "adam[lr=[1e-3,1e-2]]"],
            "starts": 3,
            "steps": 100,
            "tol": 1e-6,
        },
        "mine.toml",
    )
    assert cfg.suite.name == "mine"
    assert len(cfg.suite.cells()) == 2 * 3
    assert cfg.settings == {"starts": 3, "steps": 100, "tol": 1e-6}


def test_config_groups_and_name_from_file():
    cfg = config.parse_config(
        {
            "problems": ["beale"],
            "optimizers": ["bfgs"],
            "groups": [{"problems": ["mlp"], "optimizers": ["adam[lr=[0.01,0.1]]"]}],
        },
        "dir/study.toml",
    )
    assert cfg.suite.name == "study"
    assert [(c.problem, c.optimizer) for c in cfg.suite.cells()] == [
        ("beale", "bfgs"),
        ("mlp", "adam"),
        ("mlp", "adam"),
    ]


def test_config_can_start_from_a_builtin_suite():
    cfg = config.parse_config({"suite": "smoke", "optimizers": ["newton"]}, "c.toml")
    assert cfg.suite.name == "smoke" and cfg.suite.starts == 2
    assert {c.optimizer for c in cfg.suite.cells()} == {"newton"}


@pytest.mark.parametrize(
    "data, says",
    [
        ({"problem": ["beale"]}, "unknown key problem; accepted: suite"),
        ({"suite": "mine", "problems": ["beale"]}, "suite 'mine' is not built in"),
        ({"problems": "beale[", "optimizers": ["bfgs"]}, "malformed spec 'beale['"),
        ({"problems": [], "optimizers": ["bfgs"]}, "non-empty list of SPEC"),
        ({"problems": [1], "optimizers": ["bfgs"]}, "non-empty list of SPEC"),
        ({"starts": 0}, "starts must be an integer >= 1, got starts=0"),
        ({"starts": True}, "starts must be an integer >= 1"),
        ({"steps": 1.5}, "steps must be an integer >= 1"),
        ({"tol": -1.0}, "tol must be a finite number >= 0, got -1.0"),
        ({"gtol": "small"}, "gtol must be a finite number >= 0"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"precision": "float16"}, "precision must be float64 or float32"),
        ({"groups": [{"problems": ["beale"]}]}, "needs non-empty problems and"),
        ({"groups": [{"problems": ["a"], "optimizers": ["b"], "x": 1}]}, "key x"),
        ({"groups": {"problems": ["beale"]}}, "array of tables"),
    ],
)
def test_bad_configs(data, says):
    with pytest.raises(ValueError) as info:
        config.parse_config(data, "c.toml")
    assert says in str(info.value)
    assert str(info.value).startswith("config c.toml")


def test_load_config_reads_toml(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'problems = ["rosenbrock"]\noptimizers = ["bfgs"]\nsteps = 50\n'
        '[[groups]]\nproblems = ["beale"]\noptimizers = ["newton"]\n'
    )
    cfg = config.load_config(path)
    assert cfg.suite.name == "mine" and cfg.settings == {"steps": 50}
    assert len(cfg.suite.cells()) == 2


def test_load_config_invalid_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("problems = [\n")
    with pytest.raises(ValueError, match="invalid TOML"):
        config.load_config(path)


def test_folder_name():
    assert suites.folder_name("my suite/x") == "my-suite-x"
    assert suites.folder_name("///") == "run"
