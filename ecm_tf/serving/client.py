"""`--mode=client`: sends posts to TF Serving running an exported model (REST or gRPC).

    echo "今天天气真好" | python -m ecm_tf.main --mode=client --emotion=Happy \
        --server_url=http://localhost:8501/v1/models/ecm:predict
    echo "今天天气真好" | python -m ecm_tf.main --mode=client --emotion=Happy --server_url=grpc://localhost:8500/ecm

Posts (one per line, from --input or stdin) are segmented with jieba as in training (a CERG/P&E2R
export splits them into characters itself, spaces ignored) and sent as one predict request for
all posts x emotions, to the `serving_default` signature:
- REST, `--rest_format=inputs` (columnar):
  {"signature_name": "serving_default", "inputs": {"posts": [...], "emotions": [...]}}
  -> {"outputs": {"responses": [[...]], "scores": [[...]]}};
- REST, `--rest_format=instances` (row):
  {"signature_name": "serving_default", "instances": [{"posts": p, "emotions": e}, ...]}
  -> {"predictions": [{"responses": [...], "scores": [...]}, ...]};
- gRPC (`grpc://HOST:PORT/MODEL`): tensorflow.serving.PredictionService/Predict with the same
  named string tensors, replies read with tf.make_ndarray.
The best response and its score are printed per post and emotion. The client waits
--server_timeout seconds for an answer ("no answer within N s", apart from "cannot reach the
server" when nothing listens), and a reply of the wrong shape is one line naming the field.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import text as text_lib
from ecm_tf.errors import InputError

SIGNATURE = "serving_default"


def read_posts(path):
    """Non-empty stripped lines of `path`, or of stdin when `path` is empty."""
    lines = io_utils.read_lines(path) if path else io_utils.stdin().read().splitlines()
    return [line.strip() for line in lines if line.strip()]


def request_rows(posts, emotion_ids, token_level="word"):
    """(segmented posts, emotion names): one row per (post, emotion), posts outer."""
    segmented, names = [], []
    for post in posts:
        tokens = " ".join(text_lib.segment(post, token_level))
        for e in emotion_ids:
            segmented.append(tokens)
            names.append(emotions.NAMES[e])
    return segmented, names


def build_request(posts, names, rest_format="inputs"):
    """The REST predict body for already segmented posts and emotion names."""
    if rest_format == "instances":
        return {"signature_name": SIGNATURE, "instances": [{"posts": p, "emotions": e} for p, e in zip(posts, names)]}
    return {"signature_name": SIGNATURE, "inputs": {"posts": list(posts), "emotions": list(names)}}


def parse_reply(reply, rows, where):
    """(responses [B][K], scores [B][K]) of a REST reply in either format; InputError otherwise."""
    if isinstance(reply, dict) and isinstance(reply.get("outputs"), dict) and "responses" in reply["outputs"]:
        out = reply["outputs"]
        responses, scores = out["responses"], out.get("scores")
    elif isinstance(reply, dict) and isinstance(reply.get("predictions"), list) and all(
            isinstance(p, dict) and "responses" in p for p in reply["predictions"]):
        responses = [p["responses"] for p in reply["predictions"]]
        scores = [p.get("scores") for p in reply["predictions"]]
        scores = None if any(s is None for s in scores) else scores
    else:
        raise InputError(f"{where}: reply has no outputs.responses or predictions[].responses "
                         f"({json.dumps(reply, ensure_ascii=False)[:200]})")
    field = "outputs" if "outputs" in reply else "predictions[]"
    _check_rows(responses, f"{where}: reply field {field}.responses", lambda v: isinstance(v, str), "strings")
    if len(responses) != rows:
        raise InputError(f"{where}: {len(responses)} responses for {rows} requests")
    if scores is not None:
        _check_rows(scores, f"{where}: reply field {field}.scores",
                    lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)), "numbers")
        if [len(s) for s in scores] != [len(r) for r in responses]:
            raise InputError(f"{where}: reply field {field}.scores does not match the shape of {field}.responses")
    return responses, scores or [[None] * len(r) for r in responses]


class TimedOut(InputError):
    """The server accepted the connection but sent no reply within the timeout."""


def _check_rows(rows, where, ok, what):
    """InputError naming the reply field unless `rows` is a list of lists of `what`."""
    if not isinstance(rows, list):
        raise InputError(f"{where}: expected a list of lists of {what}, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or not all(ok(v) for v in row):
            got = json.dumps(row, ensure_ascii=False)[:80]
            raise InputError(f"{where}[{i}]: expected a list of {what}, got {got}")


def predict_rest(server_url, body, timeout=60.0):
    """POSTs `body` and returns the decoded JSON reply (InputError naming --server_url on failure,
    TimedOut when no reply comes within `timeout` seconds)."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return _rest(urllib.request.Request(server_url, data=data, headers={"Content-Type": "application/json"}),
                 server_url, timeout)


