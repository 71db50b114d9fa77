"""A stand-in for TF Serving in tests (no Docker engine here): the real exported SavedModel, loaded
as the C++ server loads it (TF1 loader, restore op + main op, Session.run), behind TF Serving's
REST predict API (both body formats, as its documentation defines them) and its gRPC
PredictionService (the protos of tensorflow-serving-api). Loopback only; stopped by the fixture."""

import concurrent.futures
import http.server
import json
import threading

import numpy as np

from ecm_tf.saved_models import SessionModel


def _plain(value):
    value = np.asarray(value)
    if value.dtype.kind in "SO":
        return np.char.decode(value.astype(bytes), "utf-8").tolist()
    return value.tolist()


class _Rest(http.server.BaseHTTPRequestHandler):
    model = None  # SessionModel, set per server class
    model_name = "ecm"

    def _reply(self, code, obj):
        data = json.dumps(obj, ensure_ascii=False).encode("utf-8")  # -inf -> -Infinity, as TF Serving writes it
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.path != f"/v1/models/{self.model_name}:predict":
            return self._reply(404, {"error": f"Servable not found for request: {self.path}"})
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
        signature = body.get("signature_name", "serving_default")
        import tensorflow as tf

        try:
            if "instances" in body:
                rows = body["instances"]
                inputs = {k: [r[k] for r in rows] for k in rows[0]}
                out = self.model.run(signature, **inputs)
                names = sorted(out)
                return self._reply(200, {"predictions": [{k: _plain(out[k][i]) for k in names}
                                                         for i in range(len(rows))]})
            out = self.model.run(signature, **body["inputs"])
            return self._reply(200, {"outputs": {k: _plain(v) for k, v in out.items()}})
        except tf.errors.OpError as e:
            return self._reply(400, {"error": e.message.splitlines()[0]})

    def log_message(self, *args):
        pass


class RestStandIn:
    """`with RestStandIn(export_dir) as url:` -> http://127.0.0.1:PORT/v1/models/ecm:predict."""

    def __init__(self, export_dir, model_name="ecm"):
        handler = type("Handler", (_Rest,), {"model": SessionModel(export_dir), "model_name": model_name})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/models/{model_name}:predict"

    def __enter__(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self.url

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


class GrpcStandIn:
    """`with GrpcStandIn(export_dir) as url:` -> grpc://127.0.0.1:PORT/ecm."""

    def __init__(self, export_dir, model_name="ecm"):
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        model = SessionModel(export_dir)

        class Service(prediction_service_pb2_grpc.PredictionServiceServicer):
            def Predict(self, request, context):
                if request.model_spec.name != model_name:
                    context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found: {request.model_spec.name}")
                inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
                try:
                    out = model.run(request.model_spec.signature_name or "serving_default", **inputs)
                except tf.errors.OpError as e:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, e.message.splitlines()[0])
                reply = predict_pb2.PredictResponse()
                for k, v in out.items():
                    reply.outputs[k].CopyFrom(tf.make_tensor_proto(v))
                return reply

        self.server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Service(), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.url = f"grpc://127.0.0.1:{port}/{model_name}"

    def __enter__(self):
        self.server.start()
        return self.url

    def __exit__(self, *exc):
        self.server.stop(grace=None).wait(10)
