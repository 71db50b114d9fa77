"""The REST client against a tiny in-process HTTP server that mimics TF Serving's predict API."""

import http.server
import json
import threading

import pytest

from ecm_tf.models.ecm import serving_module
from ecm_tf.models.ecm import family as ecm_family
from ecm_tf import flags as ecm_flags
from ecm_tf.errors import InputError
from ecm_tf.serving import client


class _FakeServing(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
        _FakeServing.requests.append((self.path, body))
        if self.path != "/v1/models/ecm:predict":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "Servable not found"}')
            return
        posts, names = body["inputs"]["posts"], body["inputs"]["emotions"]
        reply = {"outputs": {"responses": [[f"{n}:{p}", "alt"] for p, n in zip(posts, names)],
                             "scores": [[-1.5, -2.0] for _ in posts]}}
        data = json.dumps(reply, ensure_ascii=False).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _FakeServing.requests = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _FakeServing)
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_client_segments_posts_and_prints_replies(server, tmp_path, capsys):
    posts = tmp_path / "posts.txt"
    posts.write_text("今天 天气 真 好\n\n我的猫丢了\n", encoding="utf-8")
    cfg = ecm_flags.defaults().replace(input=str(posts), emotion="Sad,Happy",
                                    server_url=server + "/v1/models/ecm:predict")
    client.run(cfg)
    (path, body), = _FakeServing.requests
    assert body["signature_name"] == "serving_default"
    assert body["inputs"]["emotions"] == ["Sad", "Happy", "Sad", "Happy"]
    assert body["inputs"]["posts"][:2] == ["今天 天气 真 好"] * 2
    segmented = body["inputs"]["posts"][2]
    assert " " in segmented and segmented.replace(" ", "") == "我的猫丢了"  # jieba-segmented
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["post: 今天 天气 真 好", "  Sad: Sad:今天 天气 真 好  (-1.50)", "  Happy: Happy:今天 天气 真 好  (-1.50)"]
    assert out[3] == "post: 我的猫丢了"


def test_client_errors_are_one_line(server, tmp_path):
    posts = tmp_path / "posts.txt"
    posts.write_text("你好\n", encoding="utf-8")
    cfg = ecm_flags.defaults().replace(input=str(posts), emotion="Like", server_url=server + "/v1/models/nope:predict")
    with pytest.raises(InputError, match="HTTP 404"):
        client.run(cfg)
    with pytest.raises(InputError, match="unknown emotion"):
        client.run(cfg.replace(emotion="Bored"))
    with pytest.raises(InputError, match="cannot reach"):
        client.run(cfg.replace(server_url="http://127.0.0.1:9/v1/models/ecm:predict"))


# --- Against the real exported model, behind stand-ins for TF Serving's REST and gRPC APIs -----

POSTS = ["今天 天气 真 好", "你 没有 任何 意义"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from test_decoding_decode import make_model_dir

    root = tmp_path_factory.mktemp("client")
    make_model_dir(root / "model")
    cfg = ecm_flags.defaults().replace(model_dir=str(root / "model"), beam_size=4, top_k=3)
    generator, model_cfg = ecm_family.load_generator(cfg)
    module = serving_module.ServingModule(generator.model, model_cfg, generator.post_vocab, generator.response_vocab)
    path = serving_module.export(module, str(root / "export"))
    expected = []
    for post in POSTS:
        expected.append(f"post: {post}")
        for e in (2, 5):
            text, score = generator.decode([post.split()], [e])[(0, e)][0]
            expected.append(f"  {('Sad', 'Happy')[e == 5]}: {' '.join(text)}  ({score:.2f})")
    return path, expected


def _run_client(tmp_path, capsys, server_url, **changes):
    posts = tmp_path / "posts.txt"
    posts.write_text("\n".join(POSTS) + "\n", encoding="utf-8")
    client.run(ecm_flags.defaults().replace(input=str(posts), emotion="Sad,Happy", server_url=server_url, **changes))
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("rest_format", ["inputs", "instances"])
def test_rest_client_gets_the_decoders_responses(exported, tmp_path, capsys, rest_format):
    from serving_standin import RestStandIn

    path, expected = exported
    with RestStandIn(path) as url:
        assert _run_client(tmp_path, capsys, url, rest_format=rest_format) == expected


def test_grpc_client_gets_the_decoders_responses(exported, tmp_path, capsys):
    from serving_standin import GrpcStandIn

    path, expected = exported
    with GrpcStandIn(path) as url:
        assert _run_client(tmp_path, capsys, url) == expected
        with pytest.raises(InputError, match="gRPC NOT_FOUND"):
            _run_client(tmp_path, capsys, url.rsplit("/", 1)[0] + "/nope")


def test_grpc_and_url_errors_are_one_line(tmp_path, capsys):
    with pytest.raises(InputError, match="grpc://HOST:PORT/MODEL"):
        _run_client(tmp_path, capsys, "grpc://127.0.0.1/ecm")
    with pytest.raises(InputError, match="gRPC UNAVAILABLE"):
        _run_client(tmp_path, capsys, "grpc://127.0.0.1:9/ecm")
    with pytest.raises(InputError, match="expected http"):
        _run_client(tmp_path, capsys, "ftp://127.0.0.1/ecm")


def test_closed_stdin_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(InputError, match="standard input is closed"):
        client.read_posts("")
