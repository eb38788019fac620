"""``python -m engine serve``: a local playground page for the chain rule, on 127.0.0.1 only.

A learner types an expression and its variables' values and sees the graph and the
step-through of backward (the same page parts as :func:`engine.viz.backprop_html`); a second
tab trains the XOR MLP (``engine.nn``) live, with its loss curve and decision boundary.
The expression and the values live in the URL, so a link reproduces a graph::

    http://127.0.0.1:8000/?expr=(x%2By)*z&x=-2&y=5&z=-4          (#train opens the training tab)

Endpoints (GET only; anything else is 405):

    /                               the page; it renders ?expr=...&NAME=VALUE... on load
    /api/graph?expr=E&NAME=VALUE..  JSON {"ok": true, "expr", "value", "inputs": [{"name", "data", "grad"}],
                                    "svg", "steps", "values", "root", "note", "layout"} (see
                                    engine.viz.html.page_data), or {"ok": false, "error": "one line"}, status 400
    /api/train?steps=N[&reset=1]    advance the XOR MLP N full-batch SGD steps (0..MAX_TRAIN_STEPS_PER_CALL; reset
                                    first starts over) and return {"ok", "step", "loss": [...], "accuracy", "done",
                                    "grid": {"n", "lo", "hi", "p": [[P(1) row by row, x1 from lo to hi]]},
                                    "points": [[x0, x1, label]]}

Safe by construction: the expression goes through the whitelist parser of ``python -m engine
graph`` (:mod:`engine.scalar.expression`; nothing is evaluated), and requests are bounded
(URL length, expression length, number of variables, graph size, exponents). A bad request gets
a one-line message; an error inside a handler is a 500 for that request only, the server goes on.
Requests whose ``Host`` is not this machine (a web page trying DNS rebinding) are refused.

Start it from code (the tests do)::

    server, port = start(0)        # a free port; serves in a daemon thread
    ...                            # http://127.0.0.1:{port}/
    stop(server)

Page element ids (stable; the browser tests use them), besides the step-through's
(#graph, #prev, #next, #slider, #step-index, #step-text, #upstream, #local, #contribution,
#grads with td.grad[data-node=<id>], #note; see :mod:`engine.viz.html`):

    #expr, #values          the expression and the values ("x=-2, y=5, z=-4") text fields
    #render                 the button that draws it (Enter in a field does too); the URL follows
    #error                  the message for a bad expression ("" when none)
    #result                 "f = -12" and each input's gradient
    body[data-state]        "loading", "ready" or "error" (for the graph tab)
    #tab-graph, #tab-train  the tab buttons; #panel-graph, #panel-train the panels
    #train-toggle           pause / resume the training (it starts when the tab opens); #train-reset
    #train-step, #train-loss, #train-accuracy    the step count, the latest loss, the accuracy
    #loss                   the loss curve (SVG); #loss-line its polyline
    #boundary               the decision boundary (SVG): rect.cell[data-p] per grid cell, circle.point per sample
    #panel-train[data-running]  "true" while training runs; [data-step] the steps so far
"""

from __future__ import annotations

import json
import math
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine.errors import EngineError, EngineValueError
from engine.viz.graph import fmt
from engine.viz.html import STEPPER_CSS, STEPPER_HTML, STEPPER_JS, page_data

HOST = "127.0.0.1"
MAX_URL_CHARS = 2048  # the request target, query included
MAX_EXPR_CHARS = 300
MAX_VARIABLES = 16
MAX_GRAPH_VALUES = 200  # Values in the expression's graph
MAX_EXPONENT = 100.0  # |n| in x ** n (constant or variable exponent)
MAX_TRAIN_STEPS_PER_CALL = 200
MAX_TRAIN_STEPS = 5000  # the XOR run stops here (its loss history is sent whole)
GRID = 21  # the decision boundary's grid is GRID x GRID
GRID_LO, GRID_HI = -0.5, 1.5
OUTPUT_NAME = "f"
_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class PlaygroundError(EngineValueError):
    """A request the playground refuses, with the one line the page shows."""


# --------------------------------------------------------------------------------------------- the graph tab