def get_rest(url, timeout=60.0):
    """The decoded JSON reply of a GET (e.g. TF Serving's model status), errors as predict_rest."""
    return _rest(urllib.request.Request(url), url, timeout)


def _rest(request, server_url, timeout):
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.loads(reply.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace").strip().replace("\n", " ")[:200]
        raise InputError(f"--server_url={server_url}: HTTP {e.code} {detail}") from None
    except (urllib.error.URLError, OSError) as e:
        if isinstance(e, TimeoutError) or isinstance(getattr(e, "reason", None), TimeoutError):
            raise TimedOut(f"--server_url={server_url}: no answer within {timeout:g} s "
                           f"(--server_timeout={timeout:g}); the server is up but slow or stuck") from None
        raise InputError(f"--server_url={server_url}: cannot reach the server ({getattr(e, 'reason', e)})") from None
    except ValueError:
        raise InputError(f"--server_url={server_url}: the reply is not JSON") from None


def grpc_target(server_url):
    """(host:port, model name) of grpc://HOST:PORT/MODEL."""
    parsed = urllib.parse.urlparse(server_url)
    model = parsed.path.strip("/")
    if not parsed.hostname or not parsed.port or not model or "/" in model:
        raise InputError(f"--server_url={server_url}: a gRPC address is grpc://HOST:PORT/MODEL "
                         f"(TF Serving's gRPC port, 8500 by default, and the model name)")
    return f"{parsed.hostname}:{parsed.port}", model


def predict_grpc(server_url, posts, names, timeout=60.0):
    """(responses [B][K], scores [B][K]) from PredictionService/Predict (tensorflow-serving-api)."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    target, model = grpc_target(server_url)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = SIGNATURE
    request.inputs["posts"].CopyFrom(tf.make_tensor_proto([p.encode("utf-8") for p in posts], dtype=tf.string))
    request.inputs["emotions"].CopyFrom(tf.make_tensor_proto([n.encode("utf-8") for n in names], dtype=tf.string))
    with grpc.insecure_channel(target) as channel:
        try:
            reply = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=timeout)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise InputError(f"--server_url={server_url}: no answer within {timeout:g} s "
                                 f"(--server_timeout={timeout:g})") from None
            detail = (e.details() or "").splitlines()[0][:200] if e.details() else ""
            raise InputError(f"--server_url={server_url}: gRPC {e.code().name} {detail}".rstrip()) from None
    if "responses" not in reply.outputs:
        raise InputError(f"--server_url={server_url}: reply has no responses output ({sorted(reply.outputs)})")
    responses = [[r.decode("utf-8") for r in row] for row in tf.make_ndarray(reply.outputs["responses"])]
    scores = tf.make_ndarray(reply.outputs["scores"]).tolist() if "scores" in reply.outputs else None
    return responses, scores or [[None] * len(r) for r in responses]


def predict(server_url, posts, names, rest_format="inputs", timeout=60.0):
    """(responses, scores) for the rows, over gRPC (grpc://) or REST (http://, https://); `timeout`:
    seconds to wait for the answer."""
    scheme = urllib.parse.urlparse(server_url).scheme
    if scheme == "grpc":
        return predict_grpc(server_url, posts, names, timeout)
    if scheme not in ("http", "https"):
        raise InputError(f"--server_url={server_url}: expected http(s)://HOST:PORT/v1/models/MODEL:predict "
                         f"(REST) or grpc://HOST:PORT/MODEL")
    reply = predict_rest(server_url, build_request(posts, names, rest_format), timeout)
    return parse_reply(reply, len(posts), f"--server_url={server_url}")


def run(cfg):
    emotion_ids = emotions.parse_emotion_list(cfg.emotion)
    posts = read_posts(cfg.input)
    if not posts:
        raise InputError(f"--input={cfg.input or '-'}: no posts (one post per line)")
    segmented, names = request_rows(posts, emotion_ids, cfg.token_level)
    responses, scores = predict(cfg.server_url, segmented, names, cfg.rest_format, cfg.server_timeout)
    row = 0
    for post in posts:
        print(f"post: {post}")
        for e in emotion_ids:
            best, score = (responses[row][0], scores[row][0]) if responses[row] else ("", None)
            suffix = f"  ({score:.2f})" if score is not None else ""
            print(f"  {emotions.NAMES[e]}: {best}{suffix}")
            row += 1
