"""`--mode=web`: a chat page in the browser; one post in, the five emotions' responses side by side.

    python -m ecm_tf.main --mode=web --model_dir=runs/builtin/ecm            # the model in this process
    python -m ecm_tf.main --mode=web --server_url=http://localhost:8501/v1/models/ecm   # TF Serving REST
    python -m ecm_tf.main --mode=web --export_dir=runs/builtin/export/1      # an export, in this process

Then open http://127.0.0.1:8080/ (--port, --host). The page (static/web.html, no external asset)
talks to this server's JSON API, which answers from one of three backends:
- TF Serving's REST predict (--server_url; the page cannot call it itself, TF Serving sends no CORS
  headers), with the request and reply code of serving/client.py;
- a trained folder (--model_dir) through the family contract (models/family.py), as --mode=chat;
- an export version folder (--export_dir) run as TF Serving runs it (saved_models.SessionModel).

API:
  GET  /api/model            -> {"name", "step", "backend", "emotions": [...]}
  POST /api/respond {"post"} -> {"post", "rows": [{"emotion", "candidates": [{"response", "score"}]}],
                                 "auto": {"emotion", "post_emotion", "candidates"} or {"error"}}
  errors                     -> {"error": one line}: 400 empty post / bad request, 502 server
                                 unreachable or failing, 504 no answer within --server_timeout seconds,
                                 500 anything else (the server keeps serving).
"""

import http.server
import importlib.resources
import json
import os
import threading
import urllib.parse

from ecm_tf import emotions
from ecm_tf.errors import InputError
from ecm_tf.serving import client

SHOWN = list(emotions.GENERATED)  # the five response emotions, Like..Happy


class BackendError(Exception):
    """A reply the page shows as an error: `status` is the HTTP code (400, 502, 504)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _candidates(responses, scores):
    return [{"response": r, "score": None if s is None else float(s)} for r, s in zip(responses, scores)]


class RestBackend:
    """TF Serving's REST predict endpoint (http://HOST:8501/v1/models/NAME, ':predict' optional)."""

    def __init__(self, server_url, timeout, token_level="word"):
        base = server_url[:-len(":predict")] if server_url.endswith(":predict") else server_url
        parsed = urllib.parse.urlparse(base)
        if parsed.scheme not in ("http", "https") or "/v1/models/" not in parsed.path:
            raise InputError(f"--server_url={server_url}: --mode=web expects TF Serving's REST address "
                             f"http://HOST:8501/v1/models/NAME")
        self.url, self.timeout, self.token_level = base + ":predict", timeout, token_level
        self.name = parsed.path.rsplit("/v1/models/", 1)[1].split("/")[0]
        self.backend = f"TF Serving {parsed.netloc}"

    def info(self):
        """Model name and version (TF Serving's model status; version None when it does not answer)."""
        step = None
        try:
            status = client.get_rest(self.url[:-len(":predict")], self.timeout)
            versions = [v.get("version") for v in status.get("model_version_status", [])
                        if v.get("state") == "AVAILABLE"]
            step = versions[0] if versions else None
        except InputError:
            pass
        return {"name": self.name, "step": step, "backend": self.backend}

    def respond(self, post, names):
        """(responses [B][K], scores [B][K], used emotion names or None, post emotion names or None)."""
        rows, _ = client.request_rows([post], [0], self.token_level)
        body = client.build_request(rows * len(names), names)
        try:
            reply = client.predict_rest(self.url, body, timeout=self.timeout)
            responses, scores = client.parse_reply(reply, len(names), f"--server_url={self.url}")
        except client.TimedOut as e:
            raise BackendError(504, str(e)) from None
        except InputError as e:
            raise BackendError(502, str(e)) from None
        out = reply.get("outputs") if isinstance(reply.get("outputs"), dict) else {}
        if "predictions" in reply:
            out = {k: [p.get(k) for p in reply["predictions"]] for k in ("emotions", "post_emotions")}
        return responses, scores, out.get("emotions"), out.get("post_emotions")


class ExportBackend:
    """An export version folder, run in this process as TF Serving runs it."""

    def __init__(self, export_dir, token_level="word"):
        from ecm_tf.saved_models import SessionModel

        if not os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
            raise InputError(f"--export_dir={export_dir}: no saved_model.pb (give a version folder, e.g. export/1)")
        self.model, self.token_level, self.lock = SessionModel(export_dir), token_level, threading.Lock()
        self.export_dir = export_dir

    def info(self):
        name = os.path.basename(os.path.dirname(os.path.abspath(self.export_dir)))
        return {"name": name, "step": os.path.basename(os.path.abspath(self.export_dir)), "backend": "export"}

    def respond(self, post, names):
        import tensorflow as tf

        rows, _ = client.request_rows([post], [0], self.token_level)
        try:
            with self.lock:
                out = self.model.run(posts=rows * len(names), emotions=names)
        except tf.errors.OpError as e:
            raise BackendError(400, e.message.splitlines()[0]) from None
        text = lambda a: [[v.decode("utf-8") for v in row] for row in a]  # noqa: E731  bytes [B, K]
        flat = lambda k: [v.decode("utf-8") for v in out[k]] if k in out else None  # noqa: E731
        return text(out["responses"]), out["scores"].tolist(), flat("emotions"), flat("post_emotions")


