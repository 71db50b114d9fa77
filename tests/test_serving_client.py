"""The REST client against a tiny in-process HTTP server that mimics TF Serving's predict API."""

import http.server
import json
import threading

import pytest

from ecm_tf import config
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
    cfg = config.defaults().replace(input=str(posts), emotion="Sad,Happy",
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
    cfg = config.defaults().replace(input=str(posts), emotion="Like", server_url=server + "/v1/models/nope:predict")
    with pytest.raises(InputError, match="HTTP 404"):
        client.run(cfg)
    with pytest.raises(InputError, match="unknown emotion"):
        client.run(cfg.replace(emotion="Bored"))
    with pytest.raises(InputError, match="cannot reach"):
        client.run(cfg.replace(server_url="http://127.0.0.1:9/v1/models/ecm:predict"))
