/* Loads a SavedModel with TensorFlow's C API (TF_LoadSessionFromSavedModel: the C++ SavedModelBundle
 * loader TF Serving runs: restore op, main op, then Session::Run) and runs one signature.
 *
 *   load_saved_model EXPORT_DIR in:TENSOR:string:FILE in:TENSOR:int32:FILE ... out:TENSOR ...
 *
 * TENSOR is a graph tensor name from the SignatureDef ("serving_default_posts:0"). A string input
 * FILE holds one UTF-8 value per line (a [N] tensor); an int32 input FILE holds "ROWS COLS" and then
 * ROWS*COLS integers (a [ROWS, COLS] tensor). Each output is printed as one JSON line
 * {"tensor": NAME, "dims": [...], "values": [...]} (values flattened, row-major). A failure prints
 * "error: <TF status message>" on stderr and exits with status 1; bad arguments exit with 2.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensorflow/c/c_api.h"

#define MAX_TENSORS 16

static void fail_status(const char *what, TF_Status *status) {
  fprintf(stderr, "error: %s: %s\n", what, TF_Message(status));
  exit(1);
}

static void fail_usage(const char *message, const char *arg) {
  fprintf(stderr, "usage error: %s %s\n", message, arg);
  exit(2);
}

/* "op_name:index" -> TF_Output of the graph (exits when the operation is missing). */
static TF_Output graph_output(TF_Graph *graph, const char *tensor) {
  char name[1024];
  const char *colon = strrchr(tensor, ':');
  size_t len = colon ? (size_t)(colon - tensor) : strlen(tensor);
  if (len >= sizeof(name)) fail_usage("tensor name too long:", tensor);
  memcpy(name, tensor, len);
  name[len] = '\0';
  TF_Output out = {TF_GraphOperationByName(graph, name), colon ? atoi(colon + 1) : 0};
  if (out.oper == NULL) fail_usage("no operation in the graph for", tensor);
  return out;
}

static char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) fail_usage("cannot read", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc((size_t)n + 1);
  if (fread(data, 1, (size_t)n, f) != (size_t)n) fail_usage("short read of", path);
  data[n] = '\0';
  fclose(f);
  *size = (size_t)n;
  return data;
}

/* A [N] TF_STRING tensor of the lines of `path`. */
static TF_Tensor *string_tensor(const char *path) {
  size_t size;
  char *data = read_file(path, &size);
  int64_t n = 0;
  for (size_t i = 0; i < size; i++) n += data[i] == '\n';
  if (size > 0 && data[size - 1] != '\n') n++;
  TF_Tensor *t = TF_AllocateTensor(TF_STRING, &n, 1, (size_t)n * sizeof(TF_TString));
  TF_TString *values = (TF_TString *)TF_TensorData(t);
  char *line = data;
  for (int64_t i = 0; i < n; i++) {
    char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    TF_TString_Init(&values[i]);
    TF_TString_Copy(&values[i], line, len);
    line = end ? end + 1 : line + len;
  }
  free(data);
  return t;
}

/* A [ROWS, COLS] TF_INT32 tensor of "ROWS COLS v v v ..." in `path`. */
static TF_Tensor *int32_tensor(const char *path) {
  size_t size;
  char *data = read_file(path, &size), *p = data, *next;
  int64_t dims[2];
  dims[0] = strtoll(p, &next, 10);
  dims[1] = strtoll(next, &p, 10);
  TF_Tensor *t = TF_AllocateTensor(TF_INT32, dims, 2, (size_t)(dims[0] * dims[1]) * sizeof(int32_t));
  int32_t *values = (int32_t *)TF_TensorData(t);
  for (int64_t i = 0; i < dims[0] * dims[1]; i++) {
    values[i] = (int32_t)strtol(p, &next, 10);
    if (next == p) fail_usage("too few integers in", path);
    p = next;
  }
  free(data);
  return t;
}

static void print_json_string(const char *s, size_t len) {
  putchar('"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);  /* UTF-8 bytes pass through */
  }
  putchar('"');
}

