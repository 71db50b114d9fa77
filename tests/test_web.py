"""--mode=web: the chat page's JSON API over a trained folder (in process), an export (in process)
and TF Serving's REST API (tests/serving_standin.py), and its error replies."""

import contextlib
import json
import socket
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from conftest import run_cli
from ecm_tf import emotions
from ecm_tf.config import Config
from ecm_tf import flags as ecm_flags
from ecm_tf.models import registry
from ecm_tf.serving import web
from serving_standin import RestStandIn
from test_decoding_decode import make_model_dir

POST = "你 没有 任何 意义"
NAMES = ["Like", "Sad", "Disgust", "Angry", "Happy"]


@contextlib.contextmanager
def serving(cfg, backend=None):
    """Yields the base URL of a web server on a free loopback port, stopped on exit."""
    server = web.make_server(cfg.replace(host="127.0.0.1", port=0), backend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def call(url, body=None, raw=None):
    """(HTTP status, decoded JSON) of a GET (body None) or a POST of `body` as JSON (or `raw` bytes)."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, json.loads(reply.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode("utf-8"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(cfg, predictor, export version folder) of a tiny ECM with random weights, beam 4, top 3."""
    root = tmp_path_factory.mktemp("web")
    make_model_dir(root / "model")
    cfg = ecm_flags.defaults().replace(model_dir=str(root / "model"), beam_size=4, top_k=3,
                                    classifier_dir=str(root / "no_classifier"))
    family, saved = registry.open(cfg.model_dir)
    predictor = family.load(cfg, cfg.model_dir, saved)
    export_dir, _ = family.export(predictor, cfg, str(root / "export"))
    return cfg, predictor, export_dir


def expected_rows(predictor, post):
    prepared = predictor.family.prepare_post(predictor.settings, post, "post")
    records = predictor.predict([prepared] * 5, [emotions.emotion_id(n) for n in NAMES])
    return [[(c["response"], c["score"]) for c in r["responses"]] for r in records]


def assert_rows(reply, expected):
    assert [r["emotion"] for r in reply["rows"]] == NAMES
    for row, want in zip(reply["rows"], expected):
        assert [c["response"] for c in row["candidates"]] == [t for t, _ in want]
        np.testing.assert_allclose([c["score"] for c in row["candidates"]], [s for _, s in want], atol=1e-4)


def test_page_and_model_info(trained):
    cfg, predictor, _ = trained
    with serving(cfg, web.ModelBackend(cfg)) as url:
        with urllib.request.urlopen(url + "/", timeout=30) as reply:
            page = reply.read().decode("utf-8")
            assert reply.headers["Content-Type"].startswith("text/html")
        status, info = call(url + "/api/model")
        assert call(url + "/nothing")[0] == 404
    assert 'id="rows"' in page and "/api/respond" in page
    assert "http://" not in page and "https://" not in page  # no external asset: works offline
    assert status == 200 and info["name"] == "ECM model" and info["step"] == 1 and info["emotions"] == NAMES
    assert info["backend"] == "in process, beam 4"


def test_in_process_answers_five_emotions_and_auto(trained):
    cfg, predictor, _ = trained
    with serving(cfg, web.ModelBackend(cfg)) as url:
        status, reply = call(url + "/api/respond", {"post": "  " + POST + " "})
    assert status == 200 and reply["post"] == POST
    assert_rows(reply, expected_rows(predictor, POST))
    assert all(len(r["candidates"]) == 3 for r in reply["rows"])
    auto = reply["auto"]
    assert auto["emotion"] in NAMES and auto["post_emotion"] in emotions.NAMES
    prepared = predictor.family.prepare_post(predictor.settings, POST, "post")
    want = predictor.predict([prepared], [emotions.emotion_id(auto["emotion"])])[0]["responses"]
    assert [c["response"] for c in auto["candidates"]] == [c["response"] for c in want]


def test_bad_requests_get_one_line_errors(trained):
    cfg, _, _ = trained
    with serving(cfg, web.ModelBackend(cfg)) as url:
        empty = {"error": "empty post: type something to say to the model"}
        assert call(url + "/api/respond", {"post": "   "}) == (400, empty)
        assert call(url + "/api/respond", {})[0] == 400
        status, reply = call(url + "/api/respond", raw=b"{not json")
        assert status == 400 and "not JSON" in reply["error"]
        status, reply = call(url + "/api/respond", {"post": "http://t.cn/x"})  # nothing left after cleaning
        assert status == 400 and "empty post" in reply["error"]


def test_tf_serving_and_export_backends_match_in_process(trained):
    cfg, predictor, export_dir = trained
    want = expected_rows(predictor, POST)
    with RestStandIn(export_dir) as predict_url:
        base = predict_url[:-len(":predict")]
        backend = web.make_backend(Config(dict(cfg.to_dict(), server_url=base), ["server_url"]))
        assert isinstance(backend, web.RestBackend)
        with serving(cfg, backend) as url:
            status, remote = call(url + "/api/respond", {"post": POST})
            info = call(url + "/api/model")[1]
    with serving(cfg, web.ExportBackend(export_dir)) as url:
        status_export, local = call(url + "/api/respond", {"post": POST})
    assert status == 200 and status_export == 200
    assert info["name"] == "ecm" and info["step"] is None  # the stand-in has no model status API
    assert_rows(remote, want)
    assert_rows(local, want)
    assert remote["auto"] == local["auto"] and remote["auto"]["emotion"] in NAMES


def test_unreachable_server_and_timeout(trained):
    cfg, _, _ = trained
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens on it once closed
    with serving(cfg, web.RestBackend(f"http://127.0.0.1:{port}/v1/models/ecm", 30)) as url:
        status, reply = call(url + "/api/respond", {"post": POST})
    assert status == 502 and "cannot reach the server" in reply["error"]
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        backend = web.RestBackend(f"http://127.0.0.1:{silent.getsockname()[1]}/v1/models/ecm", 0.5)
        with serving(cfg, backend) as url:
            status, reply = call(url + "/api/respond", {"post": POST})
    assert status == 504 and "no answer within 0.5 s (--server_timeout=0.5)" in reply["error"]


def test_cli_refuses_bad_flags_in_one_line(tmp_path):
    proc = run_cli("--mode=web", "--server_url=grpc://127.0.0.1:8500/ecm", timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --server_url=grpc://127.0.0.1:8500/ecm: --mode=web expects TF Serving's REST address "
        "http://HOST:8501/v1/models/NAME"]
    proc = run_cli("--mode=web", f"--export_dir={tmp_path}", timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"error: --export_dir={tmp_path}: no saved_model.pb (give a version folder, e.g. export/1)"]


class _Broken:
    """A backend whose `auto` fails with a user error and whose other calls fail unexpectedly."""

    def info(self):
        return {"name": "broken", "step": None, "backend": "test"}

    def respond(self, post, names):
        if names == ["auto"]:
            raise web.BackendError(500, "runs/gone: no such folder")
        if post == "crash":
            raise RuntimeError("boom")
        return [["好 的"]] * len(names), [[-1.5]] * len(names), None, None


def test_auto_failure_and_internal_errors_are_one_line(trained):
    cfg, _, _ = trained
    with serving(cfg, _Broken()) as url:
        status, reply = call(url + "/api/respond", {"post": "你好"})
        assert status == 200 and reply["auto"] == {"error": "runs/gone: no such folder"}
        assert [r["candidates"] for r in reply["rows"]] == [[{"response": "好 的", "score": -1.5}]] * 5
        assert call(url + "/api/respond", {"post": "crash"}) == (500, {"error": "internal error: RuntimeError: boom"})
        assert call(url + "/api/respond", {"post": "你好"})[0] == 200  # still serving
