"""The scaleinv module against the CLI: the same library, so the same JSON on the same networks;
the round trip through JSON; errors with the library's messages; orbit moves that keep the function."""
import json
import os
import tempfile

import numpy as np
import pytest

import scaleinv

SPECS = [
    "example:demo",
    "example:mixed",
    "mlp:3-4-2,bias",
    "skip:4-5-5-5-2,bias",
    "random:seed=3,inputs=3,hidden=7,outputs=2,p=0.5,bias,tanh=0.3",
    "conv:len=6,ch=1-2-1,k=2,bias",
]


@pytest.mark.parametrize("spec", SPECS)
def test_analyze_equals_the_cli(spec, cli_json):
    net = scaleinv.Network.from_spec(spec)
    assert scaleinv.analyze(net) == cli_json("analyze", spec, "--json")
    assert scaleinv.analyze(net, edge_paths=True) == cli_json("analyze", spec, "--json", "--edge-paths")


@pytest.mark.parametrize("spec", SPECS)
def test_basis_verify_and_fdim_equal_the_cli(spec, cli_json):
    net = scaleinv.Network.from_spec(spec)
    assert scaleinv.basis(net) == cli_json("basis", spec, "--json")
    assert scaleinv.basis(net, limit=2, skeleton="first") == cli_json("basis", spec, "--json", "--limit", "2",
                                                                        "--skeleton", "first")
    timing = {"seconds", "rank_seconds"}
    ours = {k: v for k, v in scaleinv.verify(net).items() if k not in timing}
    theirs = {k: v for k, v in cli_json("verify", spec, "--json").items() if k not in timing}
    assert ours == theirs and ours["agree"] is True
    assert scaleinv.fdim(net, inputs=7, seed=5) == cli_json("fdim", spec, "--json", "--inputs", "7", "--seed", "5")


def test_express_equals_the_cli(cli_json):
    net = scaleinv.Network.from_spec("example:demo")
    b = scaleinv.basis(net)
    path = b["basis"][-1]
    ours = scaleinv.express(net, path)
    assert ours == cli_json("express", "example:demo", "--path", ",".join(map(str, path)), "--json")
    # A basis path is itself: exponent 1 on its own index, and the exact check holds.
    assert ours["coefficients"] == [{"basis": len(b["basis"]) - 1, "exponent": 1}]
    assert ours["values_agree"] is True


def test_network_properties():
    net = scaleinv.Network.from_spec("mlp:3-4-2,bias")
    assert (net.num_nodes, net.num_edges, net.num_parameters) == (3 + 1 + 4 + 1 + 2, 26, 26)
    assert net.weights is None and not net.has_weights
    assert net.nodes[0] == {"id": "x0", "kind": "input"}
    assert {"id": "h1_0", "kind": "hidden", "activation": "relu"} in net.nodes
    edges = net.edges
    assert edges.shape == (26, 2)
    ids = [n["id"] for n in net.nodes]
    assert (ids[edges[0][0]], ids[edges[0][1]]) == ("x0", "h1_0")  # mlp order: W[j][i], row-major
    assert (ids[edges[1][0]], ids[edges[1][1]]) == ("x1", "h1_0")
    assert sorted(net.active_units()) == ["h1_0", "h1_1", "h1_2", "h1_3"]
    assert "example:demo" in repr(scaleinv.Network.from_spec("example:demo"))
    assert set(scaleinv.example_names()) >= {"demo", "mixed"}


def test_weights_get_and_set():
    net = scaleinv.Network.from_spec("mlp:3-4-2,bias,init=7")
    w = net.weights
    assert w.dtype == np.float64 and w.shape == (26,)
    w2 = w * 2.0
    net.weights = w2
    assert np.array_equal(net.weights, w2)
    w2[0] = 99.0  # the getter and setter copy: the network is not a view of the caller's array
    assert net.weights[0] != 99.0
    with pytest.raises(scaleinv.Error, match="one per edge"):
        net.weights = np.zeros(25)
    bad = w.copy()
    bad[3] = np.nan
    with pytest.raises(scaleinv.Error, match="edge 3"):
        net.weights = bad
    assert np.array_equal(net.weights, w * 2.0)  # unchanged by the failed assignment
    net.weights = None
    assert net.weights is None


