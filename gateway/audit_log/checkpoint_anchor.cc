#include "gateway/audit_log/checkpoint_anchor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace frontdoor::gateway {

namespace {

// Writes `bytes` to `path` and syncs it; false with errno set on failure.
bool WriteSynced(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = errno;
      ::close(fd);
      errno = saved;
      return false;
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return synced;
}

// Syncs the directory holding `path`, so that a rename into it survives a power cut.
void SyncDirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

absl::StatusOr<frontdoor::v1::SignedCheckpoint> CheckpointFromJson(const std::string& json) {
  frontdoor::v1::SignedCheckpoint checkpoint;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (!google::protobuf::util::JsonStringToMessage(json, &checkpoint, options).ok()) {
    return absl::InvalidArgumentError(
        "not a signed checkpoint (JSON with treeSize, rootHashHex, time, signatureBase64)");
  }
  if (checkpoint.root_hash_hex().size() != 64 || checkpoint.signature_base64().empty()) {
    return absl::InvalidArgumentError("the checkpoint lacks its root hash or its signature");
  }
  return checkpoint;
}

absl::StatusOr<std::optional<frontdoor::v1::SignedCheckpoint>> CheckpointAnchor::Load() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<frontdoor::v1::SignedCheckpoint>();
    return absl::UnavailableError(absl::StrCat("cannot read the kept audit checkpoint ", path_, ": ", strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<frontdoor::v1::SignedCheckpoint> checkpoint = CheckpointFromJson(text.str());
  if (!checkpoint.ok()) {
    return absl::DataLossError(
        absl::StrCat("the kept audit checkpoint ", path_, " is damaged: ", checkpoint.status().message()));
  }
  return std::optional<frontdoor::v1::SignedCheckpoint>(*std::move(checkpoint));
}

absl::Status CheckpointAnchor::Keep(const frontdoor::v1::SignedCheckpoint& checkpoint) const {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  if (!google::protobuf::util::MessageToJsonString(checkpoint, &json, options).ok()) {
    return absl::InternalError("cannot write a checkpoint as JSON");
  }
  const std::string beside = path_ + ".new";
  if (!WriteSynced(beside, json) || ::rename(beside.c_str(), path_.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot keep the audit checkpoint in ", path_, ": ", strerror(errno)));
  }
  SyncDirectoryOf(path_);
  return absl::OkStatus();
}

}  // namespace frontdoor::gateway
