"""Files (HTML, CSS, JS) compiled into a binary as C++ string literals.

No tool beyond the shell: a genrule writes each file as a raw string literal.
"""

def embed_assets(name, assets, namespace, delimiter, visibility = None):
    """Generates `<name>.cc` defining one `const char NAME[]` per file.

    Args:
      name: the genrule's name; its output is `<name>.cc`, to list in a
        cc_library's srcs next to the hand-written header that declares the
        arrays (`extern const char NAME[];`).
      assets: dict from a C++ array name ("kIndexHtml") to the file's label,
        in the order they are written.
      namespace: the C++ namespace of the arrays ("cloudlink::web").
      delimiter: the raw string literal's delimiter; the build fails when a
        file holds ")<delimiter>".
      visibility: the genrule's visibility.
    """
    lines = ["echo 'namespace %s {'" % namespace]
    for array, src in assets.items():
        location = "$(location %s)" % src
        lines += [
            "if grep -q ')%s' %s; then" % (delimiter, location),
            "  echo \"%s holds the raw string delimiter\" >&2; exit 1" % location,
            "fi",
            "printf 'extern const char %s[];\\nconst char %s[] = R\"%s('" % (
                array,
                array,
                delimiter,
            ),
            "cat %s" % location,
            "echo ')%s\";'" % delimiter,
        ]
    lines.append("echo '}  // namespace %s'" % namespace)
    native.genrule(
        name = name,
        srcs = assets.values(),
        outs = [name + ".cc"],
        cmd = "(\n" + "\n".join(lines) + "\n) > $@",
        visibility = visibility,
    )
