#pragma once

// The process's descriptor limit. Every API connection costs descriptors
// (three for a remote listener connection: the TCP socket and both ends of
// the pair that carries its plain text to gRPC), and a service manager's
// default soft limit (often 1024) is far below what the connection caps
// allow; the hard limit is the administrator's real ceiling.

#include <sys/resource.h>

namespace cloudlink::api {

// Raises RLIMIT_NOFILE's soft limit to its hard limit and returns the soft
// limit now in force. Logs one INFO line when it was raised, a WARNING when
// it could not be. Call once at start, before threads open descriptors.
rlim_t RaiseDescriptorLimit();

}  // namespace cloudlink::api
