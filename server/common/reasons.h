#pragma once

// The one list of error reasons. Every error a person or a program can see
// carries one of these: an UPPER_SNAKE name (what scripts and
// google.rpc.ErrorInfo.reason match on) and a one-line meaning. Error()
// (error.h) takes a Reason, so an error cannot be written with a reason that
// is not listed here.
//
// Adding a reason: add its line to CLOUDLINK_REASONS, grouped with the part
// that returns it, and document it in proto/cloudlink/v1/cloudlink.proto
// (reasons_test fails until both are done). Never rename or reuse a name:
// callers match on it.

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace cloudlink {

// A registered reason. Only the constants of namespace reason exist; compare
// reasons by name.
struct Reason {
  absl::string_view name;     // UPPER_SNAKE, unique
  absl::string_view meaning;  // one line, for people and the documentation
};

// X(constant, name, meaning) for every reason.
// clang-format off
#define CLOUDLINK_REASONS(X)                                                   \
  /* Claim inputs and configuration files */                                   \
  X(kTokenInvalidFormat, "TOKEN_INVALID_FORMAT",                               \
    "the claim token is empty or has characters a token never has")            \
  X(kRoomsInvalid, "ROOMS_INVALID",                                            \
    "a room id is empty or malformed, or there are too many rooms")            \
  X(kUrlInvalid, "URL_INVALID",                                                \
    "a cloud, proxy or MQTT URL is malformed or has the wrong scheme")         \
  X(kProxyInvalid, "PROXY_INVALID",                                            \
    "the proxy setting does not parse, or cannot be sent to the proxy")        \
  X(kProxyUnsupported, "PROXY_UNSUPPORTED",                                    \
    "the proxy's scheme is not supported (https:// proxies)")                  \
  X(kConfigInvalid, "CONFIG_INVALID",                                          \
    "a line of a configuration file does not parse (names file and line)")     \
  X(kConfigUnreadable, "CONFIG_UNREADABLE",                                    \
    "a configuration file exists but cannot be read")                          \
  X(kNoClaimInputs, "NO_CLAIM_INPUTS",                                         \
    "Reclaim without a token, and no claim.conf or NETDATA_CLAIM_TOKEN")       \
  /* Claiming (Claim, Reclaim, automatic claims) and the node's state files */ \
  X(kClaimedElsewhere, "CLAIMED_ELSEWHERE",                                    \
    "the node is claimed with other values; use Reclaim")                      \
  X(kConfigDiffersFromClaim, "CONFIG_DIFFERS_FROM_CLAIM",                     \
    "claim.conf or the env has another token, url or rooms than the claim")    \
  X(kTokenInvalid, "TOKEN_INVALID",                                            \
    "the cloud rejected the claim token (HTTP 403)")                           \
  X(kAlreadyClaimed, "ALREADY_CLAIMED",                                        \
    "the cloud says the node is already claimed (HTTP 409)")                   \
  X(kInvalidNodeId, "INVALID_NODE_ID",                                         \
    "the cloud rejected the node's claim id (HTTP 422)")                       \
  X(kInvalidNodeName, "INVALID_NODE_NAME",                                     \
    "the cloud rejected the node's host name (HTTP 422)")                      \
  X(kInvalidRoomId, "INVALID_ROOM_ID",                                         \
    "the cloud rejected a room id (HTTP 422)")                                 \
  X(kInvalidPublicKey, "INVALID_PUBLIC_KEY",                                   \
    "the cloud rejected the node's public key (HTTP 422)")                     \
  X(kClaimRejected, "CLAIM_REJECTED",                                          \
    "the cloud rejected the claim request for another cause (HTTP 422)")       \
  X(kCloudError, "CLOUD_ERROR",                                                \
    "the cloud answered an unexpected HTTP status (CLOUD_ERROR_<status>)")     \
  X(kKeyGenerationFailed, "KEY_GENERATION_FAILED",                             \
    "OpenSSL could not make the node's key pair")                              \
  X(kKeyInvalid, "KEY_INVALID", "the node's private key does not parse")       \
  X(kKeyMissing, "KEY_MISSING",                                                \
    "the claimed node's private key cannot be read; Reclaim makes a new one")  \
  X(kStateInvalid, "STATE_INVALID",                                            \
    "a file of the state directory (cloud.d/) does not parse")                 \
  X(kStateWriteFailed, "STATE_WRITE_FAILED",                                   \
    "a state file (cloud.d/, the machine GUID) could not be written")          \
  X(kStateDirUnsafe, "STATE_DIR_UNSAFE",                                       \
    "a state or configuration directory may be changed by another user")       \
  X(kMachineGuidInvalid, "MACHINE_GUID_INVALID",                               \
    "the machine GUID file cannot be read or is not a UUID")                   \
  X(kClaimPending, "CLAIM_PENDING",                                            \
    "not claimed yet; an automatic claim with the configured token is due")    \
  X(kNotClaimed, "NOT_CLAIMED",                                                \
    "not claimed, and there is nothing to claim with")                         \
  /* RegenerateToken */                                                        \
  X(kSpaceIdInvalid, "SPACE_ID_INVALID",                                       \
    "space_id is empty or has characters a Space id never has")                \
  X(kApiTokenInvalidFormat, "API_TOKEN_INVALID_FORMAT",                        \
    "api_token is empty or not printable ASCII")                               \
  X(kApiTokenRejected, "API_TOKEN_REJECTED",                                   \
    "the cloud refused the API token (HTTP 401 or 403)")                       \
  X(kSpaceNotFound, "SPACE_NOT_FOUND",                                         \
    "the cloud has no such Space (HTTP 404)")                                  \
  X(kCloudResponseInvalid, "CLOUD_RESPONSE_INVALID",                           \
    "the cloud's answer lacks what its API promises")                          \
  X(kResponseTooLarge, "RESPONSE_TOO_LARGE",                                   \
    "an HTTP answer was larger than cloudlinkd accepts (1 MiB)")               \
  X(kClaimConfWriteFailed, "CLAIM_CONF_WRITE_FAILED",                          \
    "a new token was issued but claim.conf could not be updated")              \
  /* Reaching the cloud (HTTPS calls and the MQTT link) */                     \
  X(kConnectFailed, "CONNECT_FAILED",                                          \
    "the connection could not be made (refused, unreachable, DNS)")            \
  X(kConnectTimeout, "CONNECT_TIMEOUT", "the connection was not up in time")   \
  X(kConnectionLost, "CONNECTION_LOST", "an established connection dropped")   \
  X(kTlsVerifyFailed, "TLS_VERIFY_FAILED",                                     \
    "the server's TLS certificate or host name did not verify")                \
  X(kTlsFailed, "TLS_FAILED", "the TLS handshake failed for another cause")    \
  X(kProxyFailed, "PROXY_FAILED",                                              \
    "the proxy could not be reached or did not relay the connection")          \
  X(kProxyAuth, "PROXY_AUTH", "the proxy refused its credentials")             \
  X(kProxyRefused, "PROXY_REFUSED",                                            \
    "the proxy refused the tunnel for policy (an answer other than 407)")      \
  X(kRelayFailed, "RELAY_FAILED",                                              \
    "the local SOCKS5 relay for the MQTT link could not be set up")            \
  X(kTransportFailed, "TRANSPORT_FAILED",                                      \
    "the WebSocket transport (libwebsockets) could not be set up")             \
  X(kWsUpgradeFailed, "WS_UPGRADE_FAILED",                                     \
    "the server refused the WebSocket upgrade")                                \
  X(kWsProtocolError, "WS_PROTOCOL_ERROR",                                     \
    "a WebSocket frame to send would break the protocol")                      \
  X(kEnvFailed, "ENV_FAILED", "the cloud's env endpoint answered an error")    \
  X(kEnvInvalid, "ENV_INVALID", "the cloud's env answer is unusable")          \
  X(kLoginFailed, "LOGIN_FAILED",                                              \
    "the cloud's challenge or password endpoint answered an error")            \
  X(kLoginInvalid, "LOGIN_INVALID", "the cloud's login answer is unusable")    \
  X(kCloudMessageInvalid, "CLOUD_MESSAGE_INVALID",                            \
    "a message from the cloud does not parse or is not for this node")       \
  X(kChallengeInvalid, "CHALLENGE_INVALID",                                    \
    "the cloud's login challenge is not base64 or does not decrypt")           \
  X(kBanned, "BANNED",                                                         \
    "the cloud asked not to retry; fix the cause, then ReloadClaimingState")   \
  X(kMqttMalformed, "MQTT_MALFORMED",                                          \
    "the broker sent bytes that are not an MQTT packet")                       \
  X(kMqttProtocolError, "MQTT_PROTOCOL_ERROR",                                 \
    "the broker broke the MQTT protocol")                                      \
  X(kMqttPacketTooLarge, "MQTT_PACKET_TOO_LARGE",                              \
    "an MQTT packet is over the size the other side accepts")                  \
  X(kMqttAuthFailed, "MQTT_AUTH_FAILED",                                       \
    "the broker refused the node's MQTT credentials")                          \
  X(kMqttConnectRefused, "MQTT_CONNECT_REFUSED",                               \
    "the broker refused the MQTT connection for another cause")                \
  X(kServerDisconnect, "SERVER_DISCONNECT",                                    \
    "the broker ended the MQTT session")                                       \
  X(kSessionTakenOver, "SESSION_TAKEN_OVER",                                   \
    "another node uses this claim id (a clone); reclaim --new-identity there") \
  X(kKeepaliveTimeout, "KEEPALIVE_TIMEOUT",                                    \
    "the broker did not answer a keep-alive ping in time")                     \
  X(kCloudDisconnect, "CLOUD_DISCONNECT",                                      \
    "the cloud asked the node to reconnect later")                             \
  X(kDisconnected, "DISCONNECTED",                                             \
    "the link was closed (a reconnect, reload or stop asked for it)")          \
  X(kConnecting, "CONNECTING", "claimed; the link is connecting")              \
  X(kNotConnected, "NOT_CONNECTED", "claimed; the link has not connected yet") \
  /* Publish */                                                                \
  X(kTopicUnknown, "TOPIC_UNKNOWN",                                            \
    "the topic is not a name of the login's topic map")                        \
  X(kMessageTooLarge, "MESSAGE_TOO_LARGE",                                     \
    "the message is larger than the queue, spool or broker accepts")           \
  X(kQueueFull, "QUEUE_FULL",                                                  \
    "the memory queue is full (and wait_when_full is false)")                  \
  X(kQueueWaitTimeout, "QUEUE_WAIT_TIMEOUT",                                   \
    "the memory queue stayed full until the stream's deadline")                \
  X(kSpoolFull, "SPOOL_FULL",                                                  \
    "the durable spool is full (and wait_when_full is false)")                 \
  X(kSpoolWaitTimeout, "SPOOL_WAIT_TIMEOUT",                                   \
    "the durable spool stayed full until the stream's deadline")               \
  X(kSpoolWriteFailed, "SPOOL_WRITE_FAILED",                                   \
    "the message could not be written to the durable spool")                   \
  X(kSpoolOpenFailed, "SPOOL_OPEN_FAILED",                                     \
    "the durable spool could not be opened")                                   \
  X(kSpoolUnavailable, "SPOOL_UNAVAILABLE",                                    \
    "the durable spool is not open (see the daemon's log)")                    \
  X(kPublishUnavailable, "PUBLISH_UNAVAILABLE",                                \
    "this daemon has no publish path")                                         \
  X(kPublishTimeout, "PUBLISH_TIMEOUT",                                        \
    "the broker did not acknowledge the message before its deadline")          \
  X(kPublishRefused, "PUBLISH_REFUSED", "the broker refused the message")      \
  X(kShuttingDown, "SHUTTING_DOWN",                                            \
    "cloudlinkd is stopping; the message was not sent")                        \
  /* The control API and the daemon's start-up */                              \
  X(kReclaimed, "RECLAIMED",                                                   \
    "the node was reclaimed; the old claim's message was dropped, not sent")   \
  X(kRequestMalformed, "REQUEST_MALFORMED",                                    \
    "the request did not parse (a string not UTF-8, or the wrong message)")    \
  X(kFrameTooLarge, "FRAME_TOO_LARGE",                                        \
    "a publish socket frame announced more than 4 MiB")                        \
  X(kCallerNotAuthorized, "CALLER_NOT_AUTHORIZED",                             \
    "the caller may not call this method")                                     \
  X(kCallerUnknown, "CALLER_UNKNOWN", "the caller could not be identified")    \
  X(kStreamLimitReached, "STREAM_LIMIT_REACHED",                               \
    "the caller or its connection has as many open streams as allowed")        \
  X(kListenFailed, "LISTEN_FAILED",                                            \
    "the API server could not listen on its socket or --listen address")       \
  X(kHttpListenFailed, "HTTP_LISTEN_FAILED",                                   \
    "the local HTTP endpoint could not listen on its --http-listen address")   \
  X(kClaimKeyWriteFailed, "CLAIM_KEY_WRITE_FAILED",                            \
    "the local page's claim key file could not be written")                    \
  X(kRemoteFlagsInvalid, "REMOTE_FLAGS_INVALID",                               \
    "the --listen / --tls-* flags are incomplete or malformed")                \
  X(kTlsFileInvalid, "TLS_FILE_INVALID",                                       \
    "a --tls-* file of the remote API is unreadable or not valid PEM")         \
  X(kTlsSubjectsInvalid, "TLS_SUBJECTS_INVALID",                               \
    "the --tls-allowed-subjects file has a malformed line")                    \
  X(kTlsSubjectsUnreadable, "TLS_SUBJECTS_UNREADABLE",                         \
    "the --tls-allowed-subjects file cannot be read")                          \
  X(kSocketPathInvalid, "SOCKET_PATH_INVALID",                                 \
    "the API socket path is not an absolute path that fits a socket address")  \
  X(kSocketDirFailed, "SOCKET_DIR_FAILED",                                     \
    "the API socket's directory cannot be made or used")                       \
  X(kSocketInUse, "SOCKET_IN_USE",                                             \
    "another cloudlinkd is serving on the API socket")                         \
  X(kInstanceRunning, "INSTANCE_RUNNING",                                     \
    "another cloudlinkd holds the lock of this lib dir")                       \
  X(kInstanceLockFailed, "INSTANCE_LOCK_FAILED",                               \
    "the lib dir's lock file cannot be made, opened or locked")                \
  X(kSocketListenFailed, "SOCKET_LISTEN_FAILED",                               \
    "the API socket could not be bound or listened on")                        \
  X(kSocketModeFailed, "SOCKET_MODE_FAILED",                                   \
    "the API socket's mode or group could not be set")                         \
  /* cloudlinkctl */                                                           \
  X(kUnknownCommand, "UNKNOWN_COMMAND",                                        \
    "the command is not one of cloudlinkctl's")                                \
  X(kUnknownFlag, "UNKNOWN_FLAG", "the flag is not one of the command's")      \
  X(kMissingFlag, "MISSING_FLAG", "a required flag is missing")                \
  X(kMissingFlagValue, "MISSING_FLAG_VALUE",                                   \
    "a flag that takes a value has none")                                      \
  X(kBadFlagValue, "BAD_FLAG_VALUE", "a flag's value does not parse")          \
  X(kConflictingFlags, "CONFLICTING_FLAGS",                                    \
    "two flags that exclude each other were both given")                       \
  X(kUnexpectedArgument, "UNEXPECTED_ARGUMENT",                                \
    "a word that is neither a flag nor expected there")                        \
  X(kBadRequestLine, "BAD_REQUEST_LINE",                                       \
    "a line of standard input is not the request message in JSON")             \
  X(kTlsFileUnreadable, "TLS_FILE_UNREADABLE",                                 \
    "a --tls-* file of cloudlinkctl cannot be read")                           \
  X(kDaemonUnreachable, "DAEMON_UNREACHABLE",                                  \
    "cloudlinkd does not answer at the socket or --target")                    \
  X(kSocketPermissionDenied, "SOCKET_PERMISSION_DENIED",                      \
    "the caller may not connect to cloudlinkd's socket (not root or in its "   \
    "group)")                                                                  \
  X(kStateNotReached, "STATE_NOT_REACHED",                                     \
    "the node did not reach the state the command asked for (online)")        \
  X(kPublishAcksFailed, "PUBLISH_ACKS_FAILED",                                \
    "one or more publish acks carry an error")                                 \
  X(kSecretOnCommandLine, "SECRET_ON_COMMAND_LINE",                            \
    "a secret was given as a command-line argument, readable by local users")  \
  X(kSecretUnreadable, "SECRET_UNREADABLE",                                    \
    "a secret's file or standard input cannot be read or holds no secret")     \
  X(kBadResponse, "BAD_RESPONSE",                                              \
    "a response from the daemon did not parse as the method's message")        \
  X(kJsonFailed, "JSON_FAILED", "a response could not be printed as JSON")     \
  X(kBadDescriptorSet, "BAD_DESCRIPTOR_SET",                                   \
    "cloudlinkctl's embedded descriptor set does not parse")                   \
  /* tools/devcloud and bench/ only; cloudlinkd never returns these */         \
  X(kBadDir, "BAD_DIR", "the dev cloud's --dir is missing or unusable")        \
  X(kDirInUse, "DIR_IN_USE", "another dev cloud runs in the same --dir")       \
  X(kBindFailed, "BIND_FAILED",                                                \
    "the dev cloud could not listen on its HTTPS port")                        \
  X(kNoFreePort, "NO_FREE_PORT",                                              \
    "no free loopback port could be picked (tests, bench, dev cloud)")        \
  X(kTlsSetupFailed, "TLS_SETUP_FAILED",                                       \
    "the dev cloud could not load its certificate and key")                    \
  X(kServeFailed, "SERVE_FAILED",                                              \
    "the dev cloud's HTTPS server stopped unexpectedly")                       \
  X(kCertGenerationFailed, "CERT_GENERATION_FAILED",                           \
    "OpenSSL could not make the dev cloud's certificates")                     \
  X(kBrokerStartFailed, "BROKER_START_FAILED",                                 \
    "the MQTT broker (mosquitto) did not start")                               \
  X(kBrokerReloadFailed, "BROKER_RELOAD_FAILED",                               \
    "the MQTT broker did not take new credentials in time")                    \
  X(kBrokerUnavailable, "BROKER_UNAVAILABLE",                                  \
    "the dev cloud could not publish through its broker")                      \
  X(kSubscriberFailed, "SUBSCRIBER_FAILED",                                    \
    "the dev cloud's MQTT subscriber could not connect or subscribe")          \
  X(kSubscriberNotReady, "SUBSCRIBER_NOT_READY",                               \
    "the dev cloud's MQTT subscriber is not listening yet")                    \
  X(kFaultInvalid, "FAULT_INVALID",                                            \
    "a fault injection request of the dev cloud is malformed")                 \
  X(kNotFound, "NOT_FOUND", "a file the dev cloud needs does not exist")       \
  X(kWriteFailed, "WRITE_FAILED", "a file could not be written")               \
  X(kPahoConnectFailed, "PAHO_CONNECT_FAILED",                                 \
    "the Paho MQTT client of the benchmarks could not connect")                \
  X(kPublishFailed, "PUBLISH_FAILED",                                          \
    "a benchmark publisher could not send a message")                          \
  X(kBatchTimeout, "BATCH_TIMEOUT",                                            \
    "a benchmark batch was not acknowledged in time")
// clang-format on

namespace reason {

#define CLOUDLINK_REASON_CONSTANT(constant, name, meaning) \
  inline constexpr Reason constant{name, meaning};
CLOUDLINK_REASONS(CLOUDLINK_REASON_CONSTANT)
#undef CLOUDLINK_REASON_CONSTANT

// Every reason above, in the order listed. Thread-safe.
absl::Span<const Reason* const> All();

// The reason called `name`, or nullptr when none is. Thread-safe.
const Reason* Find(absl::string_view name);

}  // namespace reason
}  // namespace cloudlink
