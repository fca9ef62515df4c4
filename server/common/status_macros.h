#pragma once

// Debian's Abseil (20220623) has no status macros; these are the two we use.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CL_STATUS_CONCAT_INNER_(a, b) a##b
#define CL_STATUS_CONCAT_(a, b) CL_STATUS_CONCAT_INNER_(a, b)

// Returns `expr`'s status from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    const ::absl::Status cl_status_ = (expr); \
    if (!cl_status_.ok()) return cl_status_;  \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value of a StatusOr or
// returns its status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr)                                         \
  CL_ASSIGN_OR_RETURN_IMPL_(CL_STATUS_CONCAT_(cl_statusor_, __LINE__), lhs, \
                            expr)

#define CL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) return statusor.status();        \
  lhs = std::move(statusor).value()
