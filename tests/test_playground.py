"""The playground server (``python -m engine serve``): its page, its JSON, its refusals, and that it keeps serving.

The server runs in a thread on a free port; requests go through urllib and raw sockets. The page's
JavaScript is driven in a real browser by the browser tests.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine import viz
from engine.apps import playground
from engine.errors import EngineValueError
from engine.scalar.expression import parse_assignments, parse_expression


@pytest.fixture(scope="module")
def server():
    server, port = playground.start(0)
    yield server, port
    playground.stop(server)


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def graph(port: int, expr: str, **values: str) -> tuple[int, dict]:
    status, _, body = get(port, "/api/graph?" + urllib.parse.urlencode({"expr": expr, **values}))
    return status, json.loads(body)


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def assert_alive(port: int) -> None:
    status, data = graph(port, "x * y", x="2", y="3")
    assert status == 200 and data["value"] == "6"


def test_listens_on_localhost_only(server):
    srv, port = server
    assert srv.server_address[0] == "127.0.0.1" and port > 0


def test_page_has_the_controls_and_fetches_only_from_itself(server):
    _, port = server
    status, headers, body = get(port, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    text = body.decode("utf-8")
    for element in ("expr", "values", "render", "error", "result", "tab-graph", "tab-train", "panel-graph",
                    "panel-train", "graph", "prev", "next", "slider", "step-text", "grads", "train-toggle",
                    "train-reset", "loss", "loss-line", "boundary"):
        assert f'id="{element}"' in text, element
    assert "src=" not in text and "<link" not in text
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_graph_api_matches_the_command_line(server):
    _, port = server
    status, data = graph(port, "(x+y)*z", x="-2", y="5", z="-4")
    assert status == 200 and data["ok"] is True
    assert data["value"] == "-12"
    assert data["inputs"] == [{"name": "x", "data": "-2", "grad": "-4"}, {"name": "y", "data": "5", "grad": "-4"},
                              {"name": "z", "data": "-4", "grad": "3"}]
    root, _ = parse_expression("(x+y)*z", parse_assignments(["x=-2", "y=5", "z=-4"]))
    root.label = "f"
    assert [s["text"] for s in data["steps"]] == viz.format_steps(root).splitlines()
    for step in data["steps"][1:]:
        assert f'id="edge-{step["edge"]}"' in data["svg"]


def test_the_url_of_the_issue_renders(server):
    _, port = server
    status, _, body = get(port, "/api/graph?expr=(x%2By)*z&x=-2&y=5&z=-4")
    assert status == 200 and json.loads(body)["value"] == "-12"


@pytest.mark.parametrize(
    "expr, values, message",
    [
        ("__import__('os').system('echo hacked')", {}, "is not allowed"),
        ("x.__class__", {"x": "1"}, "attribute access is not allowed"),
        ("(x + ", {"x": "1"}, "cannot parse"),
        ("x * w", {"x": "1"}, "undefined name 'w'"),
        ("x * 2", {"x": "1", "y": "2"}, "y is given a value but not used"),
        ("x * 2", {"x": "two"}, "x: 'two' is not a number"),
        ("", {}, "type an expression"),
        ("x ** 1000", {"x": "2"}, "exponent 1000 in x ** 1000 is beyond the playground's limit of ±100"),
        ("x ** y", {"x": "2", "y": "500"}, "exponent 500"),
        ("x" + " + x" * 200, {"x": "1"}, "at most 300"),
        ("log(x)", {"x": "-1"}, "log"),
        ("x / y", {"x": "1", "y": "0"}, "divides by zero"),
    ],
)
def test_bad_expressions_get_one_line_messages(server, expr, values, message):
    _, port = server
    status, data = graph(port, expr, **values)
    assert status == 400 and data["ok"] is False
    assert message in data["error"] and "\n" not in data["error"]
    assert_alive(port)


def test_too_many_variables_and_repeated_names_are_refused(server):
    _, port = server
    names = {f"v{k}": "1" for k in range(17)}
    status, data = graph(port, " + ".join(names), **names)
    assert status == 400 and "at most 16" in data["error"]
    status, _, body = get(port, "/api/graph?expr=x*2&x=1&x=2")
    assert status == 400 and "x is given 2 times" in json.loads(body)["error"]


def test_graph_size_is_bounded(server, monkeypatch):
    _, port = server
    monkeypatch.setattr(playground, "MAX_GRAPH_VALUES", 10)
    status, data = graph(port, "x" + " * x" * 12, x="1.01")
    assert status == 400 and "the playground draws at most 10" in data["error"]


def test_oversize_requests_are_refused(server):
    _, port = server
    status, _, body = get(port, "/api/graph?expr=" + "x%2B" * 2000 + "x&x=1")
    assert status == 414 and "at most 2048" in json.loads(body)["error"]
    # A body is never read: POST (and every other method) is refused before it is sent.
    reply = raw(port, b"POST /api/graph HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\n")
    assert b" 405 " in reply.split(b"\r\n")[0]
    assert_alive(port)


def test_garbage_and_hostile_hosts_do_not_stop_the_server(server):
    _, port = server
    assert b" 400 " in raw(port, b"\x00\xff garbage \r\n\r\n").split(b"\r\n")[0]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127")  # a request cut short
    status, _, body = get(port, "/", headers={"Host": "evil.example:80"})
    assert status == 403 and "127.0.0.1 or localhost" in json.loads(body)["error"]
    status, _, _ = get(port, "/nope")
    assert status == 404
    assert_alive(port)


def test_an_internal_error_is_a_500_for_that_request_only(server, monkeypatch):
    _, port = server

    def broken(query):
        raise RuntimeError("boom")

    monkeypatch.setattr(playground, "graph_response", broken)
    status, data = graph(port, "x * 2", x="1")
    assert status == 500 and data == {"ok": False, "error": "internal error: RuntimeError: boom"}
    monkeypatch.undo()
    assert_alive(port)


def test_concurrent_requests_each_get_their_own_graph(server):
    _, port = server

    def one(k: int) -> tuple[int, dict]:
        return graph(port, "(x + y) * z", x=str(k), y="1", z="2")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(48)))
    for k, (status, data) in enumerate(results):
        assert status == 200 and data["value"] == viz.graph.fmt((k + 1) * 2.0)
        assert data["inputs"][2] == {"name": "z", "data": "2", "grad": viz.graph.fmt(k + 1.0)}


def test_a_slow_client_does_not_block_others(server):
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET / HTT")  # and then nothing: one thread waits on it
        start = time.perf_counter()
        assert_alive(port)
        assert time.perf_counter() - start < 5


def test_training_advances_and_learns_xor(server):
    _, port = server
    status, _, body = get(port, "/api/train?reset=1&steps=0")
    data = json.loads(body)
    assert status == 200 and data["step"] == 0 and data["loss"] == []
    n = data["grid"]["n"]
    assert len(data["grid"]["p"]) == n and all(len(row) == n for row in data["grid"]["p"])
    assert data["points"] == [[0.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    for _ in range(6):
        data = json.loads(get(port, "/api/train?steps=200")[2])
    assert data["step"] == 1200 and len(data["loss"]) == 1200
    assert data["loss"][-1] < 0.05 < 0.6 < data["loss"][0]
    assert data["accuracy"] == 1.0
    # The grid holds P(1): high near (0, 1) and (1, 0), low near (0, 0) and (1, 1).
    grid, lo, hi = data["grid"]["p"], data["grid"]["lo"], data["grid"]["hi"]

    def p(x0, x1):
        return grid[round((x1 - lo) / (hi - lo) * (n - 1))][round((x0 - lo) / (hi - lo) * (n - 1))]

    assert p(0, 1) > 0.9 and p(1, 0) > 0.9 and p(0, 0) < 0.1 and p(1, 1) < 0.1
    data = json.loads(get(port, "/api/train?reset=1&steps=5")[2])
    assert data["step"] == 5


@pytest.mark.parametrize("query, message", [
    ("steps=-1", "steps must be from 0 to 200"), ("steps=201", "steps must be from 0 to 200"),
    ("steps=abc", "steps must be a whole number"), ("reset=2", "reset must be 1"), ("lr=5", "not lr"),
])
def test_bad_training_requests_are_refused(server, query, message):
    _, port = server
    status, _, body = get(port, "/api/train?" + query)
    assert status == 400 and message in json.loads(body)["error"]


def test_make_server_refuses_a_bad_or_taken_port(server):
    _, port = server
    with pytest.raises(EngineValueError, match="--port must be a whole number from 0 to 65535"):
        playground.make_server(70000)
    with pytest.raises(EngineValueError, match=f"cannot listen on 127.0.0.1:{port}"):
        playground.make_server(port)


def test_serve_command_serves_until_stopped(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("backprop-engine playground at http://127.0.0.1:")
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        assert_alive(port)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_command_refuses_a_bad_port():
    result = subprocess.run([sys.executable, "-m", "engine", "serve", "--port", "99999"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--port" in result.stderr
