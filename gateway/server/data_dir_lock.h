// DataDirLock: a gateway owns its data directory for as long as it runs. Two gateways on one
// directory would share one SQLite file and one audit signing key while each believed it was
// alone (duplicate detection and the audit head would be split between processes that never
// coordinate), so the second is refused at start, naming the first.
//
//   absl::StatusOr<DataDirLock> lock = DataDirLock::Acquire("/var/lib/frontdoor");
//   // held until `lock` is destroyed, or the process ends (the kernel lets go of it then, even
//   // after kill -9: no stale lock to clean up)
//
// The lock is flock(2) on DATA_DIR/frontdoor.lock, which holds the owner's pid for the message.
// Not thread-safe; one owner.
#ifndef FRONTDOOR_GATEWAY_SERVER_DATA_DIR_LOCK_H_
#define FRONTDOOR_GATEWAY_SERVER_DATA_DIR_LOCK_H_

#include <string>

#include "absl/status/statusor.h"

namespace frontdoor::gateway {

class DataDirLock {
 public:
  // Takes the lock of `data_dir` (which must exist). FAILED_PRECONDITION when another process holds
  // it (the message names its pid when known, and says what to do); UNAVAILABLE when the lock file
  // cannot be created or locked.
  static absl::StatusOr<DataDirLock> Acquire(const std::string& data_dir);

  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVER_DATA_DIR_LOCK_H_
