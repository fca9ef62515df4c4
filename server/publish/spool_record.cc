#include "server/publish/spool_record.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/publish/crc32c.h"

namespace cloudlink::publish {
namespace {

constexpr size_t kAckBodyBytes = 1 + 8;        // type, sequence
constexpr size_t kDataFixedBytes = 1 + 8 + 2;  // type, sequence, topic length

void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetLe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  return v;
}

void AppendRecord(SpoolRecordType type, uint64_t sequence,
                  absl::string_view topic, absl::string_view payload,
                  std::string* out) {
  std::string body;
  body.reserve(kDataFixedBytes + topic.size() + payload.size());
  body.push_back(static_cast<char>(type));
  PutLe(&body, sequence, 8);
  if (type == SpoolRecordType::kData) {
    PutLe(&body, topic.size(), 2);
    body.append(topic.data(), topic.size());
    body.append(payload.data(), payload.size());
  }
  PutLe(out, body.size(), 4);
  PutLe(out, Crc32c(body), 4);
  out->append(body);
}

// Decodes a body whose CRC matched. False when malformed.
bool DecodeBody(absl::string_view body, SpoolRecord* out) {
  if (body.size() < kAckBodyBytes) return false;
  const auto type = static_cast<uint8_t>(body[0]);
  out->sequence = GetLe(body.data() + 1, 8);
  if (type == static_cast<uint8_t>(SpoolRecordType::kAck)) {
    out->type = SpoolRecordType::kAck;
    return body.size() == kAckBodyBytes;
  }
  if (type != static_cast<uint8_t>(SpoolRecordType::kData) ||
      body.size() < kDataFixedBytes) {
    return false;
  }
  out->type = SpoolRecordType::kData;
  const size_t topic_len = GetLe(body.data() + 9, 2);
  if (kDataFixedBytes + topic_len > body.size()) return false;
  out->topic = body.substr(kDataFixedBytes, topic_len);
  out->payload = body.substr(kDataFixedBytes + topic_len);
  return out->sequence > 0;
}

}  // namespace

void AppendSpoolDataRecord(uint64_t sequence, absl::string_view topic,
                           absl::string_view payload, std::string* out) {
  AppendRecord(SpoolRecordType::kData, sequence, topic, payload, out);
}

void AppendSpoolAckRecord(uint64_t sequence, std::string* out) {
  AppendRecord(SpoolRecordType::kAck, sequence, "", "", out);
}

size_t SpoolDataRecordBytes(size_t topic_bytes, size_t payload_bytes) {
  return kSpoolRecordHeaderBytes + kDataFixedBytes + topic_bytes +
         payload_bytes;
}

absl::StatusOr<SpoolRecord> ReadSpoolRecord(absl::string_view bytes) {
  if (bytes.size() < kSpoolRecordHeaderBytes) {
    return absl::DataLossError("a record header is cut short (torn write)");
  }
  const uint64_t length = GetLe(bytes.data(), 4);
  const auto crc = static_cast<uint32_t>(GetLe(bytes.data() + 4, 4));
  if (length > bytes.size() - kSpoolRecordHeaderBytes) {
    return absl::DataLossError(
        absl::StrCat("a record of ", length,
                     " bytes runs past the end of the file (torn write)"));
  }
  const absl::string_view body = bytes.substr(kSpoolRecordHeaderBytes, length);
  if (Crc32c(body) != crc) {
    return absl::DataLossError("a record's CRC does not match (corrupt)");
  }
  SpoolRecord record;
  if (!DecodeBody(body, &record)) {
    return absl::DataLossError("a record does not parse (corrupt)");
  }
  record.size = kSpoolRecordHeaderBytes + length;
  return record;
}

}  // namespace cloudlink::publish
