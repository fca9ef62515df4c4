"""C++ code generation for .proto files with Debian's protoc.

Bazel 4.2.3's native proto rules would download protobuf; instead a genrule
calls /usr/bin/protoc (and /usr/bin/grpc_cpp_plugin for services).
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

def cc_proto(name, srcs, grpc = False, deps = [], visibility = None):
    """Generates and compiles the C++ code of `srcs` (paths under proto/).

    Include the generated headers as "cloudlink/v1/x.pb.h" (relative to proto/).
    """
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    grpc_flags = ""
    if grpc:
        grpc_flags = ("--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin " +
                      "--grpc_out=$(GENDIR)/proto ")
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = outs,
        cmd = ("/usr/bin/protoc -Iproto -I/usr/include " +
               "--cpp_out=$(GENDIR)/proto " + grpc_flags +
               " ".join(["proto/" + s for s in srcs])),
    )
    cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        copts = ["-Wno-unused-parameter"],
        deps = deps + ["//third_party/system:protobuf"] +
               (["//third_party/system:grpc"] if grpc else []),
        visibility = visibility,
    )
