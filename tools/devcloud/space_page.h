#pragma once

// The dev cloud's Space page (page/space.html, space.js, space.css),
// compiled in by a genrule: the Space's nodes online or offline, the
// connect command with the current claim token and rooms, and a
// "Regenerate token" button. Open it as
// https://HOST:PORT/space#space=SPACE_ID&admin=ADMIN_API_TOKEN (tools/demo
// prints the address); the fragment never reaches the server.

#include "absl/strings/string_view.h"

namespace cloudlink::devcloud {

struct SpacePageFile {
  absl::string_view path;  // "/space", "/space.js", "/space.css"
  absl::string_view content_type;
  absl::string_view body;
};

// The file served at `path`, or nullptr.
const SpacePageFile* FindSpacePageFile(absl::string_view path);

}  // namespace cloudlink::devcloud
