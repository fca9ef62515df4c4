#pragma once

// libwebsockets' log, which is process-wide, routed into cloudlink's.

namespace cloudlink::transport {

// From the first call on, lws logs only errors, each as a cloudlink warning
// prefixed "LWS: " (lws error lines name hosts and states, never
// credentials). Later calls do nothing. Thread-safe.
void RouteLwsLogging();

}  // namespace cloudlink::transport
