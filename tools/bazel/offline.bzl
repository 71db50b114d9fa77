"""Repositories that let Bazel build this project offline, with nothing downloaded.

venv_python: the Python toolchain is the project's venv interpreter (<workspace>/.venv/bin/python,
or $ECM_BAZEL_PYTHON), so third-party packages (tensorflow, numpy, ...) come from its site-packages
and the py_* targets need no pip repository.

native_rules, local_coverage_tools: @bazel_tools loads @rules_cc//cc:defs.bzl and @rules_java//java:defs.bzl
and names @remote_coverage_tools, which Bazel would otherwise download from GitHub for any py_test. The stubs
forward to Bazel's native C++ and Java rules and name no coverage tool (`bazel coverage` is not supported).
"""

def _venv_python_impl(ctx):
    python = ctx.os.environ.get("ECM_BAZEL_PYTHON", "")
    if not python:
        python = str(ctx.path(Label("//:WORKSPACE")).dirname) + "/.venv/bin/python"
    if not ctx.path(python).exists:
        fail("no Python at %s: create the venv first (python3 -m venv .venv && .venv/bin/pip install -e '.[test]') or set ECM_BAZEL_PYTHON" % python)
    ctx.file("BUILD", """load("@bazel_tools//tools/python:toolchain.bzl", "py_runtime_pair")

py_runtime(
    name = "py3_runtime",
    interpreter_path = "{python}",
    python_version = "PY3",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":py3_runtime",
)

toolchain(
    name = "toolchain",
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)
""".format(python = python))

venv_python = repository_rule(
    implementation = _venv_python_impl,
    environ = ["ECM_BAZEL_PYTHON"],
    local = True,
)

_NATIVE_RULES = {
    "rules_cc": ("cc", ["cc_binary", "cc_import", "cc_library", "cc_proto_library", "cc_test", "cc_toolchain",
                        "cc_toolchain_suite", "fdo_prefetch_hints", "fdo_profile", "objc_import", "objc_library"]),
    "rules_java": ("java", ["java_binary", "java_import", "java_library", "java_lite_proto_library", "java_plugin",
                            "java_proto_library", "java_runtime", "java_test", "java_toolchain"]),
}

def _native_rules_impl(ctx):
    folder, rules = _NATIVE_RULES[ctx.name]
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", "")
    ctx.file(folder + "/BUILD", "")
    ctx.file(folder + "/defs.bzl", "".join([
        "def {r}(**kwargs):\n    native.{r}(**kwargs)\n\n".format(r = r)
        for r in rules
    ]))

# Named rules_cc or rules_java: a defs.bzl forwarding to Bazel's native rules of that language.
native_rules = repository_rule(implementation = _native_rules_impl)

def _local_coverage_tools_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "remote_coverage_tools")\n')
    ctx.file("BUILD", """package(default_visibility = ["//visibility:public"])

filegroup(name = "coverage_report_generator", srcs = [])

filegroup(name = "lcov_merger", srcs = [])
""")

local_coverage_tools = repository_rule(implementation = _local_coverage_tools_impl)
