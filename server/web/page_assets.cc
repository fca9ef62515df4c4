#include "server/web/page_assets.h"

namespace cloudlink::web {

// Defined in the generated page_assets_data.cc.
extern const char kIndexHtml[];
extern const char kAppJs[];
extern const char kAppCss[];

const PageAsset* FindPageAsset(absl::string_view path) {
  static const PageAsset kAssets[] = {
      {"/", "text/html; charset=utf-8", kIndexHtml},
      {"/app.js", "text/javascript; charset=utf-8", kAppJs},
      {"/app.css", "text/css; charset=utf-8", kAppCss},
  };
  for (const PageAsset& asset : kAssets) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

}  // namespace cloudlink::web
