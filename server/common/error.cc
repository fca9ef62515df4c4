#include "server/common/error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"

namespace cloudlink {

absl::Status Error(absl::StatusCode code, const Reason& reason,
                   absl::string_view sentence) {
  absl::Status status(code, ErrorText(reason, sentence));
  status.SetPayload(kReasonPayloadUrl, absl::Cord(reason.name));
  return status;
}

std::string ErrorText(const Reason& reason, absl::string_view sentence) {
  return absl::StrCat(reason.name, ": ", sentence);
}

absl::Status CloudHttpError(absl::StatusCode code, int http_status,
                            absl::string_view sentence) {
  absl::Status status(code, absl::StrCat(reason::kCloudError.name, "_",
                                         http_status, ": ", sentence));
  status.SetPayload(kReasonPayloadUrl, absl::Cord(reason::kCloudError.name));
  status.SetPayload(absl::StrCat(kMetadataPayloadUrlPrefix, "http_status"),
                    absl::Cord(absl::StrCat(http_status)));
  return status;
}

std::string ReasonOf(const absl::Status& status) {
  absl::optional<absl::Cord> name = status.GetPayload(kReasonPayloadUrl);
  return name ? std::string(*name) : std::string();
}

bool HasReason(const absl::Status& status, const Reason& reason) {
  absl::optional<absl::Cord> name = status.GetPayload(kReasonPayloadUrl);
  return name && *name == reason.name;
}

std::map<std::string, std::string> MetadataOf(const absl::Status& status) {
  std::map<std::string, std::string> metadata;
  status.ForEachPayload(
      [&metadata](absl::string_view type_url, const absl::Cord& value) {
        if (absl::ConsumePrefix(&type_url, kMetadataPayloadUrlPrefix)) {
          metadata[std::string(type_url)] = std::string(value);
        }
      });
  return metadata;
}

absl::Status WithCode(const absl::Status& status, absl::StatusCode code) {
  if (status.ok()) return status;
  absl::Status result(code, status.message());
  status.ForEachPayload(
      [&result](absl::string_view type_url, const absl::Cord& value) {
        result.SetPayload(type_url, value);
      });
  return result;
}

}  // namespace cloudlink