class ModelBackend:
    """A trained folder in this process, through the family contract (as --mode=chat)."""

    def __init__(self, cfg):
        from ecm_tf.models import registry

        self.cfg = cfg
        self.family, saved = registry.open(cfg.model_dir)
        self.predictor = self.family.load(cfg, cfg.model_dir, saved)
        self.lock = threading.Lock()
        self.chooser = None

    def info(self):
        import tensorflow as tf

        from ecm_tf import checkpoints

        prefix = tf.train.latest_checkpoint(self.cfg.model_dir)
        step = checkpoints.step_of(prefix) if prefix else None
        name = f"{self.family.title} {os.path.basename(os.path.abspath(self.cfg.model_dir))}"
        return {"name": name, "step": step, "backend": f"in process, {self.predictor.search}"}

    def _choose(self, post):
        from ecm_tf.classifier.auto_emotion import AutoEmotion
        from ecm_tf.data import text as text_lib

        if self.chooser is None:
            self.chooser = AutoEmotion.load(self.cfg.classifier_dir, self.predictor.data_dir or self.cfg.data_dir,
                                            self.cfg.auto_emotion_top_k)
        post_emotion, chosen = self.chooser.choose([text_lib.segment(post)])[0]
        return post_emotion, chosen[0]

    def respond(self, post, names):
        try:
            prepared = self.family.prepare_post(self.predictor.settings, post, "post")
        except InputError as e:
            raise BackendError(400, str(e)) from None
        try:
            return self._respond(post, prepared, names)
        except InputError as e:  # e.g. the data folder of `auto` is gone
            raise BackendError(500, str(e)) from None

    def _respond(self, post, prepared, names):
        with self.lock:
            ids, used, post_names = [], [], []
            for n in names:
                if n == "auto":
                    post_e, e = self._choose(post)
                    ids.append(e), used.append(emotions.NAMES[e]), post_names.append(emotions.NAMES[post_e])
                else:
                    ids.append(emotions.parse_emotion_list(n)[0]), used.append(n), post_names.append(None)
            records = self.predictor.predict([prepared] * len(ids), ids)
        responses, scores = [], []
        for r in records:
            ranked = r.get("responses") or r.get("candidates") or []
            responses.append([c["response"] for c in ranked])
            scores.append([c.get("score", c.get("log_prob")) for c in ranked])  # CERG without retrieval: log_prob
        return responses, scores, used, post_names


def answer(backend, post, top_k):
    """The /api/respond reply for one post (BackendError for what the page shows as an error)."""
    post = (post or "").strip()
    if not post:
        raise BackendError(400, "empty post: type something to say to the model")
    names = [emotions.NAMES[e] for e in SHOWN]
    responses, scores, _, _ = backend.respond(post, names)
    rows = [{"emotion": n, "candidates": _candidates(r, s)[:top_k]} for n, r, s in zip(names, responses, scores)]
    try:
        r, s, used, post_emotions = backend.respond(post, ["auto"])
        auto = {"emotion": used[0] if used else None, "post_emotion": post_emotions[0] if post_emotions else None,
                "candidates": _candidates(r[0], s[0])[:top_k]}
    except BackendError as e:
        auto = {"error": str(e)}
    return {"post": post, "rows": rows, "auto": auto}


def make_handler(backend, top_k):
    """The request handler class of a server over `backend`."""
    page = importlib.resources.files("ecm_tf.serving").joinpath("static/web.html").read_bytes()
    info = dict(backend.info(), emotions=[emotions.NAMES[e] for e in SHOWN])

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status, data, content_type):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status, obj):
            self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

        def do_GET(self):
            if self.path in ("/", "/index.html"):
                return self._send(200, page, "text/html; charset=utf-8")
            if self.path == "/api/model":
                return self._json(200, info)
            return self._json(404, {"error": f"no page {self.path}"})

        def do_POST(self):
            if self.path != "/api/respond":
                return self._json(404, {"error": f"no API {self.path}"})
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8"))
                post = body.get("post") if isinstance(body, dict) else None
            except (ValueError, UnicodeDecodeError):
                return self._json(400, {"error": 'the request body is not JSON {"post": "..."}'})
            try:
                return self._json(200, answer(backend, post if isinstance(post, str) else "", top_k))
            except BackendError as e:
                return self._json(e.status, {"error": str(e)})
            except Exception as e:  # noqa: BLE001 (the page shows one line; the server keeps serving)
                return self._json(500, {"error": f"internal error: {type(e).__name__}: {e}"[:300]})

        def log_message(self, *args):
            pass

    return Handler


def make_backend(cfg):
    """The backend the flags name: --server_url when given, else --export_dir when given, else --model_dir."""
    if cfg.is_set("server_url"):
        return RestBackend(cfg.server_url, cfg.server_timeout, cfg.token_level)
    if cfg.export_dir:
        return ExportBackend(cfg.export_dir, cfg.token_level)
    if not cfg.model_dir:
        raise InputError("--mode=web: give --model_dir (a trained folder), --export_dir or --server_url")
    return ModelBackend(cfg)


def make_server(cfg, backend=None):
    """A ThreadingHTTPServer on --host:--port (port 0: any free one) over the backend of the flags."""
    backend = backend or make_backend(cfg)
    try:
        return http.server.ThreadingHTTPServer((cfg.host, cfg.port), make_handler(backend, cfg.top_k))
    except OSError as e:
        raise InputError(f"--port={cfg.port}: cannot listen on {cfg.host}:{cfg.port} ({e.strerror})") from None


def run(cfg):
    server = make_server(cfg)
    host, port = server.server_address[:2]
    print(f"chat page on http://{host}:{port}/  (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
