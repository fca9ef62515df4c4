#pragma once

// Errors a user can see: a canonical code, a registered reason (reasons.h)
// and a sentence for a person. The message reads "REASON: sentence",
//
//   PERMISSION_DENIED "TOKEN_INVALID: the cloud rejected the claim token ..."
//
// and the reason also travels as a payload of the status (kReasonPayloadUrl),
// which is what code reads: decisions compare reasons (HasReason), never
// message text. The API layer passes code and message through unchanged and
// adds the reason as a google.rpc.ErrorInfo detail (server/api/grpc_status.h).
// Code that changes an error's code or message keeps its payloads (WithCode).

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/common/reasons.h"

namespace cloudlink {

// The payload type URL of the reason's name.
inline constexpr char kReasonPayloadUrl[] = "cloudlink.v1/reason";
// Type URLs of metadata payloads start with this, followed by the key.
inline constexpr char kMetadataPayloadUrlPrefix[] = "cloudlink.v1/metadata/";

// Returns a status with `code`, the message "REASON: sentence" and `reason`
// as its payload. `code` must not be kOk.
absl::Status Error(absl::StatusCode code, const Reason& reason,
                   absl::string_view sentence);

// The message Error() writes, "REASON: sentence", for reasons shown outside a
// status (the State's reason, a client's own messages).
std::string ErrorText(const Reason& reason, absl::string_view sentence);

// CLOUD_ERROR for an HTTP status `http_status` no other reason covers: the
// message reads "CLOUD_ERROR_<http_status>: sentence", the form people and
// scripts have always seen; the reason is CLOUD_ERROR, with the metadata
// http_status = <http_status>.
absl::Status CloudHttpError(absl::StatusCode code, int http_status,
                            absl::string_view sentence);

// The name of the reason `status` carries, or "" when it carries none (OK,
// or a status not made by Error(), such as a library's).
std::string ReasonOf(const absl::Status& status);

// Whether `status` carries `reason`.
bool HasReason(const absl::Status& status, const Reason& reason);

// The metadata `status` carries (key → value), empty when none.
std::map<std::string, std::string> MetadataOf(const absl::Status& status);

// `status` with `code` instead of its own; message, reason and metadata kept.
// An OK `status` stays OK.
absl::Status WithCode(const absl::Status& status, absl::StatusCode code);

}  // namespace cloudlink
