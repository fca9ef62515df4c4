#include "tools/devcloud/space_page.h"

namespace cloudlink::devcloud {

// Defined in the generated space_page_data.cc.
extern const char kSpaceHtml[];
extern const char kSpaceJs[];
extern const char kSpaceCss[];

const SpacePageFile* FindSpacePageFile(absl::string_view path) {
  static const SpacePageFile kFiles[] = {
      {"/space", "text/html; charset=utf-8", kSpaceHtml},
      {"/space.js", "text/javascript; charset=utf-8", kSpaceJs},
      {"/space.css", "text/css; charset=utf-8", kSpaceCss},
  };
  for (const SpacePageFile& file : kFiles) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

}  // namespace cloudlink::devcloud
