#pragma once

// The local page's files (assets/index.html, app.js, app.css), compiled into
// the binary by a genrule, so the page needs no files, CDN or build tool at
// run time.

#include "absl/strings/string_view.h"

namespace cloudlink::web {

struct PageAsset {
  absl::string_view path;          // "/", "/app.js", "/app.css"
  absl::string_view content_type;  // with charset
  absl::string_view body;
};

// The asset served at `path`, or nullptr.
const PageAsset* FindPageAsset(absl::string_view path);

}  // namespace cloudlink::web