def graph_response(query: dict[str, list[str]]) -> dict[str, Any]:
    """The JSON for ``/api/graph``: parse the expression (whitelist), build its graph, step it.

    ``query`` is the parsed query string: ``expr`` and one ``NAME=VALUE`` per variable.
    Raises an :class:`~engine.errors.EngineError` (its message is shown in the page) for any
    bad input.
    """
    from engine.scalar.expression import parse_assignments, parse_expression

    exprs = query.get("expr", [])
    if len(exprs) != 1 or not exprs[0].strip():
        raise PlaygroundError("type an expression such as (x + y) * z, and its values such as x=-2, y=5, z=-4")
    text = exprs[0]
    if len(text) > MAX_EXPR_CHARS:
        raise PlaygroundError(f"the expression has {len(text)} characters; the playground takes at most "
                              f"{MAX_EXPR_CHARS} (use engine.viz.backprop_html from Python for bigger graphs)")
    names = [name for name in query if name != "expr"]
    if len(names) > MAX_VARIABLES:
        raise PlaygroundError(f"{len(names)} variables given; the playground takes at most {MAX_VARIABLES}")
    for name in names:
        if len(query[name]) > 1:
            raise PlaygroundError(f"{name} is given {len(query[name])} times; give each name one value")
    values = parse_assignments(f"{name}={query[name][0]}" for name in names)
    root, inputs = parse_expression(text, values)
    order = root.nodes()
    if len(order) > MAX_GRAPH_VALUES:
        raise PlaygroundError(f"the graph has {len(order)} values; the playground draws at most {MAX_GRAPH_VALUES}")
    for node in order:
        _check_exponent(node)
    if root not in inputs.values():
        root.label = OUTPUT_NAME
    root.backward()
    data = page_data(root, max_nodes=MAX_GRAPH_VALUES, where="playground")
    data.update(
        ok=True,
        expr=text,
        value=fmt(root.data),
        output=root.label,
        inputs=[{"name": name, "data": fmt(v.data), "grad": fmt(v.grad)} for name, v in inputs.items()],
    )
    return data


def _check_exponent(node: Any) -> None:
    """Refuse ``x ** n`` with ``|n| > MAX_EXPONENT`` (a constant ``n`` is in the op's name, ``**3``)."""
    if not node.op.startswith("**"):
        return
    n = float(node.op[2:]) if node.op != "**" else node.parents[1].data
    if abs(n) > MAX_EXPONENT:
        raise PlaygroundError(f"exponent {n:g} in {node.label or 'a power'!s} is beyond the playground's limit of "
                              f"±{MAX_EXPONENT:g}")


# --------------------------------------------------------------------------------------------- the training tab


class XorTrainer:
    """The XOR MLP of ``python -m engine train xor`` (2-8-1 sigmoid, BCE, SGD lr=1), stepped on request.

    One per server, shared by every page; a lock makes each request's steps one block.
    """

    def __init__(self, seed: int = 0, hidden: int = 8, lr: float = 1.0):
        self.seed, self.hidden, self.lr = seed, hidden, lr
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        import engine
        from engine import datasets, nn, optim
        from engine.apps.training import xor_model

        with self._lock:
            engine.manual_seed(self.seed)
            x, y = datasets.xor()
            self._points = [[float(a), float(b), float(c)] for (a, b), (c,) in zip(x, y)]
            self._x, self._y = engine.tensor(x), engine.tensor(y)
            self.model = xor_model(self.hidden)
            self._criterion = nn.BCELoss()
            self._optimizer = optim.SGD(self.model.parameters(), lr=self.lr)
            self.losses: list[float] = []

    def advance(self, steps: int) -> dict[str, Any]:
        """Train ``steps`` more steps (never past ``MAX_TRAIN_STEPS``) and return the state as JSON data."""
        from engine.apps.training import step

        with self._lock:
            for _ in range(min(steps, MAX_TRAIN_STEPS - len(self.losses))):
                self.losses.append(step(self._optimizer, lambda: self._criterion(self.model(self._x), self._y)))
            return self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        import numpy as np

        import engine

        axis = np.linspace(GRID_LO, GRID_HI, GRID, dtype=np.float32)
        x0, x1 = np.meshgrid(axis, axis)  # row r: x1 = axis[r]; column c: x0 = axis[c]
        grid = np.stack([x0.ravel(), x1.ravel()], axis=1)
        with engine.no_grad():
            p = self.model(engine.tensor(grid)).cpu().numpy().reshape(GRID, GRID)
            p_train = self.model(self._x).cpu().numpy().ravel()
        labels = self._y.cpu().numpy().ravel()
        accuracy = float(((p_train > 0.5) == (labels > 0.5)).mean())
        return {
            "ok": True,
            "step": len(self.losses),
            "loss": [_finite(round(v, 6)) for v in self.losses],
            "accuracy": accuracy,
            "done": len(self.losses) >= MAX_TRAIN_STEPS,
            "max_steps": MAX_TRAIN_STEPS,
            "grid": {"n": GRID, "lo": GRID_LO, "hi": GRID_HI, "p": np.round(p.astype(np.float64), 4).tolist()},
            "points": self._points,
        }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def train_response(query: dict[str, list[str]], trainer: XorTrainer) -> dict[str, Any]:
    """The JSON for ``/api/train``: ``steps`` (0..MAX_TRAIN_STEPS_PER_CALL, default 0), ``reset=1`` to start over."""
    unknown = sorted(set(query) - {"steps", "reset"})
    if unknown:
        raise PlaygroundError(f"/api/train takes steps=N and reset=1, not {', '.join(unknown)}")
    raw = query.get("steps", ["0"])[-1]
    try:
        steps = int(raw)
    except ValueError:
        raise PlaygroundError(f"steps must be a whole number from 0 to {MAX_TRAIN_STEPS_PER_CALL}, got {raw[:20]!r}")\
            from None
    if not 0 <= steps <= MAX_TRAIN_STEPS_PER_CALL:
        raise PlaygroundError(f"steps must be from 0 to {MAX_TRAIN_STEPS_PER_CALL}, got {steps}")
    if query.get("reset", ["0"])[-1] not in ("0", "1"):
        raise PlaygroundError("reset must be 1 (start over) or 0")
    if query.get("reset", ["0"])[-1] == "1":
        trainer.reset()
    return trainer.advance(steps)