def test_json_round_trip_is_lossless():
    for spec in ["example:demo", "conv:len=6,ch=1-2-1,k=2,bias,init=3", "skip:4-5-5-5-2,bias,init=2"]:
        net = scaleinv.Network.from_spec(spec)
        text = net.to_json()
        back = scaleinv.Network.from_json(text, spec)
        assert back.to_json() == text
        assert back.num_edges == net.num_edges and back.nodes == net.nodes
        assert np.array_equal(back.edges, net.edges)
        assert np.array_equal(back.weights, net.weights)
        assert scaleinv.analyze(back) == scaleinv.analyze(net)
        assert json.loads(text)["format"] == "scaleinv.network"


def test_exact_weights_survive_the_round_trip():
    text = json.dumps({"format": "scaleinv.network", "version": 1,
                       "nodes": [{"id": "x", "kind": "input"}, {"id": "h", "kind": "hidden"},
                                 {"id": "y", "kind": "output"}],
                       "edges": [{"from": "x", "to": "h", "weight": "1/3"}, {"from": "h", "to": "y", "weight": 2}]})
    net = scaleinv.Network.from_json(text)
    assert net.has_exact_weights
    assert json.loads(net.to_json())["edges"][0]["weight"] == "1/3"
    assert net.weights[0] == pytest.approx(1 / 3, rel=1e-15)


def _cli_error(cli, *args):
    code, out, err = cli(*args)
    assert code == 3 and out == "", (code, out, err)
    assert err.startswith("scaleinv: error: "), err
    return err[len("scaleinv: error: "):].strip()


