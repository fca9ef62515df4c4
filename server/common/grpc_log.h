#pragma once

// gRPC's own log lines ("E1206 ... ssl_transport_security.cc:1456] Handshake
// failed ...") go through our logger instead of raw to stderr, as
// "GRPC: message (file:line)". gRPC's errors are about one connection or one
// call, never the whole program, so they are logged as warnings; its info
// and debug lines (polling engine, subchannel connects) are our debug lines.

namespace cloudlink {

// Installs the routing and sets gRPC's own threshold from our log level
// (debug: gRPC's info lines too; otherwise only its errors), unless the
// GRPC_VERBOSITY environment variable chooses (its DEBUG is very chatty).
// Call once, before any gRPC object is made, after SetLogLevel.
void RouteGrpcLogsToOurLog();

}  // namespace cloudlink