static void print_tensor(const char *name, TF_Tensor *t) {
  int rank = TF_NumDims(t);
  int64_t count = 1;
  printf("{\"tensor\": ");
  print_json_string(name, strlen(name));
  printf(", \"dims\": [");
  for (int d = 0; d < rank; d++) {
    printf(d ? ", %lld" : "%lld", (long long)TF_Dim(t, d));
    count *= TF_Dim(t, d);
  }
  printf("], \"values\": [");
  const void *data = TF_TensorData(t);
  for (int64_t i = 0; i < count; i++) {
    if (i) printf(", ");
    switch (TF_TensorType(t)) {
      case TF_STRING: {
        const TF_TString *s = (const TF_TString *)data + i;
        print_json_string(TF_TString_GetDataPointer(s), TF_TString_GetSize(s));
        break;
      }
      case TF_FLOAT: {
        float v = ((const float *)data)[i];
        if (v != v) printf("NaN");
        else if (v > 3.4e38f || v < -3.4e38f) printf(v > 0 ? "Infinity" : "-Infinity");
        else printf("%.9g", v);
        break;
      }
      case TF_INT32: printf("%d", ((const int32_t *)data)[i]); break;
      case TF_INT64: printf("%lld", (long long)((const int64_t *)data)[i]); break;
      default: fprintf(stderr, "error: %s: unsupported dtype %d\n", name, TF_TensorType(t)); exit(1);
    }
  }
  printf("]}\n");
}

int main(int argc, char **argv) {
  if (argc < 3) fail_usage("expected EXPORT_DIR and in:/out: tensors, got", argc > 1 ? argv[1] : "nothing");
  TF_Output inputs[MAX_TENSORS], outputs[MAX_TENSORS];
  TF_Tensor *in_values[MAX_TENSORS], *out_values[MAX_TENSORS];
  const char *out_names[MAX_TENSORS];
  int n_in = 0, n_out = 0;

  TF_Status *status = TF_NewStatus();
  TF_Graph *graph = TF_NewGraph();
  TF_SessionOptions *options = TF_NewSessionOptions();
  const char *tags[] = {"serve"};
  TF_Session *session = TF_LoadSessionFromSavedModel(options, NULL, argv[1], tags, 1, graph, NULL, status);
  if (TF_GetCode(status) != TF_OK) fail_status("TF_LoadSessionFromSavedModel", status);

  for (int i = 2; i < argc; i++) {
    char spec[2048];
    if (strlen(argv[i]) >= sizeof(spec)) fail_usage("argument too long:", argv[i]);
    strcpy(spec, argv[i]);
    if (strncmp(spec, "out:", 4) == 0) {
      if (n_out == MAX_TENSORS) fail_usage("too many outputs at", argv[i]);
      out_names[n_out] = argv[i] + 4;
      outputs[n_out++] = graph_output(graph, argv[i] + 4);
      continue;
    }
    /* in:TENSOR:DTYPE:FILE, TENSOR itself "op:index" */
    char *tensor = spec + 3, *dtype = NULL, *file = NULL;
    if (strncmp(spec, "in:", 3) != 0 || n_in == MAX_TENSORS) fail_usage("bad argument", argv[i]);
    char *c1 = strchr(tensor, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
    if (c3 == NULL) fail_usage("expected in:TENSOR:DTYPE:FILE, got", argv[i]);
    *c2 = '\0';
    *c3 = '\0';
    dtype = c2 + 1;
    file = c3 + 1;
    inputs[n_in] = graph_output(graph, tensor);
    if (strcmp(dtype, "string") == 0) in_values[n_in++] = string_tensor(file);
    else if (strcmp(dtype, "int32") == 0) in_values[n_in++] = int32_tensor(file);
    else fail_usage("dtype must be string or int32:", argv[i]);
  }

  TF_SessionRun(session, NULL, inputs, in_values, n_in, outputs, out_values, n_out, NULL, 0, NULL, status);
  if (TF_GetCode(status) != TF_OK) fail_status("TF_SessionRun", status);
  for (int i = 0; i < n_out; i++) {
    print_tensor(out_names[i], out_values[i]);
    TF_DeleteTensor(out_values[i]);
  }
  for (int i = 0; i < n_in; i++) TF_DeleteTensor(in_values[i]);
  TF_CloseSession(session, status);
  TF_DeleteSession(session, status);
  TF_DeleteSessionOptions(options);
  TF_DeleteGraph(graph);
  TF_DeleteStatus(status);
  return 0;
}
