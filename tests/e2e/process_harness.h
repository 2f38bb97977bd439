// Running the real executables (frontdoor-gateway, frontdoor-connector-sim, frontdoor) as child
// processes for end-to-end tests over loopback.
#ifndef FRONTDOOR_TESTS_E2E_PROCESS_HARNESS_H_
#define FRONTDOOR_TESTS_E2E_PROCESS_HARNESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace frontdoor::testing {

// The path of a built executable, e.g. BinaryPath("gateway/frontdoor-gateway").
std::string BinaryPath(const std::string& relative);

// A child process with stdout and stderr appended to `log_path`. The destructor kills it (SIGKILL)
// if it still runs.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for the process to exit; returns its exit status (or 128+signal), nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Waits until `path` exists and is non-empty; returns its content or nullopt after `timeout`.
std::optional<std::string> WaitForFile(const std::string& path, absl::Duration timeout);

// Runs a command to completion (found on PATH unless the path is given), returning its exit status
// and stdout.
struct CommandResult {
  int exit_status = -1;
  std::string out;  // what it wrote on stdout
  std::string err;  // and on stderr
};
CommandResult RunCommand(const std::vector<std::string>& argv);

std::string ReadFileOrEmpty(const std::string& path);

// A TCP port on 127.0.0.1 that was free a moment ago (for processes that must be told theirs).
int FreePort();

// The value of `name` in one flat JSON line as the simulator records it (string or number text);
// empty when absent.
std::string JsonField(const std::string& line, const std::string& name);

}  // namespace frontdoor::testing

#endif  // FRONTDOOR_TESTS_E2E_PROCESS_HARNESS_H_