# --------------------------------------------------------------------------------------------- the server


class PlaygroundServer(ThreadingHTTPServer):
    """The HTTP server: one thread per request, bound to 127.0.0.1, holding the shared trainer."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, quiet: bool = True):
        self.quiet = quiet
        self.trainer = XorTrainer()
        super().__init__((HOST, port), PlaygroundHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"


class PlaygroundHandler(BaseHTTPRequestHandler):
    """Answers GET for the page and the two JSON endpoints; everything else gets a clear error status."""

    server: PlaygroundServer
    server_version = "backprop-engine-playground"
    timeout = 15  # seconds a client may take to send its request (a stalled one frees its thread)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        if not self.server.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        # Everything the page uses is inline or from this server: nothing is fetched from elsewhere.
        self.send_header("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; "
                         "style-src 'unsafe-inline'; connect-src 'self'; img-src data:")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self.close_connection = True
        self._json(status, {"ok": False, "error": message})

    def do_GET(self) -> None:  # noqa: N802 (the base class's name)
        try:
            self._route()
        except EngineError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except Exception as exc:  # one bad request must never stop the server
            self.log_error("internal error on %r: %s: %s", self.path[:200], type(exc).__name__, exc)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(exc).__name__}: {exc}")

    do_HEAD = do_GET

    def _refuse(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True  # any body stays unread

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def _route(self) -> None:
        if len(self.path) > MAX_URL_CHARS:
            self._error(HTTPStatus.REQUEST_URI_TOO_LONG,
                        f"the request is {len(self.path)} characters long; at most {MAX_URL_CHARS}")
            return
        host = (self.headers.get("Host") or "").rpartition(":")[0] or (self.headers.get("Host") or "")
        if host not in _ALLOWED_HOSTS:
            self._error(HTTPStatus.FORBIDDEN, f"this playground answers only requests for 127.0.0.1 or localhost, "
                                              f"not {host[:60]!r}")
            return
        url = urllib.parse.urlsplit(self.path)
        try:
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True, strict_parsing=False,
                                          max_num_fields=MAX_VARIABLES + 4)
        except ValueError:
            raise PlaygroundError(f"too many parameters; at most {MAX_VARIABLES} variables") from None
        if url.path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, PAGE.encode("utf-8"), "text/html; charset=utf-8")
        elif url.path == "/api/graph":
            self._json(HTTPStatus.OK, graph_response(query))
        elif url.path == "/api/train":
            self._json(HTTPStatus.OK, train_response(query, self.server.trainer))
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no page at {url.path[:80]!r}; try / or /api/graph?expr=x*y&x=2&y=3")


def make_server(port: int = 8000, quiet: bool = True) -> PlaygroundServer:
    """The playground's server on 127.0.0.1:``port`` (0: a free port), not yet serving.

    A port that is taken or not allowed is a one-line :class:`~engine.errors.EngineValueError`.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise EngineValueError(f"serve: --port must be a whole number from 0 to 65535 (0: any free port), got {port!r}")
    try:
        return PlaygroundServer(port, quiet)
    except OSError as exc:
        raise EngineValueError(f"serve: cannot listen on {HOST}:{port}: {exc.strerror or exc}; "
                               "choose another with --port N (0 picks a free one)") from None


