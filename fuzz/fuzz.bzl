"""cloudlink_fuzzer: one libFuzzer target and its replay test.

For a parser <name>, `cloudlink_fuzzer(name = "<name>", ...)` makes
  :<name>_fuzzer_lib   the body (LLVMFuzzerTestOneInput), alwayslink
  :<name>_fuzzer       a binary: under --config=fuzz (clang, --define=fuzz=1)
                       linked with -fsanitize=fuzzer, i.e. a libFuzzer
                       binary; otherwise (gcc) linked with replay_main, so it
                       runs the inputs named on its command line
  :<name>_replay_test  replays corpus/<name>/ and regressions/<name>/ through
                       the body (every build, every compiler)
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

def cloudlink_fuzzer(name, srcs, deps = [], data = []):
    cc_library(
        name = name + "_fuzzer_lib",
        srcs = srcs,
        deps = deps + [":fuzz_input"],
        alwayslink = True,
        testonly = True,
    )
    cc_binary(
        name = name + "_fuzzer",
        deps = [":" + name + "_fuzzer_lib"] + select({
            ":fuzzing": [],
            "//conditions:default": [":replay_main"],
        }),
        linkopts = select({
            ":fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = data,
        testonly = True,
    )
    cc_test(
        name = name + "_replay_test",
        size = "small",
        deps = [":" + name + "_fuzzer_lib", ":replay_main"],
        data = native.glob([
            "corpus/" + name + "/**",
            "regressions/" + name + "/**",
        ]) + data,
        args = [
            "fuzz/corpus/" + name,
            "fuzz/regressions/" + name,
        ],
    )
