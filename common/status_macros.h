// Early-return helpers for absl::Status / absl::StatusOr, which Debian 12's Abseil (20220623) does
// not ship.
//
//   absl::StatusOr<Config> Load(const std::string& path) {
//     FRONTDOOR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     FRONTDOOR_RETURN_IF_ERROR(CheckNotEmpty(text));
//     return Parse(text);
//   }
#ifndef FRONTDOOR_COMMON_STATUS_MACROS_H_
#define FRONTDOOR_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define FRONTDOOR_RETURN_IF_ERROR(expr)                    \
  do {                                                     \
    ::absl::Status frontdoor_status_ = (expr);             \
    if (!frontdoor_status_.ok()) return frontdoor_status_; \
  } while (0)

#define FRONTDOOR_CONCAT_INNER_(a, b) a##b
#define FRONTDOOR_CONCAT_(a, b) FRONTDOOR_CONCAT_INNER_(a, b)

#define FRONTDOOR_ASSIGN_OR_RETURN(lhs, expr) \
  FRONTDOOR_ASSIGN_OR_RETURN_IMPL_(FRONTDOOR_CONCAT_(frontdoor_statusor_, __LINE__), lhs, expr)

#define FRONTDOOR_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                     \
  if (!statusor.ok()) return std::move(statusor).status();    \
  lhs = std::move(statusor).value()

#endif  // FRONTDOOR_COMMON_STATUS_MACROS_H_