def test_errors_are_scaleinv_error_with_the_library_message(cli):
    assert issubclass(scaleinv.Error, ValueError)
    with pytest.raises(scaleinv.Error) as e:
        scaleinv.Network.from_spec("mlp:3-x-2")
    assert str(e.value) == _cli_error(cli, "analyze", "mlp:3-x-2")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "cycle.json")
        with open(path, "w") as f:
            f.write(json.dumps({"format": "scaleinv.network", "version": 1,
                                "nodes": [{"id": "a", "kind": "hidden"}, {"id": "b", "kind": "hidden"}],
                                "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]}))
        with pytest.raises(ValueError) as e:
            scaleinv.Network.from_file(path)
        assert "cycle" in str(e.value) and str(e.value) == _cli_error(cli, "analyze", path)
        with open(path, "w") as f:
            f.write('{"format": "scaleinv.network",\n "version": 1, "nodes": [}')
        with pytest.raises(scaleinv.Error) as e:
            scaleinv.Network.from_file(path)
        assert str(e.value).startswith(path + ":2:26: invalid JSON") and str(e.value) == _cli_error(cli, "analyze", path)
    with pytest.raises(scaleinv.Error, match="^<json>:1:2: invalid JSON: syntax error"):
        scaleinv.Network.from_json("nonsense")
    with pytest.raises(scaleinv.Error, match="not a network spec"):
        scaleinv.Network.from_spec("/no/such/file.json")
    net = scaleinv.Network.from_spec("mlp:2-2-1")
    with pytest.raises(scaleinv.Error, match="no weights"):
        scaleinv.balance(net)
    with pytest.raises(scaleinv.Error, match="edge 99 does not exist"):
        scaleinv.express(net, [0, 99])
    with pytest.raises(scaleinv.Error, match="diagonal"):
        scaleinv.basis(net, skeleton="sideways")


def test_verify_refuses_too_many_paths(cli):
    with pytest.raises(scaleinv.Error) as e:
        scaleinv.verify(scaleinv.Network.from_spec("mlp:10-10-10-10"), max_paths=50)
    code, _, err = cli("verify", "mlp:10-10-10-10", "--max-paths", "50")
    assert code == 2 and err.strip() == "scaleinv: error: " + str(e.value)


def _inputs(net, n=16, seed=0):
    inputs = sum(1 for v in net.nodes if v["kind"] == "input")
    return np.random.default_rng(seed).normal(size=(n, inputs))


def test_rescale_keeps_the_function_and_equivalent_finds_the_scales():
    net = scaleinv.Network.from_spec("skip:4-5-5-5-2,bias,init=4")
    x = _inputs(net)
    other = scaleinv.rescale(net, seed=11, spread=1.5)
    assert not np.allclose(other.weights, net.weights)  # other weights ...
    np.testing.assert_allclose(other.evaluate(x), net.evaluate(x), rtol=1e-12, atol=1e-12)  # ... same function
    r = scaleinv.equivalent(net, other)
    assert r["equivalent"] is True and r["reason"] == ""
    # The scales rebuild the rescaled weights: w_B = w_A c(head) / c(tail).
    ids = [v["id"] for v in net.nodes]
    c = np.array([r["scales"].get(i, 1.0) for i in ids])
    e = net.edges
    np.testing.assert_allclose(net.weights * c[e[:, 1]] / c[e[:, 0]], other.weights, rtol=1e-12)
    # A sign flip is no rescaling.
    flipped = scaleinv.Network.from_json(net.to_json())
    w = flipped.weights
    w[0] = -w[0]
    flipped.weights = w
    r = scaleinv.equivalent(net, flipped)
    assert r["equivalent"] is False and r["failed_edge"] == 0 and "sign" in r["reason"]


def test_rescale_with_named_scales_is_exact_for_rational_strings():
    net = scaleinv.Network.from_spec("example:demo")
    out = scaleinv.rescale(net, scales={"h0": "3/2", "h1": 2})
    r = scaleinv.equivalent(net, out, exact=True)
    assert r["equivalent"] and r["exact"] and r["scales"]["h0"] == "3/2" and r["scales"]["h1"] == "2"
    with pytest.raises(scaleinv.Error, match="unknown unit 'nope'"):
        scaleinv.rescale(net, scales={"nope": 2})
    with pytest.raises(scaleinv.Error, match="must be positive"):
        scaleinv.rescale(net, scales={"h0": -1})
    with pytest.raises(scaleinv.Error, match="'x0' is not a hidden unit"):
        scaleinv.rescale(net, scales={"x0": 2})
    with pytest.raises(scaleinv.Error, match="not both"):
        scaleinv.rescale(net, seed=1, scales={"h0": 2})


def test_balance_then_equivalent_is_true():
    net = scaleinv.rescale(scaleinv.Network.from_spec("mlp:6-8-8-3,bias,init=5"), seed=2, spread=2.0)
    x = _inputs(net)
    balanced, report = scaleinv.balance(net, tol=1e-12)
    assert report["converged"] is True and report["order"] == "newton"
    assert report["cost_after"] < report["cost_before"]
    assert scaleinv.equivalent(net, balanced, tol=1e-8)["equivalent"] is True
    np.testing.assert_allclose(balanced.evaluate(x), net.evaluate(x), rtol=1e-10, atol=1e-12)
    assert scaleinv.imbalance(balanced)["max_relative"] <= 1e-10 < scaleinv.imbalance(net)["max_relative"]
    assert np.array_equal(net.weights, scaleinv.rescale(scaleinv.Network.from_spec("mlp:6-8-8-3,bias,init=5"),
                                                        seed=2, spread=2.0).weights)  # the input is left alone


def test_canonical_forms_of_equivalent_networks_agree():
    a = scaleinv.Network.from_spec("mlp:4-6-6-2,bias,init=9")
    b = scaleinv.rescale(a, seed=5, spread=2.0)
    ca, ra = scaleinv.canonical(a)
    cb, _ = scaleinv.canonical(b)
    assert ra["converged"] is True
    np.testing.assert_allclose(ca.weights, cb.weights, rtol=1e-9, atol=1e-12)
    assert not np.allclose(a.weights, b.weights, rtol=1e-3)


def test_evaluate_checks_its_input():
    net = scaleinv.Network.from_spec("mlp:3-4-2,bias,init=1")
    assert net.evaluate(np.zeros((5, 3))).shape == (5, 2)
    with pytest.raises(scaleinv.Error, match=r"shape \(batch, 3\)"):
        net.evaluate(np.zeros((5, 4)))
    with pytest.raises(scaleinv.Error, match="no weights"):
        scaleinv.Network.from_spec("mlp:3-4-2").evaluate(np.zeros((1, 3)))


def test_threads_share_a_network_while_its_weights_change():
    # The library runs with the GIL released, under the network's reader lock; a weight assignment
    # takes the writer lock. Every concurrent analysis must see a whole network.
    from concurrent.futures import ThreadPoolExecutor

    net = scaleinv.Network.from_spec("mlp:8-12-12-3,bias,init=1")
    expected = scaleinv.analyze(net)
    w = net.weights
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(scaleinv.analyze, net) for _ in range(16)]
        futures += [pool.submit(lambda: scaleinv.imbalance(net)["max_relative"]) for _ in range(16)]
        for k in range(200):
            net.weights = w * (1.0 + k % 3)  # a multiple of w: the same imbalance
        results = [f.result() for f in futures]
    assert all(r == expected for r in results[:16])
    ratio = scaleinv.imbalance(net)["max_relative"]
    np.testing.assert_allclose(results[16:], ratio, rtol=1e-12)