def start(port: int = 0, quiet: bool = True) -> tuple[PlaygroundServer, int]:
    """Serve in a daemon thread; return the server and the port it listens on. Stop it with :func:`stop`."""
    server = make_server(port, quiet)
    threading.Thread(target=server.serve_forever, name="playground", daemon=True).start()
    return server, server.port


def stop(server: PlaygroundServer) -> None:
    """Stop a server made by :func:`start` and free its port."""
    server.shutdown()
    server.server_close()


def serve(port: int = 8000, open_browser: bool = False) -> None:
    """Serve until Ctrl-C (``python -m engine serve``), printing the address; ``open_browser`` opens it."""
    server = make_server(port, quiet=False)
    print(f"backprop-engine playground at {server.url}  (Ctrl-C stops it)", flush=True)
    print(f"  for example {server.url}?expr=(x%2By)*z&x=-2&y=5&z=-4", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped")
    finally:
        server.server_close()


# --------------------------------------------------------------------------------------------- the page

_PLAYGROUND_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 1.2em auto; max-width: 1150px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.35em; margin-bottom: 0.3em; }
.tabs { display: flex; gap: 4px; border-bottom: 1px solid #ccc; margin: 10px 0; }
.tabs button { border: 1px solid #ccc; border-bottom: none; background: #f3f3f3; padding: 6px 14px; cursor: pointer;
               border-radius: 6px 6px 0 0; }
.tabs button[aria-selected="true"] { background: #fff; font-weight: bold; position: relative; top: 1px; }
.panel[hidden] { display: none; }
#expr-form { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
#expr { flex: 2; min-width: 240px; font-family: monospace; font-size: 1.05em; padding: 4px; }
#values { flex: 1; min-width: 180px; font-family: monospace; font-size: 1.05em; padding: 4px; }
#error { color: #b00020; min-height: 1.3em; margin: 6px 0; font-weight: bold; }
#result { font-family: monospace; margin: 4px 0; }
.hint { color: #666; font-size: 0.9em; }
#train-figures { display: flex; gap: 24px; flex-wrap: wrap; }
#loss, #boundary { border: 1px solid #ddd; background: #fff; }
#train-stats span { margin-right: 1.5em; font-variant-numeric: tabular-nums; }
"""

_PLAYGROUND_JS = r"""
(function () {
  "use strict";
  var stepper = window.backpropStepper;
  function $(id) { return document.getElementById(id); }
  var DEFAULT = { expr: "(x + y) * z", values: "x=-2, y=5, z=-4" };

  // ---- the graph tab: the form <-> the URL's query <-> /api/graph
  function queryFromForm() {
    var q = new URLSearchParams();
    q.set("expr", $("expr").value);
    $("values").value.replace(/\s*=\s*/g, "=").split(/[\s,;]+/).filter(Boolean).forEach(function (pair) {
      var i = pair.indexOf("=");
      if (i < 0) { q.append(pair, ""); } else { q.append(pair.slice(0, i), pair.slice(i + 1)); }
    });
    return q;
  }
  function formFromQuery(q) {
    $("expr").value = q.get("expr") || "";
    var parts = [];
    q.forEach(function (value, name) { if (name !== "expr") { parts.push(name + "=" + value); } });
    $("values").value = parts.join(", ");
  }
  function showError(message) {
    $("error").textContent = message;
    $("result").textContent = "";
    stepper.load({ svg: "", steps: [], values: [], note: "" });
    document.body.setAttribute("data-state", "error");
  }
  var generation = 0;
  function render(q) {
    var mine = ++generation;
    document.body.setAttribute("data-state", "loading");
    fetch("/api/graph?" + q.toString()).then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== generation) { return; }
      if (!data.ok) { showError(data.error); return; }
      $("error").textContent = "";
      $("result").textContent = data.output + " = " + data.expr + " = " + data.value + "    " +
        data.inputs.map(function (v) { return "∂" + data.output + "/∂" + v.name + " = " + v.grad; }).join("   ");
      stepper.load(data);
      document.body.setAttribute("data-state", "ready");
    }).catch(function (e) { if (mine === generation) { showError("the playground server did not answer: " + e); } });
  }
  function submit(e) {
    if (e) { e.preventDefault(); }
    var q = queryFromForm();
    history.pushState(null, "", "?" + q.toString() + location.hash);
    render(q);
  }
  function fromLocation() {
    var q = new URLSearchParams(location.search);
    if (!q.has("expr")) {
      $("expr").value = DEFAULT.expr;
      $("values").value = DEFAULT.values;
      q = queryFromForm();
    } else {
      formFromQuery(q);
    }
    render(q);
  }

  // ---- tabs
  function selectTab(name) {
    ["graph", "train"].forEach(function (t) {
      $("tab-" + t).setAttribute("aria-selected", String(t === name));
      $("panel-" + t).hidden = t !== name;
    });
    if (name === "train" && !train.started) { train.started = true; setRunning(true); }
    if (name !== "train") { setRunning(false); }
  }

  // ---- the training tab: poll /api/train, draw the loss and the boundary
  // One poll chain at a time (chain counts them); a reset waits for the next request that is sent.
  var train = { running: false, timer: null, started: false, busy: false, chain: 0, resetPending: false };
  function setRunning(on) {
    train.running = on;
    train.chain += 1;
    if (train.timer) { clearTimeout(train.timer); train.timer = null; }
    $("panel-train").setAttribute("data-running", String(on));
    $("train-toggle").textContent = on ? "pause" : "resume";
    if (on) { poll(train.chain); }
  }
  function request(steps) {
    if (train.busy) { return Promise.resolve(); }
    train.busy = true;
    var query = (train.resetPending ? "reset=1&" : "") + "steps=" + steps;
    train.resetPending = false;
    return fetch("/api/train?" + query).then(function (r) { return r.json(); }).then(function (data) {
      train.busy = false;
      if (!data.ok) { $("train-error").textContent = data.error; setRunning(false); return; }
      draw(data);
      if (data.done && train.running) { setRunning(false); $("train-toggle").textContent = "done"; }
    }).catch(function (e) { train.busy = false; $("train-error").textContent = String(e); setRunning(false); });
  }
  function poll(chain) {
    if (!train.running || chain !== train.chain) { return; }
    request(20).then(function () {
      if (train.running && chain === train.chain) { train.timer = setTimeout(function () { poll(chain); }, 120); }
    });
  }
  var SVGNS = "http://www.w3.org/2000/svg";
  function el(name, attrs) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }
  function draw(data) {
    $("panel-train").setAttribute("data-step", String(data.step));
    $("train-step").textContent = "step " + data.step + " of " + data.max_steps;
    var last = data.loss.length ? data.loss[data.loss.length - 1] : null;
    $("train-loss").textContent = "loss " + (last === null ? "–" : last.toFixed(4));
    $("train-accuracy").textContent = "accuracy " + Math.round(100 * data.accuracy) + "%";
    // loss curve: x = step, y = loss from 0 to the largest
    var W = 420, H = 240, L = 44, B = 26, T = 10, R = 10;
    var n = Math.max(data.loss.length, 2), top = Math.max.apply(null, data.loss.concat([1e-9]));
    var pts = data.loss.map(function (v, i) {
      return (L + (W - L - R) * i / (n - 1)).toFixed(1) + "," + (T + (H - T - B) * (1 - v / top)).toFixed(1);
    });
    $("loss-line").setAttribute("points", pts.join(" "));
    $("loss-top").textContent = top.toFixed(3);
    $("loss-steps").textContent = String(data.loss.length) + " steps";
    // decision boundary: P(1) per grid cell, blue (0) to red (1), and the four samples
    var g = data.grid, S = 240, cell = S / g.n, svg = $("boundary");
    svg.querySelectorAll(".cell, .point").forEach(function (e) { e.remove(); });
    g.p.forEach(function (row, r) {
      row.forEach(function (p, c) {
        var red = Math.round(70 + 185 * p), blue = Math.round(70 + 185 * (1 - p));
        svg.appendChild(el("rect", { "class": "cell", x: (c * cell).toFixed(2), y: (S - (r + 1) * cell).toFixed(2),
          width: (cell + 0.3).toFixed(2), height: (cell + 0.3).toFixed(2), fill: "rgb(" + red + ",90," + blue + ")",
          "data-p": String(p) }));
      });
    });
    data.points.forEach(function (pt) {
      var x = (pt[0] - g.lo) / (g.hi - g.lo) * S, y = S - (pt[1] - g.lo) / (g.hi - g.lo) * S;
      svg.appendChild(el("circle", { "class": "point", cx: x.toFixed(1), cy: y.toFixed(1), r: 7,
        fill: pt[2] > 0.5 ? "#b00020" : "#1f4e9c", stroke: "white", "stroke-width": 2, "data-label": String(pt[2]) }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    stepper.wire();
    $("expr-form").addEventListener("submit", submit);
    $("tab-graph").addEventListener("click", function () {
      history.replaceState(null, "", location.search);
      selectTab("graph");
    });
    $("tab-train").addEventListener("click", function () {
      history.replaceState(null, "", location.search + "#train");
      selectTab("train");
    });
    $("train-toggle").addEventListener("click", function () { setRunning(!train.running); });
    $("train-reset").addEventListener("click", function () {
      train.resetPending = true;
      if (!train.running) { setRunning(true); }
    });
    window.addEventListener("popstate", fromLocation);
    fromLocation();
    selectTab(location.hash === "#train" ? "train" : "graph");
    if (location.hash !== "#train") { request(0); }
  });
})();
"""

_PAGE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>backprop-engine playground</title>
<style>{css}{stepper_css}</style></head>
<body data-state="loading" data-step="0">
<h1>backprop-engine playground</h1>
<div class="tabs" role="tablist">
  <button id="tab-graph" role="tab" aria-selected="true" type="button">chain rule, step by step</button>
  <button id="tab-train" role="tab" aria-selected="false" type="button">a network learning XOR</button>
</div>
<section id="panel-graph" class="panel" role="tabpanel">
<form id="expr-form" autocomplete="off">
  <label for="expr">f =</label>
  <input id="expr" name="expr" maxlength="{max_expr}" spellcheck="false" placeholder="(x + y) * z">
  <label for="values">at</label>
  <input id="values" name="values" spellcheck="false" placeholder="x=-2, y=5, z=-4">
  <button id="render" type="submit">draw</button>
</form>
<p class="hint">Numbers, names, + - * / ** (exponents up to &plusmn;{max_exp}) and {functions}(). The page's address
holds the expression and the values: copy it to share this graph.</p>
<div id="error" role="alert"></div>
<div id="result"></div>
{stepper}
</section>
<section id="panel-train" class="panel" role="tabpanel" hidden data-running="false" data-step="0">
<p>The lecture's XOR network (nn.Sequential: Linear(2, 8), Sigmoid, Linear(8, 1), Sigmoid; BCELoss; SGD lr=1),
trained on the server as you watch: the loss falls and the decision boundary bends until one region holds both
1s.</p>
<p><button id="train-toggle" type="button">start</button> <button id="train-reset" type="button">start over</button>
<span id="train-error" style="color:#b00020"></span></p>
<p id="train-stats"><span id="train-step">step 0</span><span id="train-loss">loss –</span>
<span id="train-accuracy">accuracy –</span></p>
<div id="train-figures">
<svg id="loss" width="420" height="240" viewBox="0 0 420 240" font-family="Helvetica,Arial,sans-serif" font-size="11">
  <line x1="44" y1="214" x2="410" y2="214" stroke="#888"/><line x1="44" y1="10" x2="44" y2="214" stroke="#888"/>
  <text x="40" y="16" text-anchor="end" id="loss-top">1</text><text x="40" y="214" text-anchor="end">0</text>
  <text x="410" y="232" text-anchor="end" id="loss-steps">0 steps</text><text x="48" y="232">BCE loss per step</text>
  <polyline id="loss-line" fill="none" stroke="#d62728" stroke-width="2" points=""/>
</svg>
<svg id="boundary" width="240" height="240" viewBox="0 0 240 240">
  <title>P(class 1) over x0, x1 in [-0.5, 1.5]</title></svg>
</div>
<p class="hint">Right: the network's P(1) over the plane (red 1, blue 0), the four XOR points on top.</p>
</section>
<script>{stepper_js}</script>
<script>{js}</script>
</body></html>
"""


def _page() -> str:
    from engine.scalar.expression import FUNCTIONS

    return _PAGE_HTML.format(
        css=_PLAYGROUND_CSS, stepper_css=STEPPER_CSS, stepper=STEPPER_HTML, stepper_js=STEPPER_JS,
        js=_PLAYGROUND_JS, max_expr=MAX_EXPR_CHARS, max_exp=f"{MAX_EXPONENT:g}", functions=", ".join(FUNCTIONS),
    )


PAGE = _page()
